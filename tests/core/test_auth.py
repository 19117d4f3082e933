"""Bearer JWTs: only a well-formed, unexpired HS256 token with a subject gets in."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from tests.core.samples import OTHER_SECRET, SECRET
from toons import auth
from toons.config import AuthSettings
from toons.errors import Unauthorized

SETTINGS = AuthSettings(secret=SECRET)
STRICT = AuthSettings(secret=SECRET, issuer="https://issuer.test", audience="toons-api")


def signed(claims: dict[str, Any], key: Any = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": "alice", "iat": now, "nbf": now, "exp": now + 600}
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def refused(header: str | None, settings: AuthSettings = SETTINGS) -> Unauthorized:
    with pytest.raises(Unauthorized) as caught:
        auth.authenticate(header, settings)
    return caught.value


def assert_invalid(error: Unauthorized) -> None:
    assert (error.code, error.message) == ("INVALID_TOKEN", "Token inválido")


def test_a_valid_token_returns_its_subject() -> None:
    assert auth.authenticate(f"Bearer {auth.mint('alice', SECRET)}", SETTINGS) == "alice"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_bearer_scheme_is_case_insensitive(scheme: str) -> None:
    assert auth.authenticate(f"{scheme} {auth.mint('alice', SECRET)}", SETTINGS) == "alice"


def test_spaces_around_the_token_are_tolerated() -> None:
    assert auth.authenticate(f"  Bearer   {auth.mint('bob', SECRET)}  ", SETTINGS) == "bob"


@pytest.mark.parametrize("header", [None, "", "   "])
def test_a_missing_header_is_missing_authorization(header: str | None) -> None:
    error = refused(header)

    assert (error.code, error.message) == (
        "MISSING_AUTHORIZATION",
        "Header Authorization no presente",
    )


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer    ", "Basic dXNlcjpwYXNz", "Token abc", "abc.def.ghi", "Bearerabc.def.ghi"],
)
def test_a_header_that_is_not_a_bearer_token_is_invalid(header: str) -> None:
    assert_invalid(refused(header))


@pytest.mark.parametrize("token", ["abc", "a.b.c", "e30.e30.", "....", "Bearer x"])
def test_a_malformed_token_is_invalid(token: str) -> None:
    assert_invalid(refused(f"Bearer {token}"))


def test_an_expired_token_is_token_expired() -> None:
    error = refused(f"Bearer {signed(claims(exp=int(time.time()) - 120))}")

    assert (error.code, error.message) == ("TOKEN_EXPIRED", "Token expirado")


def test_a_token_expired_within_the_leeway_is_accepted() -> None:
    token = signed(claims(exp=int(time.time()) - 5))

    assert auth.authenticate(f"Bearer {token}", SETTINGS) == "alice"


def test_a_minted_token_with_a_negative_ttl_is_expired() -> None:
    error = refused(f"Bearer {auth.mint('alice', SECRET, ttl_s=-120)}")

    assert error.code == "TOKEN_EXPIRED"


def test_an_unsigned_token_with_alg_none_is_invalid() -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=").decode()

    assert_invalid(refused(f"Bearer {header}.{body}."))


def test_an_alg_none_token_built_by_pyjwt_is_invalid() -> None:
    assert_invalid(refused(f"Bearer {signed(claims(), key=None, algorithm='none')}"))


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_hmac_algorithms_are_invalid(algorithm: str) -> None:
    assert_invalid(refused(f"Bearer {signed(claims(), algorithm=algorithm)}"))


def test_an_rs256_token_is_invalid() -> None:
    rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    assert_invalid(refused(f"Bearer {signed(claims(), key=private, algorithm='RS256')}"))


def test_an_rs256_header_over_an_hmac_signature_is_invalid() -> None:
    head = base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').rstrip(b"=").decode()
    _, body, _ = auth.mint("alice", SECRET).split(".")
    signature = jwt.api_jws.get_algorithm_by_name("HS256").sign(
        f"{head}.{body}".encode(), SECRET.encode()
    )
    encoded = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()

    assert_invalid(refused(f"Bearer {head}.{body}.{encoded}"))


def test_a_token_signed_with_another_key_is_invalid() -> None:
    assert_invalid(refused(f"Bearer {auth.mint('alice', OTHER_SECRET)}"))


def test_a_token_with_a_tampered_payload_is_invalid() -> None:
    head, _, signature = auth.mint("alice", SECRET).split(".")
    forged = base64.urlsafe_b64encode(json.dumps(claims(sub="admin")).encode()).rstrip(b"=")

    assert_invalid(refused(f"Bearer {head}.{forged.decode()}.{signature}"))


def test_a_token_with_a_tampered_signature_is_invalid() -> None:
    token = auth.mint("alice", SECRET)
    flipped = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")

    assert_invalid(refused(f"Bearer {flipped}"))


def test_a_token_not_yet_valid_is_invalid() -> None:
    assert_invalid(refused(f"Bearer {signed(claims(nbf=int(time.time()) + 600))}"))


def test_a_token_issued_in_the_future_beyond_the_leeway_is_invalid() -> None:
    assert_invalid(refused(f"Bearer {signed(claims(iat=int(time.time()) + 600, nbf=None))}"))


def test_a_token_issued_slightly_in_the_future_is_accepted() -> None:
    token = signed(claims(iat=int(time.time()) + 5, nbf=None))

    assert auth.authenticate(f"Bearer {token}", SETTINGS) == "alice"


def test_a_token_without_exp_is_invalid() -> None:
    assert_invalid(refused(f"Bearer {signed(claims(exp=None))}"))


@pytest.mark.parametrize("exp", ["tomorrow", [1], {"at": 1}])
def test_a_token_with_a_malformed_exp_is_invalid(exp: Any) -> None:
    assert_invalid(refused(f"Bearer {signed(claims(exp=exp))}"))


def test_a_token_without_sub_is_invalid() -> None:
    assert_invalid(refused(f"Bearer {signed(claims(sub=None))}"))


@pytest.mark.parametrize("subject", ["", "   ", 42, ["alice"], "a" * 129])
def test_a_token_with_an_empty_or_unusable_sub_is_invalid(subject: Any) -> None:
    assert_invalid(refused(f"Bearer {signed(claims(sub=subject))}"))


def test_a_subject_of_128_characters_is_accepted() -> None:
    assert auth.authenticate(f"Bearer {auth.mint('a' * 128, SECRET)}", SETTINGS) == "a" * 128


def test_issuer_and_audience_are_accepted_when_they_match() -> None:
    token = auth.mint("alice", SECRET, issuer="https://issuer.test", audience="toons-api")

    assert auth.authenticate(f"Bearer {token}", STRICT) == "alice"


@pytest.mark.parametrize(
    ("issuer", "audience"),
    [
        ("https://evil.test", "toons-api"),
        (None, "toons-api"),
        ("https://issuer.test", "other-api"),
        ("https://issuer.test", None),
    ],
)
def test_a_wrong_or_missing_issuer_or_audience_is_invalid(
    issuer: str | None, audience: str | None
) -> None:
    token = auth.mint("alice", SECRET, issuer=issuer, audience=audience)

    assert_invalid(refused(f"Bearer {token}", STRICT))


def test_issuer_and_audience_are_not_checked_when_not_configured() -> None:
    token = auth.mint("alice", SECRET, issuer="anyone", audience="anything")

    assert auth.authenticate(f"Bearer {token}", SETTINGS) == "alice"


def test_an_oversized_token_is_invalid_before_decoding() -> None:
    token = signed(claims(padding="x" * 9000))

    assert_invalid(refused(f"Bearer {token}"))


def test_the_token_size_limit_is_configurable() -> None:
    token = auth.mint("alice", SECRET)
    small = AuthSettings(secret=SECRET, max_token_bytes=len(token) - 1)

    assert_invalid(refused(f"Bearer {token}", small))


def test_verifying_without_a_configured_secret_is_a_configuration_error() -> None:
    with pytest.raises(RuntimeError, match="no JWT secret"):
        auth.authenticate(f"Bearer {auth.mint('alice', SECRET)}", AuthSettings())


def test_mint_sets_sub_iat_nbf_and_exp_from_the_ttl() -> None:
    decoded = jwt.decode(auth.mint("alice", SECRET, ttl_s=90), SECRET, algorithms=["HS256"])

    assert decoded["sub"] == "alice"
    assert decoded["exp"] - decoded["iat"] == 90
    assert decoded["nbf"] == decoded["iat"]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("15m", 900), ("1h", 3600), ("7d", 604_800), (" 2H ", 7200)],
)
def test_parse_ttl_reads_durations(text: str, seconds: float) -> None:
    assert auth.parse_ttl(text) == seconds


def test_parse_ttl_reads_fractions() -> None:
    assert auth.parse_ttl("1.5h") == 5400


@pytest.mark.parametrize("text", ["", "h", "0", "0s", "-5m", "1w", "abc", "1.2.3s", "1e3"])
def test_parse_ttl_refuses_what_is_not_a_positive_duration(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        auth.parse_ttl(text)
