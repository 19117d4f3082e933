"""One SQLite file (WAL) holding the embedded engine's whole state.

Each thread gets its own connection; every write runs in a `BEGIN IMMEDIATE`
transaction, so a crash at any moment leaves either all of a step or none of it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from toons.errors import Throttled

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    owner TEXT NOT NULL,
    job_id TEXT NOT NULL,
    status TEXT NOT NULL,
    total INTEGER NOT NULL,
    run INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    digest TEXT NOT NULL,
    processed_bits BLOB NOT NULL,
    failed_bits BLOB NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (owner, job_id)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status);

CREATE TABLE IF NOT EXISTS toons (
    owner TEXT NOT NULL,
    job_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (owner, job_id, idx)
) WITHOUT ROWID;

-- The jobs table's change feed (the local DynamoDB stream): one row per job write.
CREATE TABLE IF NOT EXISTS job_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    old TEXT,
    new TEXT NOT NULL
);

-- The per-user job list, kept by the projector from the change feed.
CREATE TABLE IF NOT EXISTS job_list (
    owner TEXT NOT NULL,
    created_at TEXT NOT NULL,
    job_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (owner, created_at, job_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS results (
    owner TEXT NOT NULL,
    job_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    run INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    body TEXT NOT NULL,
    processed TEXT,
    PRIMARY KEY (owner, job_id, idx)
) WITHOUT ROWID;

-- Queue rows point at rows of `toons` (the message bodies) instead of copying them.
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    job_id TEXT NOT NULL,
    run INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    visible_at REAL NOT NULL,
    receives INTEGER NOT NULL DEFAULT 0,
    receipt TEXT,
    last_error TEXT
);

CREATE INDEX IF NOT EXISTS queue_by_visibility ON queue (visible_at, id);

CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    job_id TEXT NOT NULL,
    run INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    receives INTEGER NOT NULL,
    reason TEXT NOT NULL,
    dead_at REAL NOT NULL,
    -- 1 once the toon is recorded FAILED: the letter is then parked for `toons redrive`
    recorded INTEGER NOT NULL DEFAULT 0
);

-- The event log: every event ever published, in order; the local archive.
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    owner TEXT NOT NULL,
    job_id TEXT NOT NULL,
    run INTEGER NOT NULL,
    idx INTEGER,
    outcome TEXT,
    at TEXT NOT NULL,
    body TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS events_by_job ON events (owner, job_id, seq);

CREATE TABLE IF NOT EXISTS cursors (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL
) WITHOUT ROWID;
"""


class Database:
    """The engine's SQLite file, with a connection per thread."""

    def __init__(
        self, path: Path | str, synchronous: str = "NORMAL", lock_wait_s: float = 30.0
    ) -> None:
        self.path = Path(path)
        self.synchronous = synchronous
        self.lock_wait_s = lock_wait_s
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.connection().executescript(SCHEMA)

    def connection(self) -> sqlite3.Connection:
        """The calling thread's connection, opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # A short busy timeout: `_while_busy` retries on its own, more finely than SQLite's
            # busy handler would sleep, so writers queue up with little dead time.
            conn = sqlite3.connect(
                self.path, timeout=0.005, isolation_level=None, check_same_thread=False
            )
            _while_busy(conn, "PRAGMA journal_mode=WAL", self.lock_wait_s)
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, committed on success and rolled back on error."""
        conn = self.connection()
        _while_busy(conn, "BEGIN IMMEDIATE", self.lock_wait_s)
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:  # SQLite may already have rolled back on its own
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    # Extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_BUSY_RECOVERY...) share the low byte.
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _while_busy(conn: sqlite3.Connection, statement: str, wait_s: float) -> None:
    """Run a statement, retrying with short, growing pauses while the file is locked."""
    deadline, pause = time.monotonic() + wait_s, 0.0002
    while True:
        try:
            conn.execute(statement)
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
            if time.monotonic() > deadline:
                raise Throttled("the database stayed locked past the wait limit") from exc
        time.sleep(pause)
        pause = min(pause * 2, 0.005)
