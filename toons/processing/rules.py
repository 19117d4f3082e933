"""Small helpers the built-in toon types share to read untrusted payload values."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

LOW, MEDIUM, HIGH = "LOW", "MEDIUM", "HIGH"


def number(payload: dict[str, Any], name: str) -> float | None:
    """The field as a finite number, or None when absent or not a number."""
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value) if math.isfinite(value) else None
    except OverflowError:  # an integer too large for a float (JSON allows 4,300 digits)
        return None


def stripped(payload: dict[str, Any], *names: str, lower: tuple[str, ...] = ()) -> dict[str, Any]:
    """A copy with the named string fields stripped, and those in `lower` lower-cased."""
    result = dict(payload)
    for name in names:
        value = result.get(name)
        if isinstance(value, str):
            value = value.strip()
            result[name] = value.lower() if name in lower else value
    return result


def check_url(payload: dict[str, Any], name: str = "url") -> list[str]:
    """Problems with a required http(s) URL field."""
    value = payload.get(name)
    if value is None:
        return [f"'{name}' is required"]
    if not isinstance(value, str):
        return [f"'{name}' must be a string"]
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. "http://[" (bad IPv6) or a netloc that changes under NFKC
        return [f"'{name}' must be an http or https URL"]
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return [f"'{name}' must be an http or https URL"]
    return []


def check_positive(
    payload: dict[str, Any], name: str, maximum: float, *, integer: bool, required: bool
) -> list[str]:
    """Problems with a numeric field that must be in (0, maximum]."""
    value = payload.get(name)
    if value is None:
        return [f"'{name}' is required"] if required else []
    kind = "an integer" if integer else "a number"
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if not is_number or (integer and not isinstance(value, int)):
        return [f"'{name}' must be {kind}"]
    if not 0 < value <= maximum:
        return [f"'{name}' must be greater than 0 and at most {maximum:g}"]
    return []


def check_choice(payload: dict[str, Any], name: str, choices: frozenset[str]) -> list[str]:
    """Problems with an optional field that must be one of `choices`."""
    value = payload.get(name)
    # Only a string can be a choice; `in` would raise for unhashable JSON (lists, objects).
    if value is None or (isinstance(value, str) and value in choices):
        return []
    return [f"'{name}' must be one of {', '.join(sorted(choices))}"]


def grade(value: float | None, medium_from: float, high_from: float) -> str:
    """LOW below `medium_from`, HIGH from `high_from`, MEDIUM between; LOW when unknown."""
    if value is None or value < medium_from:
        return LOW
    return MEDIUM if value < high_from else HIGH
