"""Named fault points, for tests that try to break the promises.

Production code calls `faults.hit("point")` at a handful of places; with the default
plan that does nothing. A test (or `TOONS_FAULTS` in a `toons local` child) supplies a
plan that raises or kills the process at a point, on chosen hits. The points:

| point | where |
|---|---|
| `worker.before_results` | a batch is processed, nothing stored yet |
| `worker.after_results` | results stored, completion events not yet published |
| `worker.after_publish` | events published, messages not yet acknowledged |
| `aggregator.before_save` | a job's new tally computed, not yet written |
| `aggregator.after_save` | a job's tally written (the batch may hold more jobs) |
| `projector.after_project` | list rows written, status events not yet published |
| `dead_letters.after_record` | failures recorded, letters not yet parked |
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

POINTS = (
    "worker.before_results",
    "worker.after_results",
    "worker.after_publish",
    "aggregator.before_save",
    "aggregator.after_save",
    "projector.after_project",
    "dead_letters.after_record",
)


class InjectedFault(RuntimeError):
    """The failure a `raise` fault throws."""


@dataclass
class Fault:
    """What happens at a point: `raise` an error or `crash` the process (exit 137).

    It fires on hits number `after + 1` through `after + times` (1-based counting of
    the hits of its point), so `after=2, times=1` fires on the third hit only.
    """

    action: str = "raise"
    after: int = 0
    times: int = 1
    seen: int = field(default=0, repr=False)

    def fires(self) -> bool:
        """Count a hit; whether this one fires."""
        self.seen += 1
        return self.after < self.seen <= self.after + self.times


class FaultPlan:
    """Faults by point name; an empty plan never fires."""

    def __init__(self, faults: dict[str, Fault] | None = None) -> None:
        unknown = set(faults or {}) - set(POINTS)
        if unknown:
            raise ValueError(f"unknown fault points: {sorted(unknown)}")
        self.faults = dict(faults or {})

    def hit(self, point: str) -> None:
        """Pass a fault point: nothing, unless the plan says to fail here now."""
        fault = self.faults.get(point)
        if fault is None or not fault.fires():
            return
        if fault.action == "crash":
            os._exit(137)
        raise InjectedFault(f"injected fault at {point}")

    @classmethod
    def from_json(cls, text: str | None) -> FaultPlan:
        """A plan from `{"point": {"action": "crash", "after": 3}}` (empty if None)."""
        return cls({point: Fault(**spec) for point, spec in json.loads(text or "{}").items()})


NO_FAULTS = FaultPlan()
