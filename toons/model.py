"""The toon processor's vocabulary: jobs, toons, results and the events between them.

Everything here is plain data. JSON shapes use the HTTP contract's camelCase names, so
one codec serves queue messages, stored rows and published events on both backends.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar


def timestamp(moment: datetime | None = None) -> str:
    """Format a moment (default: now) as ISO 8601 UTC with milliseconds and a `Z`."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


class JobStatus(StrEnum):
    """Where a job is in its life; the last two are terminal for a run."""

    PENDING = "Pending"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    COMPLETED_WITH_ERRORS = "CompletedWithErrors"

    @property
    def is_terminal(self) -> bool:
        """True once every toon of the run has an outcome."""
        return self in (JobStatus.COMPLETED, JobStatus.COMPLETED_WITH_ERRORS)


class Outcome(StrEnum):
    """The one outcome a toon reaches in a run."""

    PROCESSED = "PROCESSED"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True, order=True)
class JobKey:
    """A job is owned: two users may use the same jobId without meeting."""

    owner: str
    job_id: str

    def __str__(self) -> str:
        # jobIds never contain "/", so the suffix after the last "/" is always the jobId.
        return f"{self.owner}/{self.job_id}"

    @classmethod
    def parse(cls, text: str) -> JobKey:
        """Read back a key written by `str(key)`."""
        owner, _, job_id = text.rpartition("/")
        return cls(owner, job_id)


@dataclass(frozen=True, slots=True)
class Toon:
    """One item of a job, with its position in the job fixed at submit time."""

    toon_id: str
    type: str
    payload: dict[str, Any]
    index: int

    def to_dict(self) -> dict[str, Any]:
        """The toon as the client sent it (after type normalisation)."""
        return {"toonId": self.toon_id, "type": self.type, "payload": self.payload}


