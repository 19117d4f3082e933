"""A durable work queue on SQLite with SQS's semantics.

A received message is hidden for the visibility timeout and its receive count goes up;
acknowledging deletes it, a failure makes it visible again after a backoff. A message
found visible with `max_receives` receives already spent moves to the dead letters
instead of being handed out again, like SQS's redrive policy.

A message names a toon (job, run, index) rather than copying it: the toon itself is the
row the job store wrote at submit time, which always precedes the fan-out.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from toons.model import JobKey, Toon, WorkItem
from toons.sqlite.db import Database

EXPIRED = "visibility timeout expired before the toon was acknowledged"
Reference = tuple[str, str, int, int]  # owner, job_id, run, index


@dataclass(frozen=True, slots=True)
class Message:
    """A received message: its item, and the handle that acknowledges this receive."""

    id: int
    receipt: str
    receives: int
    item: WorkItem


@dataclass(frozen=True, slots=True)
class DeadMessage:
    """A message that exhausted its receives."""

    id: int
    item: WorkItem
    receives: int
    reason: str


def _placeholders(count: int) -> str:
    return ",".join("?" * count)


def _work_items(conn: sqlite3.Connection, refs: Iterable[Reference]) -> dict[Reference, WorkItem]:
    """Load the toons that references point at, one query per job."""
    by_job: dict[tuple[str, str], list[Reference]] = defaultdict(list)
    for ref in refs:
        by_job[ref[:2]].append(ref)
    items = {}
    for (owner, job_id), job_refs in by_job.items():
        indexes = sorted({ref[3] for ref in job_refs})
        rows = dict(
            conn.execute(
                f"SELECT idx, body FROM toons WHERE owner = ? AND job_id = ? "
                f"AND idx IN ({_placeholders(len(indexes))})",
                (owner, job_id, *indexes),
            ).fetchall()
        )
        for ref in job_refs:
            data = json.loads(rows[ref[3]])
            toon = Toon(data["toonId"], data["type"], data["payload"], ref[3])
            items[ref] = WorkItem(JobKey(owner, job_id), ref[2], toon)
    return items


class SqliteQueue:
    """The embedded engine's work queue."""

    def __init__(self, db: Database, max_receives: int = 5, retry_base_s: float = 0.2) -> None:
        self.db = db
        self.max_receives = max_receives
        self.retry_base_s = retry_base_s

    def enqueue(self, items: Sequence[WorkItem]) -> None:
        """Append items, visible at once (their toons must already be stored)."""
        now = time.time()
        rows = [(i.key.owner, i.key.job_id, i.run, i.toon.index, now) for i in items]
        with self.db.write() as conn:
            conn.executemany(
                "INSERT INTO queue (owner, job_id, run, idx, visible_at) VALUES (?,?,?,?,?)", rows
            )

    def receive(self, limit: int, visibility_s: float) -> list[Message]:
        """Up to `limit` visible messages, hidden for `visibility_s` seconds."""
        now, receipt = time.time(), uuid.uuid4().hex
        with self.db.write() as conn:
            rows = conn.execute(
                "SELECT id, receives FROM queue WHERE visible_at <= ? "
                "ORDER BY visible_at, id LIMIT ?",
                (now, limit),
            ).fetchall()
            spent = [id_ for id_, receives in rows if receives >= self.max_receives]
            live = [id_ for id_, receives in rows if receives < self.max_receives]
            if spent:
                self._dead_letter(conn, spent, now)
            received = (
                conn.execute(
                    f"UPDATE queue SET visible_at = ?, receives = receives + 1, receipt = ? "
                    f"WHERE id IN ({_placeholders(len(live))}) "
                    f"RETURNING id, receives, owner, job_id, run, idx",
                    (now + visibility_s, receipt, *live),
                ).fetchall()
                if live
                else []
            )
        items = _work_items(self.db.connection(), (tuple(row[2:]) for row in received))
        return [Message(row[0], receipt, row[1], items[tuple(row[2:])]) for row in sorted(received)]

    def ack(self, messages: Sequence[Message]) -> None:
        """Delete messages, unless they were received again since (then a later ack will)."""
        if messages:
            with self.db.write() as conn:
                conn.executemany(
                    "DELETE FROM queue WHERE id = ? AND receipt = ?",
                    [(m.id, m.receipt) for m in messages],
                )

    def retry(self, failures: Sequence[tuple[Message, str]]) -> None:
        """Make failed messages visible again after an exponential backoff."""
        now = time.time()
        with self.db.write() as conn:
            conn.executemany(
                "UPDATE queue SET visible_at = ?, last_error = ? WHERE id = ? AND receipt = ?",
                [
                    (now + self.retry_base_s * 2 ** (m.receives - 1), reason, m.id, m.receipt)
                    for m, reason in failures
                ],
            )

    def dead_letters(self, limit: int, parked: bool = False) -> list[DeadMessage]:
        """The oldest dead letters not yet recorded (or, with `parked`, already recorded)."""
        conn = self.db.connection()
        rows = conn.execute(
            "SELECT id, owner, job_id, run, idx, receives, reason FROM dead_letters "
            "WHERE recorded = ? ORDER BY id LIMIT ?",
            (int(parked), limit),
        ).fetchall()
        items = _work_items(conn, (tuple(row[1:5]) for row in rows))
        return [DeadMessage(row[0], items[tuple(row[1:5])], row[5], row[6]) for row in rows]

    def park(self, messages: Sequence[DeadMessage]) -> None:
        """Mark dead letters as recorded; they wait, parked, for a redrive."""
        with self.db.write() as conn:
            conn.executemany(
                "UPDATE dead_letters SET recorded = 1 WHERE id = ?", [(m.id,) for m in messages]
            )

    def redrive(self) -> list[WorkItem]:
        """Move every parked letter back to the queue with a fresh receive count."""
        now = time.time()
        with self.db.write() as conn:
            rows = conn.execute(
                "DELETE FROM dead_letters WHERE recorded = 1 RETURNING owner, job_id, run, idx"
            ).fetchall()
            conn.executemany(
                "INSERT INTO queue (owner, job_id, run, idx, visible_at) VALUES (?,?,?,?,?)",
                [(*row, now) for row in rows],
            )
        items = _work_items(self.db.connection(), (tuple(row) for row in rows))
        return list(items.values())

    def release_in_flight(self) -> int:
        """Make every hidden message visible now; for start-up, when no worker is alive.

        Receive counts stay as they are, so a toon that keeps crashing its worker still
        reaches the dead letters.
        """
        now = time.time()
        with self.db.write() as conn:
            return conn.execute(
                "UPDATE queue SET visible_at = ? WHERE visible_at > ?", (now, now)
            ).rowcount

    def pending_for(self, key: JobKey) -> int:
        """Messages of one job still queued, in flight or dead but not yet recorded."""
        conn = self.db.connection()
        (queued,) = conn.execute(
            "SELECT count(*) FROM queue WHERE owner = ? AND job_id = ?", (key.owner, key.job_id)
        ).fetchone()
        (dead,) = conn.execute(
            "SELECT count(*) FROM dead_letters WHERE owner = ? AND job_id = ? AND recorded = 0",
            (key.owner, key.job_id),
        ).fetchone()
        return queued + dead

    def depth(self) -> dict[str, int]:
        """Messages waiting or in flight, and dead letters."""
        conn = self.db.connection()
        (queued,) = conn.execute("SELECT count(*) FROM queue").fetchone()
        dead, parked = conn.execute(
            "SELECT count(*) - coalesce(sum(recorded), 0), coalesce(sum(recorded), 0) "
            "FROM dead_letters"
        ).fetchone()
        return {"queued": queued, "dead": dead, "parked": parked}

    @staticmethod
    def _dead_letter(conn: sqlite3.Connection, ids: list[int], now: float) -> None:
        marks = _placeholders(len(ids))
        conn.execute(
            f"INSERT OR REPLACE INTO dead_letters "
            f"(id, owner, job_id, run, idx, receives, reason, dead_at) "
            f"SELECT id, owner, job_id, run, idx, receives, coalesce(last_error, ?), ? "
            f"FROM queue WHERE id IN ({marks})",
            (EXPIRED, now, *ids),
        )
        conn.execute(f"DELETE FROM queue WHERE id IN ({marks})", ids)
