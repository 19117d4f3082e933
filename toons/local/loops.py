"""The embedded engine's moving parts, each one step of a polling loop.

A step does one unit of work and says whether it found any; the loop runs it again at
once while there is work and backs off (up to 50 ms) while there is none. Every step
consumes its input only after its effects are stored, so a crash at any point makes the
next step redo work that is idempotent.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from toons.config import EngineSettings, Limits
from toons.faults import FaultPlan
from toons.service import DeadLetter, ToonService
from toons.sqlite import SqliteEventLog, SqliteJobStore, SqliteQueue, open_ports
from toons.sqlite.queue import Message

log = logging.getLogger(__name__)

MIN_IDLE_S, MAX_IDLE_S = 0.002, 0.05
AGGREGATOR = "aggregator"


class StopSignal(Protocol):
    """A thread's or a process's event: set once the loop should stop."""

    def is_set(self) -> bool:
        """Whether stopping was asked for."""
        ...

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep until asked to stop or `timeout` passes."""
        ...


def run_loop(
    name: str,
    step: Callable[[], bool],
    stop: StopSignal,
    alive: Callable[[], bool] = lambda: True,
) -> None:
    """Run `step` until `stop` is set (or `alive` turns false), backing off when idle."""
    idle = MIN_IDLE_S
    while not stop.is_set() and alive():
        try:
            busy = step()
        except Exception:
            log.exception("loop step failed", extra={"loop": name})
            busy, idle = False, MAX_IDLE_S * 10
        if busy:
            idle = MIN_IDLE_S
            continue
        stop.wait(idle)
        idle = min(idle * 2, MAX_IDLE_S)


@dataclass
class Steps:
    """The engine's steps over one set of SQLite ports."""

    service: ToonService
    settings: EngineSettings

    @classmethod
    def open(cls, settings: EngineSettings, limits: Limits | None = None) -> Steps:
        """Steps on the engine database in `settings.data_dir`.

        `TOONS_FAULTS` (tests only) holds a fault plan as JSON; see `toons.faults`.
        """
        ports = open_ports(database_path(settings), max_receives=settings.max_receives)
        faults = FaultPlan.from_json(os.environ.get("TOONS_FAULTS"))
        return cls(ToonService(ports, limits, faults=faults), settings)

    @property
    def queue(self) -> SqliteQueue:
        """The work queue."""
        return self.service.ports.queue

    @property
    def jobs(self) -> SqliteJobStore:
        """The job store and its change feed."""
        return self.service.ports.jobs

    @property
    def events(self) -> SqliteEventLog:
        """The event log."""
        return self.service.ports.events

    def work(self) -> bool:
        """Receive a batch of toons, process it, acknowledge what is done."""
        messages = self.queue.receive(self.settings.batch_size, self.settings.visibility_timeout_s)
        if not messages:
            return False
        # Duplicate messages of one toon (a resumed fan-out) share one item: it is
        # processed once and every one of its messages is settled with it.
        by_item: dict[int, list[Message]] = defaultdict(list)
        for message in messages:
            by_item[id(message.item)].append(message)
        report = self.service.process_batch([group[0].item for group in by_item.values()])
        self.queue.ack([m for item in report.done for m in by_item[id(item)]])
        if report.failed:
            self.queue.retry(
                [(m, reason) for item, reason in report.failed for m in by_item[id(item)]]
            )
        return True

    def dead_letters(self) -> bool:
        """Record dead-lettered toons as failed, then park the letters for a redrive."""
        letters = self.queue.dead_letters(100)
        if not letters:
            return False
        self.service.record_failures([DeadLetter(d.item, d.reason, d.receives) for d in letters])
        self.queue.park(letters)
        return True

    def aggregate(self) -> bool:
        """Count the next completion events of the log into their jobs."""
        after = self.events.position(AGGREGATOR)
        batch = self.events.completions(after, 5000)
        if not batch:
            return False
        self.service.record_completions([completion for _, completion in batch])
        self.events.advance(AGGREGATOR, batch[-1][0])
        return True

    def project(self) -> bool:
        """Apply the next job change records to the job list and publish status changes."""
        changes = self.jobs.changes(1000)
        if not changes:
            return False
        self.service.project([change for _, change in changes])
        self.jobs.consume_changes(changes[-1][0])
        return True

    def recover(self) -> dict[str, int]:
        """Start-up after any stop: hand out in-flight toons again, finish cut fan-outs."""
        return {"released": self.queue.release_in_flight(), "resumed": self.resume_pending()}

    def resume_pending(self) -> int:
        """Finish every fan-out a crash interrupted; returns how many jobs it resumed."""
        return sum(self.service.resume_fan_out(key) for key in self.jobs.pending())


def database_path(settings: EngineSettings) -> os.PathLike[str]:
    """Where the engine's SQLite file lives."""
    return settings.data_dir / "toons.db"


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (no-op elsewhere)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


def worker_process(
    settings: EngineSettings, limits: Limits, stop: StopSignal, parent_pid: int
) -> None:
    """Entry point of a worker process: the work step in a loop until told to stop."""
    _die_with_parent()
    steps = Steps.open(settings, limits)
    run_loop("worker", steps.work, stop, alive=lambda: os.getppid() == parent_pid)
