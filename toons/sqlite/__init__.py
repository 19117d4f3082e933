"""The embedded engine's adapters: every port on one SQLite file."""

from __future__ import annotations

from pathlib import Path

from toons.ports import Ports
from toons.sqlite.db import Database
from toons.sqlite.events import SqliteEventLog
from toons.sqlite.queue import SqliteQueue
from toons.sqlite.stores import SqliteJobStore, SqliteResultStore

__all__ = [
    "Database",
    "SqliteEventLog",
    "SqliteJobStore",
    "SqliteQueue",
    "SqliteResultStore",
    "open_ports",
]


def open_ports(path: Path | str, max_receives: int = 5, synchronous: str = "NORMAL") -> Ports:
    """All four ports on the database at `path`."""
    db = Database(path, synchronous=synchronous)
    return Ports(
        jobs=SqliteJobStore(db),
        results=SqliteResultStore(db),
        queue=SqliteQueue(db, max_receives=max_receives),
        events=SqliteEventLog(db),
    )
