"""Bearer JWTs: HS256 only, `exp` required, `nbf`/`iat` with leeway, `iss`/`aud` when set.

The token's `sub` is the caller's userId. Every failure is one of three answers, using
the contract's strings: no header, an invalid token, or an expired one.
"""

from __future__ import annotations

import time
from typing import Any

from toons.config import AuthSettings
from toons.errors import Unauthorized

ALGORITHMS = ["HS256"]
MAX_SUBJECT_CHARS = 128


def missing_header() -> Unauthorized:
    """No usable Authorization header."""
    return Unauthorized("MISSING_AUTHORIZATION", "Header Authorization no presente")


def invalid_token() -> Unauthorized:
    """A token that does not verify, whatever the reason."""
    return Unauthorized("INVALID_TOKEN", "Token inválido")


def expired_token() -> Unauthorized:
    """A token past its `exp` (plus leeway)."""
    return Unauthorized("TOKEN_EXPIRED", "Token expirado")


def bearer_token(header: str | None, settings: AuthSettings) -> str:
    """The token in an `Authorization: Bearer <token>` header."""
    if header is None or not header.strip():
        raise missing_header()
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > settings.max_token_bytes:
        raise invalid_token()
    return token


def verify(token: str, settings: AuthSettings) -> str:
    """Check a token and return its subject (the userId)."""
    if not settings.secret:
        raise RuntimeError("no JWT secret configured")
    import jwt  # PyJWT pulls in `cryptography` when installed: kept off the import path

    try:
        claims = jwt.decode(
            token,
            settings.secret,
            algorithms=ALGORITHMS,
            issuer=settings.issuer,
            audience=settings.audience,
            leeway=settings.leeway_s,
            options={
                "require": ["exp", "sub"],
                "verify_iss": settings.issuer is not None,
                "verify_aud": settings.audience is not None,
            },
        )
    except jwt.ExpiredSignatureError:
        raise expired_token() from None
    except jwt.PyJWTError:
        raise invalid_token() from None
    return _subject(claims)


def _subject(claims: dict[str, Any]) -> str:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > MAX_SUBJECT_CHARS:
        raise invalid_token()
    return subject


def authenticate(header: str | None, settings: AuthSettings) -> str:
    """The userId behind an Authorization header, or `Unauthorized`."""
    return verify(bearer_token(header, settings), settings)


def mint(
    subject: str,
    secret: str,
    ttl_s: float = 3600,
    issuer: str | None = None,
    audience: str | None = None,
) -> str:
    """A signed token for `subject`, valid for `ttl_s` seconds from now."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": subject, "iat": now, "nbf": now, "exp": now + int(ttl_s)}
    if issuer:
        claims["iss"] = issuer
    if audience:
        claims["aud"] = audience
    import jwt

    return jwt.encode(claims, secret, algorithm="HS256")


def parse_ttl(text: str) -> float:
    """A duration such as `90`, `90s`, `15m`, `1h` or `7d`, in seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    scale = units.get(text[-1:])
    number = text[:-1] if scale else text
    if not number.replace(".", "", 1).isdigit() or float(number) <= 0:
        raise ValueError(f"not a duration: {text!r} (use 90s, 15m, 1h or 7d)")
    return float(number) * (scale or 1)
