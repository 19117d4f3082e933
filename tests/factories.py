"""Factories of jobs, toons, work items and results, shared by the adapter test suites.

Both stores' suites (SQLite and DynamoDB) build the same objects; `tests/sqlite` and
`tests/aws` load these fixtures through `pytest_plugins`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from toons.model import Job, JobKey, JobStatus, Outcome, Toon, ToonResult, WorkItem, timestamp

CREATED_AT = "2025-01-01T00:00:00.000Z"
_keys = itertools.count(1)


@pytest.fixture
def new_key() -> Callable[..., JobKey]:
    """A job key no other call in this session returns."""

    def make(owner: str = "alice") -> JobKey:
        return JobKey(owner, f"JOB-FAC-{next(_keys):05d}")

    return make


@pytest.fixture
def make_toons() -> Callable[..., list[Toon]]:
    """`count` toons with indexes 0..count-1, payloads padded to `size` characters."""

    def make(count: int, size: int = 0, tag: str = "toon", type: str = "TEXT") -> list[Toon]:
        padding = {"pad": "x" * size} if size else {}
        return [
            Toon(f"T-{i:05d}", type, {"content": f"{tag} {i}", **padding}, i) for i in range(count)
        ]

    return make


@pytest.fixture
def make_job(new_key) -> Callable[..., Job]:
    """A Pending job of `total` toons (a fresh key unless one is given)."""

    def make(total: int = 3, key: JobKey | None = None, **changes: Any) -> Job:
        job = Job(
            key=key or new_key(),
            status=JobStatus.PENDING,
            total=total,
            created_at=CREATED_AT,
            updated_at=CREATED_AT,
            request_digest="digest-a",
        )
        return replace(job, **changes)

    return make


@pytest.fixture
def stored_job(jobs, make_job, make_toons) -> Callable[..., tuple[Job, list[Toon]]]:
    """A job and its toons, already created in the suite's job store (`jobs`)."""

    def make(total: int = 3, **changes: Any) -> tuple[Job, list[Toon]]:
        job, toons = make_job(total, **changes), make_toons(total)
        assert jobs.create(job, toons) is None
        return job, toons

    return make


@pytest.fixture
def make_items() -> Callable[[Job, list[Toon]], list[WorkItem]]:
    """The queue messages of a job's run."""

    def make(job: Job, toons: list[Toon]) -> list[WorkItem]:
        return [WorkItem(job.key, job.run, toon) for toon in toons]

    return make


@pytest.fixture
def make_result() -> Callable[..., ToonResult]:
    """A result of toon `index`: PROCESSED with data, or FAILED with a reason."""

    def make(
        key: JobKey, index: int, outcome: Outcome = Outcome.PROCESSED, **changes: Any
    ) -> ToonResult:
        processed = outcome is Outcome.PROCESSED
        result = ToonResult(
            key=key,
            run=1,
            index=index,
            toon_id=f"T-{index:05d}",
            type="TEXT",
            outcome=outcome,
            processed_at=timestamp(),
            duration_ms=1.5,
            fingerprint=f"{index:064x}" if processed else None,
            is_valid=processed,
            processed_data={"toonId": f"T-{index:05d}", "n": index} if processed else None,
            error=None if processed else "RuntimeError: boom",
            attempts=0 if processed else 5,
        )
        return replace(result, **changes)

    return make
