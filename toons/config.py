"""Settings read once, in one place, from the environment (with documented defaults).

Every setting has a `TOONS_` environment variable; `toons local` flags override them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may hold; past a limit the request is refused whole."""

    max_body_bytes: int = 6 * 1024 * 1024
    max_toons: int = 10_000
    max_payload_bytes: int = 64 * 1024
    max_id_length: int = 128
    max_page_size: int = 1_000
    default_page_size: int = 100


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """How bearer tokens are checked."""

    secret: str | None = None
    issuer: str | None = None
    audience: str | None = None
    leeway_s: float = 30.0
    max_token_bytes: int = 8 * 1024


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """The embedded engine's knobs."""

    data_dir: Path = Path(".toons")
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    batch_size: int = 100
    visibility_timeout_s: float = 30.0
    max_receives: int = 5


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def limits_from_env() -> Limits:
    """Limits with `TOONS_MAX_*` overrides."""
    defaults = Limits()
    return Limits(
        max_body_bytes=_int("TOONS_MAX_BODY_BYTES", defaults.max_body_bytes),
        max_toons=_int("TOONS_MAX_TOONS", defaults.max_toons),
        max_payload_bytes=_int("TOONS_MAX_PAYLOAD_BYTES", defaults.max_payload_bytes),
    )


def auth_from_env() -> AuthSettings:
    """Token settings from `TOONS_JWT_SECRET`, `TOONS_JWT_ISSUER`, `TOONS_JWT_AUDIENCE`."""
    return AuthSettings(
        secret=os.environ.get("TOONS_JWT_SECRET") or None,
        issuer=os.environ.get("TOONS_JWT_ISSUER") or None,
        audience=os.environ.get("TOONS_JWT_AUDIENCE") or None,
        leeway_s=float(os.environ.get("TOONS_JWT_LEEWAY_S", "30")),
    )
