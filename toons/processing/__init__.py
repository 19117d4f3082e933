"""Processing one toon: normalise, validate, enrich, fingerprint and time it.

`process_toon` is a pure function of the toon and the processor version apart from
`processedAt` and `durationMs`; the fingerprint is the SHA-256 of the canonical JSON of
the processed toon (`processedData`), so both backends compute the same one.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from toons.model import Outcome, ToonResult, WorkItem, timestamp
from toons.processing.registry import Registry, ToonType, default_registry

PROCESSOR_VERSION = "1.0"

__all__ = [
    "PROCESSOR_VERSION",
    "Registry",
    "ToonType",
    "UnknownToonType",
    "canonical_json",
    "default_registry",
    "fingerprint",
    "process_toon",
]


class UnknownToonType(LookupError):
    """A queued toon names a type no installed processor handles."""


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> bytes:
    """The one byte form of a JSON value: sorted keys, no spaces, UTF-8."""
    return _CANONICAL.encode(value).encode()


def fingerprint(processed: dict[str, Any]) -> str:
    """SHA-256 hex digest of the canonical JSON of a processed toon."""
    return hashlib.sha256(canonical_json(processed)).hexdigest()


def _processed_data(item: WorkItem, kind: ToonType, version: str) -> tuple[dict[str, Any], list]:
    toon = item.toon
    payload = kind.normalise(toon.payload)
    problems = kind.validate(payload)
    data = {
        "toonId": toon.toon_id,
        "type": kind.name,
        "payload": payload,
        "metadata": {
            "originalSize": len(canonical_json(toon.to_dict())),
            "hasPayload": bool(toon.payload),
        },
        "enrichment": {
            "processedBy": f"ToonProcessor-v{version}",
            "complexity": kind.complexity(payload),
            "category": kind.category,
        },
    }
    return data, problems


def process_toon(
    item: WorkItem, registry: Registry | None = None, version: str = PROCESSOR_VERSION
) -> ToonResult:
    """Process one queued toon into its result.

    Raises only if the toon's type is unknown or a plugin misbehaves; the caller then
    retries the toon and, in the end, dead-letters it.
    """
    kind = (registry or default_registry()).get(item.toon.type)
    if kind is None:
        raise UnknownToonType(f"no processor for toon type {item.toon.type!r}")

    started = time.perf_counter_ns()
    data, problems = _processed_data(item, kind, version)
    encoded = canonical_json(data)

    return ToonResult(
        key=item.key,
        run=item.run,
        index=item.toon.index,
        toon_id=item.toon.toon_id,
        type=kind.name,
        outcome=Outcome.PROCESSED,
        processed_at=timestamp(),
        duration_ms=round((time.perf_counter_ns() - started) / 1e6, 3),
        fingerprint=hashlib.sha256(encoded).hexdigest(),
        is_valid=not problems,
        validation_errors=tuple(problems),
        processed_data=data,
        processed_json=encoded.decode(),
    )
