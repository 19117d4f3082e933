"""Opaque page tokens and page sizes for the listing routes.

A token is the base64url of a small JSON position. It carries no secret: the listing
is always scoped to the caller's own job or jobs, so a forged token can only move
within what the caller may read anyway. A token that does not decode to a position of
the expected shape is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from toons.config import Limits
from toons.errors import InvalidInput
from toons.ports import Position

MAX_TOKEN_CHARS = 2048


def _bad_token() -> InvalidInput:
    return InvalidInput(
        "INVALID_NEXT_TOKEN", "Parameter 'nextToken' is not a valid token", "nextToken"
    )


def encode(position: Position | None) -> str | None:
    """The opaque token for a position (None stays None)."""
    if position is None:
        return None
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str | None, shape: dict[str, type]) -> Position | None:
    """The position in a token, checked against `shape` (field name -> type)."""
    if token is None:
        return None
    if len(token) > MAX_TOKEN_CHARS:
        raise _bad_token()
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        position = json.loads(raw)
    except (ValueError, binascii.Error, RecursionError):
        raise _bad_token() from None
    if not _fits(position, shape):
        raise _bad_token()
    return position


def _fits(position: Any, shape: dict[str, type]) -> bool:
    if not isinstance(position, dict) or set(position) != set(shape):
        return False
    return all(
        isinstance(position[name], kind) and not isinstance(position[name], bool)
        for name, kind in shape.items()
    )


def page_size(raw: str | None, limits: Limits) -> int:
    """The `limit` query parameter: 1..max_page_size, default default_page_size."""
    if raw is None:
        return limits.default_page_size
    valid = raw.isascii() and raw.isdigit() and len(raw) <= 7
    if not valid or not 1 <= int(raw) <= limits.max_page_size:
        raise InvalidInput(
            "INVALID_LIMIT",
            f"Parameter 'limit' must be a whole number from 1 to {limits.max_page_size}",
            "limit",
        )
    return int(raw)
