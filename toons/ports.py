"""The ports: what the core needs from storage, queueing and publishing.

Each backend (`toons.sqlite`, `toons.aws`) implements these; the core imports none of
them. Every write here is idempotent or conditional, so any call may be repeated after
a crash without changing the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from toons.model import Event, Job, JobKey, JobSummary, Toon, ToonResult, WorkItem

T = TypeVar("T")

# A position in a listing, as plain JSON-able data: {"index": 7} for results,
# {"createdAt": ..., "jobId": ...} for jobs. The service turns it into an opaque token.
Position = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing and where the next one starts (None at the end)."""

    items: list[T]
    next_position: Position | None = None


class JobStore(Protocol):
    """Jobs with their tallies, the toons they hold, and the per-user projection."""

    def create(self, job: Job, toons: Sequence[Toon]) -> Job | None:
        """Store a new job and its toons; None when stored.

        If the key exists, nothing is written and the stored job is returned instead.
        """
        ...

    def get(self, key: JobKey) -> Job | None:
        """The job, or None."""
        ...

    def toons(self, key: JobKey) -> list[Toon]:
        """The job's toons in index order."""
        ...

    def finish_fan_out(self, key: JobKey, now: str) -> None:
        """Move the job from Pending to Processing; no-op in any other status."""
        ...

    def save(self, job: Job, expected_version: int) -> None:
        """Replace the job if its stored version is `expected_version`.

        Raises `StoreConflict` when another write got there first.
        """
        ...

    def open_jobs(self, updated_before: str) -> list[JobKey]:
        """Jobs not yet terminal whose last write is older than `updated_before`."""
        ...

    def project(self, summary: JobSummary) -> None:
        """Upsert a row of the owner's job list unless a newer version is stored."""
        ...

    def list_jobs(self, owner: str, limit: int, after: Position | None) -> Page[JobSummary]:
        """The owner's jobs, newest first."""
        ...


class ResultStore(Protocol):
    """One result per (job, toon)."""

    def put(self, results: Sequence[ToonResult]) -> None:
        """Store results; an existing result stays unless the new one supersedes it."""
        ...

    def list(self, key: JobKey, limit: int, after: Position | None) -> Page[ToonResult]:
        """The job's results in toon order."""
        ...


class WorkQueue(Protocol):
    """Where toons wait for a worker."""

    def enqueue(self, items: Sequence[WorkItem]) -> None:
        """Send every item; raise if any could not be sent."""
        ...


class EventPublisher(Protocol):
    """Where completion and status events go (and are archived)."""

    def publish(self, events: Sequence[Event]) -> None:
        """Publish every event; raise if any could not be published."""
        ...


@dataclass(slots=True)
class Ports:
    """The adapters a service runs on."""

    jobs: JobStore
    results: ResultStore
    queue: WorkQueue
    events: EventPublisher
