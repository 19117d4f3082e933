"""Reading and checking a submitted job, before anything is stored.

Every rule failure raises `InvalidInput` or `LimitExceeded` naming the field, so a
rejected job leaves no trace. Fields a client must not set (`status`, `userId`,
counters, timestamps) are not read at all: the stored job is built only from `jobId`
and `toons`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from toons.config import Limits
from toons.errors import InvalidInput, LimitExceeded
from toons.model import Toon
from toons.processing import Registry, canonical_json

ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]+")


@dataclass(frozen=True, slots=True)
class JobRequest:
    """A checked submission: its toons in order and a digest of its content."""

    job_id: str
    toons: tuple[Toon, ...]
    digest: str


def missing(field: str) -> InvalidInput:
    """The error for a required field that is absent (the contract's wording)."""
    return InvalidInput("MISSING_FIELD", f"Campo '{field}' requerido", field)


def check_id(value: Any, field: str, limits: Limits) -> str:
    """An id: a string of 1..max_id_length characters from [A-Za-z0-9._:-]."""
    if value is None:
        raise missing(field)
    if not isinstance(value, str):
        raise InvalidInput("INVALID_FIELD", f"Field '{field}' must be a string", field)
    if len(value) > limits.max_id_length or not ID_PATTERN.fullmatch(value):
        raise InvalidInput(
            "INVALID_ID",
            f"Field '{field}' must be 1 to {limits.max_id_length} characters "
            "from A-Z, a-z, 0-9, '.', '_', ':' and '-'",
            field,
        )
    return value


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def decode_body(body: bytes, limits: Limits) -> dict[str, Any]:
    """The body as a JSON object, within the size limit."""
    if len(body) > limits.max_body_bytes:
        raise LimitExceeded(
            "BODY_TOO_LARGE", f"Body is larger than the limit of {limits.max_body_bytes} bytes"
        )
    try:
        data = json.loads(body, parse_float=_finite, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise InvalidInput("INVALID_JSON", f"Body is not valid JSON: {reason}") from None
    if not isinstance(data, dict):
        raise InvalidInput("INVALID_BODY", "Body must be a JSON object")
    return data


def _toon_list(data: dict[str, Any], limits: Limits) -> list[Any]:
    toons = data.get("toons")
    if toons is None:
        raise missing("toons")
    if not isinstance(toons, list):
        raise InvalidInput("INVALID_FIELD", "Field 'toons' must be a list", "toons")
    if not toons:
        raise InvalidInput("INVALID_FIELD", "Field 'toons' must hold at least one toon", "toons")
    if len(toons) > limits.max_toons:
        raise InvalidInput(
            "TOO_MANY_TOONS",
            f"A job holds at most {limits.max_toons} toons; this one has {len(toons)}",
            "toons",
        )
    return toons


def _toon_type(value: Any, field: str, registry: Registry) -> str:
    if value is None:
        raise missing(field)
    if not isinstance(value, str):
        raise InvalidInput("INVALID_FIELD", f"Field '{field}' must be a string", field)
    kind = registry.get(value.strip())
    if kind is None:
        known = ", ".join(registry.names())
        raise InvalidInput(
            "UNKNOWN_TOON_TYPE", f"Field '{field}' is {value!r}, not one of: {known}", field
        )
    return kind.name


def _payload(value: Any, field: str, limits: Limits) -> tuple[dict[str, Any], bytes]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise InvalidInput("INVALID_FIELD", f"Field '{field}' must be a JSON object", field)
    try:
        encoded = canonical_json(value)
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") is valid JSON but not UTF-8
        raise InvalidInput(
            "INVALID_FIELD", f"Field '{field}' holds text that is not valid Unicode", field
        ) from None
    if len(encoded) > limits.max_payload_bytes:
        raise LimitExceeded(
            "TOON_PAYLOAD_TOO_LARGE",
            f"Field '{field}' is {len(encoded)} bytes; the limit is "
            f"{limits.max_payload_bytes} bytes",
            field,
        )
    return value, encoded


def _toon(raw: Any, index: int, limits: Limits, registry: Registry) -> tuple[Toon, bytes]:
    where = f"toons[{index}]"
    if not isinstance(raw, dict):
        raise InvalidInput("INVALID_FIELD", f"Field '{where}' must be a JSON object", where)
    toon_id = check_id(raw.get("toonId"), f"{where}.toonId", limits)
    toon_type = _toon_type(raw.get("type"), f"{where}.type", registry)
    payload, encoded = _payload(raw.get("payload"), f"{where}.payload", limits)
    return Toon(toon_id, toon_type, payload, index), encoded


def parse_submission(body: bytes, limits: Limits, registry: Registry) -> JobRequest:
    """Check a `POST /submit-job` body and return the job it asks for."""
    data = decode_body(body, limits)
    job_id = check_id(data.get("jobId"), "jobId", limits)
    raw_toons = _toon_list(data, limits)

    digest = hashlib.sha256(f"{len(job_id)}:{job_id}".encode())
    toons, seen = [], {}
    for index, raw in enumerate(raw_toons):
        toon, encoded_payload = _toon(raw, index, limits, registry)
        if toon.toon_id in seen:
            raise InvalidInput(
                "DUPLICATE_TOON_ID",
                f"Field 'toons[{index}].toonId' repeats '{toon.toon_id}' "
                f"from toons[{seen[toon.toon_id]}]",
                f"toons[{index}].toonId",
            )
        seen[toon.toon_id] = index
        toons.append(toon)
        # Length-prefixed fields, so no two different jobs frame to the same bytes.
        digest.update(
            f"{len(toon.toon_id)}:{toon.toon_id}{len(toon.type)}:{toon.type}"
            f"{len(encoded_payload)}:".encode()
        )
        digest.update(encoded_payload)

    return JobRequest(job_id, tuple(toons), digest.hexdigest())
