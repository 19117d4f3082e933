"""In-memory fakes of the four ports, keeping the contracts written in `toons.ports`.

They hold plain Python objects, so the service and the API run without any I/O. Each one
records what the tests need to see (the change feed, the queued items, the published
events) and can be told to misbehave the way a real backend does: lose a race on a
conditional write, or crash in the middle of a call.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from toons.errors import StoreConflict
from toons.model import (
    Event,
    Job,
    JobChange,
    JobKey,
    JobStatus,
    JobSummary,
    Toon,
    ToonEvent,
    ToonResult,
    WorkItem,
)
from toons.ports import Page, Position


class FakeJobStore:
    """Jobs, their toons, a change feed of every job write, and the per-user job list."""

    def __init__(self) -> None:
        self.jobs: dict[JobKey, Job] = {}
        self.toon_lists: dict[JobKey, list[Toon]] = {}
        self.rows: dict[JobKey, JobSummary] = {}
        self.changes: list[JobChange] = []
        self.save_attempts = 0
        # Writes another writer slips in just before our next `save` reads the version.
        self.racing_writes: list[Callable[[], None]] = []

    def create(self, job: Job, toons: Sequence[Toon]) -> Job | None:
        """Store a new job and its toons; the stored job when the key exists."""
        stored = self.jobs.get(job.key)
        if stored is not None:
            return stored
        self.jobs[job.key] = job
        self.toon_lists[job.key] = sorted(toons, key=lambda toon: toon.index)
        self.changes.append(JobChange(None, job.summary()))
        return None

    def get(self, key: JobKey) -> Job | None:
        """The job, or None."""
        return self.jobs.get(key)

    def toons(self, key: JobKey) -> list[Toon]:
        """The job's toons in index order."""
        return list(self.toon_lists.get(key, []))

    def finish_fan_out(self, key: JobKey, now: str) -> None:
        """Pending -> Processing; nothing in any other status."""
        job = self.jobs.get(key)
        if job is not None and job.status is JobStatus.PENDING:
            self._replace(job, job.bump(status=JobStatus.PROCESSING, updated_at=now))

    def save(self, job: Job, expected_version: int) -> None:
        """Replace the job if its stored version is `expected_version`, else `StoreConflict`."""
        self.save_attempts += 1
        if self.racing_writes:
            self.racing_writes.pop(0)()
        stored = self.jobs.get(job.key)
        if stored is None or stored.version != expected_version:
            raise StoreConflict(f"job {job.key} is no longer at version {expected_version}")
        self._replace(stored, job)

    def open_jobs(self, updated_before: str) -> list[JobKey]:
        """Jobs not yet terminal whose last write is older than `updated_before`."""
        return [
            job.key
            for job in self.jobs.values()
            if not job.status.is_terminal and job.updated_at < updated_before
        ]

    def project(self, summary: JobSummary) -> None:
        """Upsert the owner's list row unless a newer version is stored."""
        stored = self.rows.get(summary.key)
        if stored is None or summary.version > stored.version:
            self.rows[summary.key] = summary

    def list_jobs(self, owner: str, limit: int, after: Position | None) -> Page[JobSummary]:
        """The owner's jobs, newest first, after the position when one is given."""
        rows = sorted(
            (row for row in self.rows.values() if row.key.owner == owner),
            key=lambda row: (row.created_at, row.key.job_id),
            reverse=True,
        )
        if after is not None:
            start = (after["createdAt"], after["jobId"])
            rows = [row for row in rows if (row.created_at, row.key.job_id) < start]
        items = rows[:limit]
        last = items[-1] if len(rows) > limit else None
        position = {"createdAt": last.created_at, "jobId": last.key.job_id} if last else None
        return Page(items, position)

    def take_changes(self) -> list[JobChange]:
        """The change records not yet taken, oldest first (what a change feed delivers)."""
        changes, self.changes = self.changes, []
        return changes

    def _replace(self, old: Job, new: Job) -> None:
        self.jobs[new.key] = new
        self.changes.append(JobChange(old.summary(), new.summary()))


class FakeResultStore:
    """One stored record per (job, toon), kept in the form a real store keeps."""

    def __init__(self) -> None:
        self.records: dict[tuple[JobKey, int], tuple[str, str | None]] = {}

    def put(self, results: Sequence[ToonResult]) -> None:
        """Store results; an existing result stays unless the new one supersedes it."""
        for result in results:
            slot = (result.key, result.index)
            stored = self._read(slot)
            if stored is None or result.supersedes(stored):
                self.records[slot] = (json.dumps(result.to_record()), result.processed_text())

    def list(self, key: JobKey, limit: int, after: Position | None) -> Page[ToonResult]:
        """The job's results in toon order, after the position when one is given."""
        start = after["index"] if after is not None else -1
        indexes = sorted(index for owner, index in self.records if owner == key and index > start)
        items = [self._read((key, index)) for index in indexes[:limit]]
        position = {"index": items[-1].index} if len(indexes) > limit else None
        return Page(items, position)

    def _read(self, slot: tuple[JobKey, int]) -> ToonResult | None:
        if slot not in self.records:
            return None
        record, processed = self.records[slot]
        return ToonResult.from_record(json.loads(record), processed)


class FakeWorkQueue:
    """Queued work items, in order; can be told to crash on the next sends."""

    def __init__(self) -> None:
        self.items: list[WorkItem] = []
        self.sends = 0
        self.crashes_left = 0

    def enqueue(self, items: Sequence[WorkItem]) -> None:
        """Send every item, or raise without sending any when told to crash."""
        self.sends += 1
        if self.crashes_left:
            self.crashes_left -= 1
            raise ConnectionError("queue unavailable")
        self.items.extend(items)

    def take(self) -> list[WorkItem]:
        """Receive every waiting item (and forget them, as a deleted message)."""
        items, self.items = self.items, []
        return items


class FakeEventPublisher:
    """Every published event, in order."""

    def __init__(self) -> None:
        self.published: list[Event] = []

    def publish(self, events: Sequence[Event]) -> None:
        """Publish every event."""
        self.published.extend(events)

    def toon_events(self) -> list[ToonEvent]:
        """The completion events published so far."""
        return [event for event in self.published if isinstance(event, ToonEvent)]

    def status_events(self) -> list[Event]:
        """The job status changes published so far."""
        return [event for event in self.published if not isinstance(event, ToonEvent)]
