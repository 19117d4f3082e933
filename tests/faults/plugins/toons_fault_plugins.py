"""A toon type for the fault suite only, installed through the `toons.processors` group.

Only `tests/faults` puts this folder on PYTHONPATH, so no other suite sees the type.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


class SlowType:
    """A type whose first processing stalls, to outlast a worker's visibility timeout.

    `payload["log"]` names a file shared by every worker process: each processing appends
    `start` and `end` lines to it, and only the first one sleeps `payload["sleepS"]`
    seconds in between. The normalised payload says which processing produced it.
    """

    name = "SLOW"
    category = "TEST"

    def normalise(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Note the processing, stall if it is the first, and tag the payload with it."""
        log = Path(payload["log"])
        with log.open("a") as handle:
            handle.write("start\n")
        processing = log.read_text().count("start")
        if processing == 1:
            time.sleep(float(payload.get("sleepS", 0)))
        with log.open("a") as handle:
            handle.write("end\n")
        return {**payload, "processing": processing}

    def validate(self, payload: dict[str, Any]) -> list[str]:
        """Always valid."""
        return []

    def complexity(self, payload: dict[str, Any]) -> str:
        """Always LOW."""
        return "LOW"


SLOW = SlowType()
