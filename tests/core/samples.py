"""Shared builders for the core tests: the seed's toons, request bodies, a steady clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings

from toons.model import JobKey, Toon, WorkItem, timestamp
from toons.ports import Ports
from toons.processing import image, text, video
from toons.processing.registry import Registry
from toons.service import ToonService

# 64 bytes: long enough that PyJWT does not warn even when a test signs with HS512.
SECRET = "core-tests-secret-" + "0123456789abcdef" * 3
OTHER_SECRET = "someone-elses-key-" + "fedcba9876543210" * 3

SEED_IMAGE = {
    "toonId": "TOON-001",
    "type": "IMAGE",
    "payload": {
        "url": "https://picsum.photos/1920/1080",
        "width": 1920,
        "height": 1080,
        "format": "jpeg",
    },
}
SEED_VIDEO = {
    "toonId": "TOON-002",
    "type": "VIDEO",
    "payload": {"url": "https://example.com/video.mp4", "duration": 120, "resolution": "1080p"},
}
SEED_TEXT = {
    "toonId": "TOON-003",
    "type": "TEXT",
    "payload": {"content": "Este es un texto de prueba", "language": "es"},
}
SEED_TOONS = [SEED_IMAGE, SEED_VIDEO, SEED_TEXT]
DEFAULT_KEY = JobKey("user-1", "JOB-1")

# Hypothesis keeps no example database here: core tests touch no files.
QUICK = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def builtin_registry() -> Registry:
    """The three built-in types and nothing an installed plugin might add."""
    return Registry([image.IMAGE, video.VIDEO, text.TEXT])


def body(job_id: str, toons: list[Any] | None = None, **extra: Any) -> bytes:
    """A `POST /submit-job` body (the seed's three toons by default)."""
    document = {"jobId": job_id, "toons": SEED_TOONS if toons is None else toons, **extra}
    return json.dumps(document).encode()


def toon(toon_id: str, kind: str = "TEXT", payload: Any = None) -> dict[str, Any]:
    """One toon of a request body."""
    return {"toonId": toon_id, "type": kind, "payload": payload or {"content": toon_id}}


def work_item(
    kind: str,
    payload: dict[str, Any],
    toon_id: str = "TOON-1",
    index: int = 0,
    key: JobKey = DEFAULT_KEY,
    run: int = 1,
) -> WorkItem:
    """A queued toon, as a worker receives it."""
    return WorkItem(key, run, Toon(toon_id, kind, payload, index))


class Clock:
    """Timestamps one second apart, from a fixed start, so every write is ordered."""

    def __init__(self, start: datetime = datetime(2025, 11, 27, 20, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> str:
        self.now += timedelta(seconds=1)
        return timestamp(self.now)


def settle(service: ToonService, ports: Ports) -> None:
    """Do in-line what the engine's loops do: work the queue, count, project."""
    service.process_batch(ports.queue.take())
    service.record_completions([event.completion() for event in ports.events.toon_events()])
    service.project(ports.jobs.take_changes())
