"""Fixtures for the SQLite adapter tests: a database on `tmp_path`, its adapters, factories."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from toons.model import (
    Job,
    JobKey,
    JobStatus,
    Outcome,
    Toon,
    ToonResult,
    WorkItem,
    timestamp,
)
from toons.sqlite import Database, SqliteEventLog, SqliteJobStore, SqliteQueue, SqliteResultStore

_keys = itertools.count(1)
CREATED_AT = "2025-01-01T00:00:00.000Z"


@pytest.fixture
def db(tmp_path) -> Iterator[Database]:
    """A fresh engine database file, closed after the test."""
    database = Database(tmp_path / "toons.db")
    yield database
    database.close()


@pytest.fixture
def jobs(db: Database) -> SqliteJobStore:
    return SqliteJobStore(db)


@pytest.fixture
def results(db: Database) -> SqliteResultStore:
    return SqliteResultStore(db)


@pytest.fixture
def queue(db: Database) -> SqliteQueue:
    return SqliteQueue(db)


@pytest.fixture
def events(db: Database) -> SqliteEventLog:
    return SqliteEventLog(db)


@pytest.fixture
def new_key() -> Callable[..., JobKey]:
    """A job key no other call in this session returns."""

    def make(owner: str = "alice") -> JobKey:
        return JobKey(owner, f"JOB-SQL-{next(_keys):05d}")

    return make


@pytest.fixture
def make_toons() -> Callable[..., list[Toon]]:
    """`count` TEXT toons with indexes 0..count-1."""

    def make(count: int, type: str = "TEXT") -> list[Toon]:
        return [Toon(f"T-{i:05d}", type, {"content": f"toon {i}"}, i) for i in range(count)]

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
            request_digest="digest",
        )
        return replace(job, **changes)

    return make


@pytest.fixture
def make_items() -> Callable[[Job, list[Toon]], list[WorkItem]]:
    """The queue messages of a job's run."""

    def make(job: Job, toons: list[Toon]) -> list[WorkItem]:
        return [WorkItem(job.key, job.run, toon) for toon in toons]

    return make


@pytest.fixture
def stored_job(jobs, make_job, make_toons) -> Callable[..., tuple[Job, list[Toon]]]:
    """A job and its toons, already created in the job store."""

    def make(total: int = 3, **changes: Any) -> tuple[Job, list[Toon]]:
        job, toons = make_job(total, **changes), make_toons(total)
        assert jobs.create(job, toons) is None
        return job, toons

    return make


@pytest.fixture
def make_result() -> Callable[..., ToonResult]:
    """A PROCESSED result of toon `index` (FAILED ones carry a reason instead of data)."""

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
