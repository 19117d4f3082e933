"""Operators' recovery commands: replay, redrive, reprocess.

Each works on the embedded engine's data dir (`LocalOperations`) or on a deployed stack
(`toons.aws.operations.StackOperations`), prints what it did, then shows a progress bar
while the jobs it touched settle. All three are safe to run twice: replays count
nothing twice, a redriven toon that succeeds moves from failed to processed, and a
reprocess interrupted by a crash is finished by running it again.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from toons.config import EngineSettings
from toons.errors import InvalidInput
from toons.local.engine import DataDirBusy, lock_data_dir
from toons.local.loops import database_path
from toons.model import Job, JobKey, ToonEvent, timestamp
from toons.service import ToonService
from toons.sqlite import open_ports

REPLAY_BATCH = 5000


def moment(text: str) -> str:
    """An ISO 8601 moment from the command line, in the events' own format."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("INVALID_TIME", f"not an ISO 8601 time: {text!r}") from None
    if parsed.tzinfo is None:
        raise InvalidInput("INVALID_TIME", f"give a time zone (e.g. Z): {text!r}")
    return timestamp(parsed)


class LocalOperations:
    """Recovery on a `toons local` data dir (the engine may be running or not)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        ports = open_ports(database_path(EngineSettings(data_dir=data_dir)))
        self.service = ToonService(ports)
        self.log = ports.events
        self.queue = ports.queue

    def job(self, key: JobKey) -> Job | None:
        """A job as stored now."""
        return self.service.ports.jobs.get(key)

    def replay(
        self, key: JobKey | None = None, since: str | None = None, until: str | None = None
    ) -> tuple[str, set[JobKey]]:
        """Feed archived completion events back to the aggregator.

        Returns what was replayed and which jobs the events belong to. Events already
        counted add nothing; lost ones are counted now.
        """
        if key is not None:
            self.service.job(key.owner, key.job_id)  # someone else's job: not found
        replayed, jobs = 0, set()
        for batch in self._archived(key, since, until):
            self.service.record_completions([event.completion() for event in batch])
            replayed += len(batch)
            jobs |= {event.key for event in batch}
        return f"replayed {replayed} completion event(s) of {len(jobs)} job(s)", jobs

    def _archived(
        self, key: JobKey | None, since: str | None, until: str | None
    ) -> Iterable[list[ToonEvent]]:
        after = 0
        while True:
            rows = self.log.read(after, REPLAY_BATCH, types=ToonEvent.TYPES)
            if not rows:
                return
            after = rows[-1][0]
            yield [event for _, event in rows if _selected(event, key, since, until)]

    def redrive(self) -> set[JobKey]:
        """Move every parked dead letter back to the work queue; returns their jobs."""
        return {item.key for item in self.queue.redrive()}

    def reprocess(self, key: JobKey) -> Job:
        """Run a finished job again as a new run (see `ToonService.reprocess`)."""
        return self.service.reprocess(key.owner, key.job_id)

    def settled(self, job: Job) -> bool:
        """Terminal, with none of its toons still queued or waiting to be dead-lettered."""
        return job.status.is_terminal and self.queue.pending_for(job.key) == 0

    def engine_running(self) -> bool:
        """Whether a `toons local` holds this data dir (someone to do queued work)."""
        try:
            lock_data_dir(self.data_dir).close()
        except DataDirBusy:
            return True
        return False


def _selected(event: ToonEvent, key: JobKey | None, since: str | None, until: str | None) -> bool:
    if key is not None and event.key != key:
        return False
    return (since is None or event.at >= since) and (until is None or event.at <= until)


def progress_bar(job: Job, width: int = 30) -> str:
    """`[#########.....]  62.00%  3100/5000 (12 failed) JOB-1 run 2 Processing`."""
    done = job.processed + job.failed
    filled = width * done // job.total if job.total else width
    failed = f" ({job.failed} failed)" if job.failed else ""
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {100 * done / max(job.total, 1):6.2f}%"
        f"  {done}/{job.total}{failed} {job.key.job_id} run {job.run} {job.status}"
    )


def watch(
    read: Callable[[JobKey], Job | None],
    keys: Iterable[JobKey],
    settled: Callable[[Job], bool] | None = None,
    timeout_s: float = 600,
    out: TextIO = sys.stderr,
) -> bool:
    """Show each job's progress until all are settled (terminal by default)."""
    settled = settled or (lambda job: job.status.is_terminal)
    deadline = time.monotonic() + timeout_s
    pending = sorted(set(keys))
    while pending:
        jobs = [job for job in map(read, pending) if job is not None]
        out.write("\r" + " | ".join(progress_bar(job, 20) for job in jobs[:3]) + " ")
        out.flush()
        pending = [job.key for job in jobs if not settled(job)]
        if pending and time.monotonic() > deadline:
            out.write("\n")
            return False
        if pending:
            time.sleep(0.2)
    out.write("\n")
    return True


def run(command: str, ops: Any, args: Any, out: TextIO) -> int:
    """Carry out one recovery command and report on it; returns the exit code."""
    if command == "replay":
        keys = _replay(ops, args, out)
    elif command == "redrive":
        keys = ops.redrive()
        out.write(f"redrove the dead letters of {len(keys)} job(s) back to the work queue\n")
    else:
        job = ops.reprocess(JobKey(args.user, args.job))
        out.write(f"reprocessing {job.key.job_id} as run {job.run} ({job.total} toons)\n")
        keys = {job.key}
    if command != "replay" and keys and not ops.engine_running():
        out.write("no engine is running on this data dir: the toons wait in its queue\n")
        return 0
    return 0 if watch(ops.job, keys, ops.settled, timeout_s=args.timeout, out=out) else 3


def _replay(ops: Any, args: Any, out: TextIO) -> set[JobKey]:
    if args.job and not args.user:
        raise InvalidInput("MISSING_FIELD", "--job needs --user (jobs belong to their owner)")
    key = JobKey(args.user, args.job) if args.job else None
    since = moment(args.since) if args.since else None
    until = moment(args.until) if args.until else None
    description, keys = ops.replay(key, since, until)
    out.write(description + "\n")
    return keys