@dataclass(frozen=True, slots=True)
class WorkItem:
    """A queue message: one toon of one run of a job."""

    key: JobKey
    run: int
    toon: Toon

    def to_dict(self) -> dict[str, Any]:
        """The message body."""
        return {
            "userId": self.key.owner,
            "jobId": self.key.job_id,
            "run": self.run,
            "index": self.toon.index,
            **self.toon.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkItem:
        """Read a message body written by `to_dict`."""
        toon = Toon(data["toonId"], data["type"], data["payload"], data["index"])
        return cls(JobKey(data["userId"], data["jobId"]), data["run"], toon)


@dataclass(frozen=True, slots=True)
class Job:
    """A job and its exact tally: a bit per toon index for each outcome.

    A bit set in `processed_bits` is never also set in `failed_bits`, so the two counts
    together never exceed `total`.
    """

    key: JobKey
    status: JobStatus
    total: int
    created_at: str
    updated_at: str
    request_digest: str
    run: int = 1
    processed_bits: int = 0
    failed_bits: int = 0
    version: int = 1

    @property
    def processed(self) -> int:
        """Toons of the current run that reached PROCESSED."""
        return self.processed_bits.bit_count()

    @property
    def failed(self) -> int:
        """Toons of the current run that reached FAILED."""
        return self.failed_bits.bit_count()

    def status_view(self) -> dict[str, Any]:
        """The job as `GET /jobs/{jobId}` shows it."""
        done = self.processed + self.failed
        return {
            "jobId": self.key.job_id,
            "status": str(self.status),
            "totalToons": self.total,
            "processedToons": self.processed,
            "failedToons": self.failed,
            "userId": self.key.owner,
            "run": self.run,
            "metadata": {"createdAt": self.created_at, "updatedAt": self.updated_at},
            "progress": {
                "percentage": round(100.0 * done / self.total, 2) if self.total else 100.0,
                "completed": self.status.is_terminal,
            },
        }

    def summary(self) -> JobSummary:
        """The slice of the job kept in the per-user projection."""
        return JobSummary(
            key=self.key,
            status=self.status,
            total=self.total,
            processed=self.processed,
            failed=self.failed,
            run=self.run,
            created_at=self.created_at,
            updated_at=self.updated_at,
            version=self.version,
        )

    def bump(self, **changes: Any) -> Job:
        """A copy with changes applied and the version advanced by one."""
        return replace(self, version=self.version + 1, **changes)


@dataclass(frozen=True, slots=True)
class JobSummary:
    """A row of the per-user job list (the projection)."""

    key: JobKey
    status: JobStatus
    total: int
    processed: int
    failed: int
    run: int
    created_at: str
    updated_at: str
    version: int

    def to_dict(self) -> dict[str, Any]:
        """The row as `GET /jobs` shows it."""
        return {
            "jobId": self.key.job_id,
            "status": str(self.status),
            "totalToons": self.total,
            "processedToons": self.processed,
            "failedToons": self.failed,
            "run": self.run,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }

    @classmethod
    def from_dict(cls, owner: str, data: Mapping[str, Any], version: int) -> JobSummary:
        """Read back a row written by `to_dict`."""
        return cls(
            key=JobKey(owner, data["jobId"]),
            status=JobStatus(data["status"]),
            total=data["totalToons"],
            processed=data["processedToons"],
            failed=data["failedToons"],
            run=data["run"],
            created_at=data["createdAt"],
            updated_at=data["updatedAt"],
            version=version,
        )


@dataclass(frozen=True, slots=True)
class JobChange:
    """One write to a job as a change feed reports it: the images before and after."""

    old: JobSummary | None
    new: JobSummary


@dataclass(frozen=True, slots=True)
class ToonResult:
    """The one stored outcome of a toon in a run."""

    key: JobKey
    run: int
    index: int
    toon_id: str
    type: str
    outcome: Outcome
    processed_at: str
    duration_ms: float = 0.0
    fingerprint: str | None = None
    is_valid: bool = False
    validation_errors: tuple[str, ...] = ()
    processed_data: dict[str, Any] | None = None
    error: str | None = None
    attempts: int = 0
    # The canonical JSON of `processed_data` that the fingerprint hashed, when at hand:
    # stores keep it as text instead of encoding the same data a second time.
    processed_json: str | None = field(default=None, compare=False, repr=False)

    def processed_text(self) -> str | None:
        """`processed_data` as JSON text (the canonical form when known)."""
        if self.processed_json is not None or self.processed_data is None:
            return self.processed_json
        return json.dumps(self.processed_data)

    def to_dict(self) -> dict[str, Any]:
        """The result as `GET /results` shows it."""
        body: dict[str, Any] = {
            "toonId": self.toon_id,
            "type": self.type,
            "status": str(self.outcome),
            "fingerprint": self.fingerprint,
            "durationMs": self.duration_ms,
            "isValid": self.is_valid,
            "validationErrors": list(self.validation_errors),
            "processedAt": self.processed_at,
            "run": self.run,
            "processedData": self.processed_data,
        }
        if self.outcome is Outcome.FAILED:
            body["error"] = {"reason": self.error, "attempts": self.attempts}
        return body

    def to_record(self) -> dict[str, Any]:
        """The stored form: the public view plus what locates it, minus `processedData`.

        Stores keep `processed_text()` beside it.
        """
        record = {
            "userId": self.key.owner,
            "jobId": self.key.job_id,
            "index": self.index,
            **self.to_dict(),
        }
        del record["processedData"]
        return record

    @classmethod
    def from_record(cls, data: Mapping[str, Any], processed_text: str | None) -> ToonResult:
        """Read back a record written by `to_record`, with its processed data."""
        error = data.get("error") or {}
        return cls(
            key=JobKey(data["userId"], data["jobId"]),
            run=data["run"],
            index=data["index"],
            toon_id=data["toonId"],
            type=data["type"],
            outcome=Outcome(data["status"]),
            processed_at=data["processedAt"],
            duration_ms=data["durationMs"],
            fingerprint=data["fingerprint"],
            is_valid=data["isValid"],
            validation_errors=tuple(data["validationErrors"]),
            processed_data=json.loads(processed_text) if processed_text else None,
            error=error.get("reason"),
            attempts=error.get("attempts", 0),
        )

    def supersedes(self, stored: ToonResult) -> bool:
        """Whether this result should replace `stored` for the same (job, toon).

        A newer run wins; within a run, PROCESSED replaces FAILED (a redriven toon that
        now succeeds) and otherwise the first write stays, so redelivery changes nothing.
        """
        if self.run != stored.run:
            return self.run > stored.run
        return self.outcome is Outcome.PROCESSED and stored.outcome is Outcome.FAILED


def _event_id(kind: str, key: JobKey, *parts: object) -> str:
    # Derived from the fact itself, so a redelivered or replayed fact keeps its id.
    name = "\x00".join([kind, key.owner, key.job_id, *map(str, parts)])
    return hashlib.blake2b(name.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Completion:
    """What the aggregator needs of a completion event: which toon, which run, which way."""

    key: JobKey
    run: int
    index: int
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class ToonEvent:
    """A toon reached an outcome in a run: what the aggregator counts."""

    TYPES: ClassVar[tuple[str, str]] = ("ToonProcessed", "ToonFailed")

    key: JobKey
    run: int
    index: int
    toon_id: str
    outcome: Outcome
    at: str
    fingerprint: str | None = None
    duration_ms: float = 0.0
    is_valid: bool = False
    processor_version: str = ""
    reason: str | None = None

    @property
    def type(self) -> str:
        """`ToonProcessed` or `ToonFailed`."""
        return "ToonProcessed" if self.outcome is Outcome.PROCESSED else "ToonFailed"

    @property
    def event_id(self) -> str:
        """Deterministic: redelivery and replays of the same fact share it."""
        return _event_id(self.type, self.key, self.run, self.index)

    def completion(self) -> Completion:
        """The part of the event that counts."""
        return Completion(self.key, self.run, self.index, self.outcome)

    @classmethod
    def from_result(cls, result: ToonResult, processor_version: str) -> ToonEvent:
        """The event announcing a stored result."""
        return cls(
            key=result.key,
            run=result.run,
            index=result.index,
            toon_id=result.toon_id,
            outcome=result.outcome,
            at=result.processed_at,
            fingerprint=result.fingerprint,
            duration_ms=result.duration_ms,
            is_valid=result.is_valid,
            processor_version=processor_version,
            reason=result.error,
        )

    def to_dict(self) -> dict[str, Any]:
        """The event's detail."""
        return {
            "eventId": self.event_id,
            "type": self.type,
            "userId": self.key.owner,
            "jobId": self.key.job_id,
            "run": self.run,
            "index": self.index,
            "toonId": self.toon_id,
            "outcome": str(self.outcome),
            "at": self.at,
            "fingerprint": self.fingerprint,
            "durationMs": self.duration_ms,
            "isValid": self.is_valid,
            "processorVersion": self.processor_version,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToonEvent:
        """Read back a detail written by `to_dict`."""
        return cls(
            key=JobKey(data["userId"], data["jobId"]),
            run=data["run"],
            index=data["index"],
            toon_id=data["toonId"],
            outcome=Outcome(data["outcome"]),
            at=data["at"],
            fingerprint=data.get("fingerprint"),
            duration_ms=data.get("durationMs", 0.0),
            is_valid=data.get("isValid", False),
            processor_version=data.get("processorVersion", ""),
            reason=data.get("reason"),
        )


@dataclass(frozen=True, slots=True)
class JobStatusChanged:
    """A job's status changed; published once per change for subscribers."""

    TYPE: ClassVar[str] = "JobStatusChanged"

    key: JobKey
    run: int
    from_status: JobStatus | None
    to_status: JobStatus
    processed: int
    failed: int
    total: int
    version: int
    at: str

    @property
    def type(self) -> str:
        """Always `JobStatusChanged`."""
        return self.TYPE

    @property
    def event_id(self) -> str:
        """Deterministic per (job, run, new status), so consumers can dedupe."""
        return _event_id(self.TYPE, self.key, self.run, self.to_status)

    @classmethod
    def from_change(cls, change: JobChange) -> JobStatusChanged:
        """The event for a change feed record whose status moved."""
        new = change.new
        return cls(
            key=new.key,
            run=new.run,
            from_status=change.old.status if change.old else None,
            to_status=new.status,
            processed=new.processed,
            failed=new.failed,
            total=new.total,
            version=new.version,
            at=new.updated_at,
        )

    def to_dict(self) -> dict[str, Any]:
        """The event's detail."""
        return {
            "eventId": self.event_id,
            "type": self.TYPE,
            "userId": self.key.owner,
            "jobId": self.key.job_id,
            "run": self.run,
            "fromStatus": str(self.from_status) if self.from_status else None,
            "toStatus": str(self.to_status),
            "processedToons": self.processed,
            "failedToons": self.failed,
            "totalToons": self.total,
            "version": self.version,
            "at": self.at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobStatusChanged:
        """Read back a detail written by `to_dict`."""
        return cls(
            key=JobKey(data["userId"], data["jobId"]),
            run=data["run"],
            from_status=JobStatus(data["fromStatus"]) if data["fromStatus"] else None,
            to_status=JobStatus(data["toStatus"]),
            processed=data["processedToons"],
            failed=data["failedToons"],
            total=data["totalToons"],
            version=data["version"],
            at=data["at"],
        )


Event = ToonEvent | JobStatusChanged


def event_from_dict(data: Mapping[str, Any]) -> Event:
    """Read any event detail back into its class, by its `type`."""
    if data["type"] == JobStatusChanged.TYPE:
        return JobStatusChanged.from_dict(data)
    return ToonEvent.from_dict(data)
