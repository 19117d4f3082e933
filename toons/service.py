"""The use cases: submit, process, dead-letter, aggregate, project, and the reads.

`ToonService` runs on any set of `Ports`; the embedded engine's loops and the Lambda
handlers call the same methods. Every write path tolerates being run twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from toons import paging, tally
from toons.config import Limits
from toons.errors import Conflict, NotFound, StoreConflict
from toons.faults import NO_FAULTS, FaultPlan
from toons.model import (
    Completion,
    Job,
    JobChange,
    JobKey,
    JobStatus,
    JobStatusChanged,
    JobSummary,
    Outcome,
    Toon,
    ToonEvent,
    ToonResult,
    WorkItem,
    timestamp,
)
from toons.ports import Page, Ports
from toons.processing import PROCESSOR_VERSION, Registry, default_registry, process_toon
from toons.submission import check_id, parse_submission

log = logging.getLogger(__name__)

SAVE_ATTEMPTS = 8
RESULT_POSITION = {"index": int}
JOB_POSITION = {"createdAt": str, "jobId": str}


@dataclass(frozen=True, slots=True)
class SubmitReceipt:
    """What `POST /submit-job` answers; a replayed submit answers the same."""

    key: JobKey
    toons_count: int
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A toon whose message exhausted its receives, with the last failure seen."""

    item: WorkItem
    reason: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Transition:
    """A job before and after one aggregator write."""

    before: Job
    after: Job

    @property
    def finished(self) -> bool:
        """Whether this write ended the run (the job became terminal)."""
        return self.after.status.is_terminal and not self.before.status.is_terminal


@dataclass(slots=True)
class SweepReport:
    """What a sweep did: fan-outs it resumed and jobs it found stuck."""

    resumed: list[JobKey] = field(default_factory=list)
    stuck: list[JobKey] = field(default_factory=list)


@dataclass(slots=True)
class BatchReport:
    """Which items of a worker batch are done, with their results, and which to retry."""

    done: list[WorkItem] = field(default_factory=list)
    failed: list[tuple[WorkItem, str]] = field(default_factory=list)
    results: list[ToonResult] = field(default_factory=list)


def not_found() -> NotFound:
    """The one answer for a job that is missing or someone else's."""
    return NotFound("JOB_NOT_FOUND", "Job no encontrado")


