"""Forged, tampered, stale and malformed bearer tokens are all refused with a 401.

Tokens are built by hand (`forge`), so each test changes exactly one thing in an
otherwise valid token; `test_a_hand_built_valid_token_is_accepted` shows the
baseline passes. Every refusal answers with the contract's words and a stable code:
`Token inválido` / INVALID_TOKEN, or `Token expirado` / TOKEN_EXPIRED for expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from functools import cache
from typing import Any

import pytest

from tests.security.conftest import AUDIENCE, ISSUER
from toons.bench.sample import sample_job

INVALID = {"error": "Token inválido", "code": "INVALID_TOKEN"}
EXPIRED = {"error": "Token expirado", "code": "TOKEN_EXPIRED"}
HS256 = {"alg": "HS256", "typ": "JWT"}
LEEWAY_S = 30


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(subject: Any = "user123", **changes: Any) -> dict[str, Any]:
    """Valid claims for an hour; a change set to `...` removes that claim."""
    now = int(time.time())
    base = {"sub": subject, "iat": now, "nbf": now, "exp": now + 3600, **changes}
    return {name: value for name, value in base.items() if value is not ...}


def forge(header: dict, payload: dict, key: bytes | None, digest=hashlib.sha256) -> str:
    """A compact JWS with an HMAC signature under `key` (no signature when None)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = b"" if key is None else hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(signature)}"


@cache
def rsa_public_pem() -> bytes:
    """The PEM of a fresh RSA public key (as a server using RS256 would publish)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def answer(backend, token: str, path: str = "/jobs"):
    return backend.client(token=token).request("GET", path)


def assert_refused(reply, body: dict = INVALID) -> None:
    assert reply.status == 401, reply.body
    assert reply.body == body
    assert reply.headers.get("www-authenticate") == "Bearer"


def test_a_hand_built_valid_token_is_accepted(backend):
    token = forge(HS256, claims(), backend.secret.encode())

    assert answer(backend, token).status == 200


@pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
def test_an_unsigned_token_is_refused(backend, alg):
    token = forge({"alg": alg, "typ": "JWT"}, claims(), None)

    assert_refused(answer(backend, token))


def test_an_unsigned_token_that_keeps_a_valid_signature_is_refused(backend):
    valid = forge(HS256, claims(), backend.secret.encode())
    head = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    token = ".".join([head, *valid.split(".")[1:]])

    assert_refused(answer(backend, token))


def test_an_rs256_header_with_an_hmac_signature_over_the_public_key_is_refused(backend):
    token = forge({"alg": "RS256", "typ": "JWT"}, claims(), rsa_public_pem())

    assert_refused(answer(backend, token))


def test_an_hs256_token_signed_with_an_rsa_public_key_as_secret_is_refused(backend):
    token = forge(HS256, claims(), rsa_public_pem())

    assert_refused(answer(backend, token))


def test_another_hmac_algorithm_with_the_right_key_is_refused(backend):
    token = forge({"alg": "HS512", "typ": "JWT"}, claims(), backend.secret.encode(), hashlib.sha512)

    assert_refused(answer(backend, token))


def test_a_token_signed_with_another_key_is_refused(backend):
    token = forge(HS256, claims(), b"not-the-server-secret-but-just-as-long-as-it")

    assert_refused(answer(backend, token))


def test_a_tampered_subject_under_the_original_signature_is_refused(backend, user):
    head, _, signature = forge(HS256, claims(user), backend.secret.encode()).split(".")
    token = f"{head}.{b64(json.dumps(claims('victim')).encode())}.{signature}"

    assert_refused(backend.client(token=token).submit(sample_job("TAMPERED", 1)))
    assert backend.client("victim").status("TAMPERED").status == 404


def test_an_expired_token_is_refused_as_expired(backend):
    past = int(time.time()) - 7200
    stale = claims(exp=int(time.time()) - LEEWAY_S - 60, iat=past, nbf=past)
    token = forge(HS256, stale, backend.secret.encode())

    assert_refused(answer(backend, token), EXPIRED)


def test_a_token_not_valid_before_a_future_moment_is_refused(backend):
    token = forge(HS256, claims(nbf=int(time.time()) + LEEWAY_S + 3600), backend.secret.encode())

    assert_refused(answer(backend, token))


def test_a_token_issued_in_the_future_beyond_the_leeway_is_refused(backend):
    token = forge(HS256, claims(iat=int(time.time()) + LEEWAY_S + 3600), backend.secret.encode())

    assert_refused(answer(backend, token))


def test_a_token_without_expiry_is_refused(backend):
    token = forge(HS256, claims(exp=...), backend.secret.encode())

    assert_refused(answer(backend, token))


@pytest.mark.parametrize(
    "subject",
    [..., "", "   ", None, 123, ["user123"], {"id": "user123"}, "u" * 129],
    ids=["missing", "empty", "blank", "null", "number", "list", "object", "too-long"],
)
def test_a_token_without_a_usable_subject_is_refused(backend, subject):
    token = forge(HS256, claims(subject), backend.secret.encode())

    assert_refused(answer(backend, token))


def test_an_oversized_token_is_refused(backend):
    token = forge(HS256, claims(padding="x" * 20_000), backend.secret.encode())

    assert len(token) > 20_000
    assert_refused(answer(backend, token))


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"iss": "https://someone-else.example", "aud": AUDIENCE},
        {"iss": ISSUER, "aud": "another-api"},
        {"iss": ISSUER},
        {"aud": AUDIENCE},
    ],
    ids=["neither", "wrong-issuer", "wrong-audience", "no-audience", "no-issuer"],
)
def test_a_token_for_another_issuer_or_audience_is_refused(strict_backend, changes):
    token = forge(HS256, claims(**changes), strict_backend.secret.encode())

    assert_refused(answer(strict_backend, token))


def test_a_token_with_the_required_issuer_and_audience_is_accepted(strict_backend):
    token = forge(HS256, claims(iss=ISSUER, aud=AUDIENCE), strict_backend.secret.encode())

    assert answer(strict_backend, token).status == 200