class ToonService:
    """The core's use cases over a set of ports."""

    def __init__(
        self,
        ports: Ports,
        limits: Limits | None = None,
        registry: Registry | None = None,
        processor_version: str = PROCESSOR_VERSION,
        clock: Callable[[], str] = timestamp,
        faults: FaultPlan = NO_FAULTS,
    ) -> None:
        self.ports = ports
        self.limits = limits or Limits()
        self.registry = registry or default_registry()
        self.processor_version = processor_version
        self.clock = clock
        self.faults = faults

    # -- submit -----------------------------------------------------------------------

    def submit_job(self, owner: str, body: bytes) -> SubmitReceipt:
        """Check, store and fan out a job; a repeat of the same body changes nothing."""
        request = parse_submission(body, self.limits, self.registry)
        key = JobKey(owner, request.job_id)
        now = self.clock()
        job = Job(key, JobStatus.PENDING, len(request.toons), now, now, request.digest)

        existing = self.ports.jobs.create(job, request.toons)
        if existing is not None:
            return self._resubmit(existing, request.digest)

        self._fan_out(job, request.toons)
        log.info("job submitted", extra={"jobId": key.job_id, "userId": owner, "toons": job.total})
        return SubmitReceipt(key, job.total)

    def _resubmit(self, existing: Job, digest: str) -> SubmitReceipt:
        if existing.request_digest != digest:
            raise Conflict(
                "JOB_CONFLICT",
                f"Job '{existing.key.job_id}' already exists with a different body",
                "jobId",
            )
        if existing.status is JobStatus.PENDING:
            self._fan_out(existing, self.ports.jobs.toons(existing.key))
        return SubmitReceipt(existing.key, existing.total, replayed=True)

    def _fan_out(self, job: Job, toons: Sequence[Toon]) -> None:
        """Enqueue every toon of the job's run, then mark the fan-out done."""
        self.ports.queue.enqueue([WorkItem(job.key, job.run, toon) for toon in toons])
        self.ports.jobs.finish_fan_out(job.key, self.clock())

    def resume_fan_out(self, key: JobKey) -> bool:
        """Finish the fan-out of a job a crash left Pending; False if there was none."""
        job = self.ports.jobs.get(key)
        if job is None or job.status is not JobStatus.PENDING:
            return False
        self._fan_out(job, self.ports.jobs.toons(key))
        log.info("fan-out resumed", extra={"jobId": key.job_id, "userId": key.owner})
        return True

    def reprocess(self, owner: str, job_id: str) -> Job:
        """Run a finished job's toons again as a new run, with the current processor.

        Counts restart for the new run; results are replaced as the new run reaches
        them. A job cut short while Pending has its fan-out finished instead, so running
        this again after a crash is safe. A job still running is a conflict.
        """
        job = self.job(owner, job_id)
        if job.status is JobStatus.PENDING:
            self._fan_out(job, self.ports.jobs.toons(job.key))
            return self.job(owner, job_id)
        if not job.status.is_terminal:
            raise Conflict("JOB_RUNNING", f"Job '{job_id}' is still running", "jobId")

        rerun = job.bump(
            run=job.run + 1,
            processed_bits=0,
            failed_bits=0,
            status=JobStatus.PENDING,
            updated_at=self.clock(),
        )
        self.ports.jobs.save(rerun, expected_version=job.version)
        self._fan_out(rerun, self.ports.jobs.toons(job.key))
        log.info("job reprocessing", extra={"jobId": job_id, "userId": owner, "run": rerun.run})
        return rerun

    def sweep(self, resume_before: str, stuck_before: str) -> SweepReport:
        """Finish fan-outs a crash left Pending, and find jobs that stopped progressing.

        A job still Pending after `resume_before` lost its submit half-way: its fan-out
        is resumed. A job Processing with no write since `stuck_before` is reported as
        stuck (an operator replays or redrives it).
        """
        report = SweepReport()
        for key in self.ports.jobs.open_jobs(updated_before=resume_before):
            job = self.ports.jobs.get(key)
            if job is None or job.status.is_terminal:
                continue
            if job.status is JobStatus.PENDING:
                self.resume_fan_out(key)
                report.resumed.append(key)
            elif job.updated_at < stuck_before:
                log.warning(
                    "job stuck",
                    extra={"jobId": key.job_id, "userId": key.owner, "updatedAt": job.updated_at},
                )
                report.stuck.append(key)
        return report

    # -- work -------------------------------------------------------------------------

    def process_batch(self, items: Sequence[WorkItem]) -> BatchReport:
        """Process queued toons, store their results, then announce them.

        A toon whose processing raises is reported back for retry; the rest of the batch
        still completes.
        """
        report = BatchReport()
        results = report.results
        for item in items:
            try:
                results.append(process_toon(item, self.registry, self.processor_version))
                report.done.append(item)
            except Exception as exc:
                log.warning("toon processing failed", extra=_item_keys(item, error=repr(exc)))
                report.failed.append((item, f"{type(exc).__name__}: {exc}"))

        self.faults.hit("worker.before_results")
        self.ports.results.put(results)
        self.faults.hit("worker.after_results")
        self.ports.events.publish(
            [ToonEvent.from_result(r, self.processor_version) for r in results]
        )
        self.faults.hit("worker.after_publish")
        return report

    def record_failures(self, letters: Sequence[DeadLetter]) -> None:
        """Record dead-lettered toons as FAILED, with their reason, and announce them."""
        now = self.clock()
        results = [_failed_result(letter, now) for letter in letters]
        self.ports.results.put(results)
        self.ports.events.publish(
            [ToonEvent.from_result(r, self.processor_version) for r in results]
        )
        for letter in letters:
            log.warning("toon dead-lettered", extra=_item_keys(letter.item, error=letter.reason))
        self.faults.hit("dead_letters.after_record")

    # -- aggregate and project --------------------------------------------------------

    def record_completions(self, completions: Sequence[Completion]) -> list[Transition]:
        """Count completions into their jobs, one conditional write per job.

        Returns the jobs that changed. Completions already counted change nothing.
        """
        by_job: dict[JobKey, list[Completion]] = defaultdict(list)
        for completion in completions:
            by_job[completion.key].append(completion)
        changed = (self._count_into(key, batch) for key, batch in by_job.items())
        return [transition for transition in changed if transition]

    def _count_into(self, key: JobKey, completions: list[Completion]) -> Transition | None:
        for _ in range(SAVE_ATTEMPTS):
            job = self.ports.jobs.get(key)
            updated = tally.apply(job, completions, self.clock()) if job else None
            if updated is None:
                return None
            self.faults.hit("aggregator.before_save")
            try:
                self.ports.jobs.save(updated, expected_version=job.version)
            except StoreConflict:
                continue
            self.faults.hit("aggregator.after_save")
            _log_progress(job, updated)
            return Transition(job, updated)
        raise StoreConflict(f"job {key} kept changing under the aggregator")

    def project(self, changes: Sequence[JobChange]) -> None:
        """Apply job change records to the per-user list and publish status changes."""
        for change in changes:
            self.ports.jobs.project(change.new)
        self.faults.hit("projector.after_project")
        self.ports.events.publish(
            [
                JobStatusChanged.from_change(change)
                for change in changes
                if change.old is None or change.old.status is not change.new.status
            ]
        )

    # -- reads ------------------------------------------------------------------------

    def job(self, owner: str, job_id: str | None) -> Job:
        """The caller's job, or `Job no encontrado`."""
        job_id = check_id(job_id, "jobId", self.limits)
        job = self.ports.jobs.get(JobKey(owner, job_id))
        if job is None:
            raise not_found()
        return job

    def results(
        self, owner: str, job_id: str | None, limit: str | None, token: str | None
    ) -> tuple[Job, Page[ToonResult]]:
        """A page of the caller's job's results, in toon order."""
        job = self.job(owner, job_id)
        size = paging.page_size(limit, self.limits)
        after = paging.decode(token, RESULT_POSITION)
        return job, self.ports.results.list(job.key, size, after)

    def jobs(self, owner: str, limit: str | None, token: str | None) -> Page[JobSummary]:
        """A page of the caller's jobs, newest first."""
        size = paging.page_size(limit, self.limits)
        after = paging.decode(token, JOB_POSITION)
        return self.ports.jobs.list_jobs(owner, size, after)


def _item_keys(item: WorkItem, **more: object) -> dict[str, object]:
    return {
        "jobId": item.key.job_id,
        "userId": item.key.owner,
        "toonId": item.toon.toon_id,
        "run": item.run,
        **more,
    }


def _failed_result(letter: DeadLetter, now: str) -> ToonResult:
    item = letter.item
    return ToonResult(
        key=item.key,
        run=item.run,
        index=item.toon.index,
        toon_id=item.toon.toon_id,
        type=item.toon.type,
        outcome=Outcome.FAILED,
        processed_at=now,
        error=letter.reason,
        attempts=letter.attempts,
    )


def _log_progress(before: Job, after: Job) -> None:
    keys = {
        "jobId": after.key.job_id,
        "userId": after.key.owner,
        "run": after.run,
        "processedToons": after.processed,
        "failedToons": after.failed,
        "totalToons": after.total,
    }
    if after.status is not before.status and after.status.is_terminal:
        log.info("job finished", extra={**keys, "status": str(after.status)})
    else:
        log.debug("job progress", extra=keys)
