"""A durable work queue on SQLite with SQS's semantics.

A received message is hidden for the visibility timeout and its receive count goes up;
acknowledging deletes it, a failure makes it visible again after a backoff. A message
found visible with `max_receives` receives already spent moves to the dead letters
instead of being handed out again, like SQS's redrive policy.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from toons.model import WorkItem
from toons.sqlite.db import Database

EXPIRED = "visibility timeout expired before the toon was acknowledged"


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


class SqliteQueue:
    """The embedded engine's work queue."""

    def __init__(self, db: Database, max_receives: int = 5, retry_base_s: float = 0.2) -> None:
        self.db = db
        self.max_receives = max_receives
        self.retry_base_s = retry_base_s

    def enqueue(self, items: Sequence[WorkItem]) -> None:
        """Append items, visible at once."""
        now = time.time()
        with self.db.write() as conn:
            conn.executemany(
                "INSERT INTO queue (body, visible_at) VALUES (?, ?)",
                [(json.dumps(item.to_dict()), now) for item in items],
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
            received = conn.execute(
                f"UPDATE queue SET visible_at = ?, receives = receives + 1, receipt = ? "
                f"WHERE id IN ({_placeholders(len(live))}) RETURNING id, receives, body",
                (now + visibility_s, receipt, *live),
            ).fetchall() if live else []
        return [Message(id_, receipt, receives, WorkItem.from_dict(json.loads(body)))
                for id_, receives, body in sorted(received)]

    def ack(self, messages: Sequence[Message]) -> None:
        """Delete messages, unless they were received again since (then a later ack will)."""
        if messages:
            with self.db.write() as conn:
                conn.executemany("DELETE FROM queue WHERE id = ? AND receipt = ?",
                                 [(m.id, m.receipt) for m in messages])

    def retry(self, failures: Sequence[tuple[Message, str]]) -> None:
        """Make failed messages visible again after an exponential backoff."""
        now = time.time()
        with self.db.write() as conn:
            conn.executemany(
                "UPDATE queue SET visible_at = ?, last_error = ? WHERE id = ? AND receipt = ?",
                [(now + self.retry_base_s * 2 ** (m.receives - 1), reason, m.id, m.receipt)
                 for m, reason in failures],
            )

    def dead_letters(self, limit: int) -> list[DeadMessage]:
        """The oldest dead-lettered messages."""
        rows = self.db.connection().execute(
            "SELECT id, body, receives, reason FROM dead_letters ORDER BY id LIMIT ?", (limit,)
        )
        return [DeadMessage(id_, WorkItem.from_dict(json.loads(body)), receives, reason)
                for id_, body, receives, reason in rows]

    def drop_dead(self, messages: Sequence[DeadMessage]) -> None:
        """Remove dead letters once their failure is recorded."""
        with self.db.write() as conn:
            conn.executemany("DELETE FROM dead_letters WHERE id = ?", [(m.id,) for m in messages])

    def depth(self) -> dict[str, int]:
        """Messages waiting or in flight, and dead letters."""
        conn = self.db.connection()
        (queued,) = conn.execute("SELECT count(*) FROM queue").fetchone()
        (dead,) = conn.execute("SELECT count(*) FROM dead_letters").fetchone()
        return {"queued": queued, "dead": dead}

    def _dead_letter(self, conn, ids: list[int], now: float) -> None:
        marks = _placeholders(len(ids))
        conn.execute(
            f"INSERT OR REPLACE INTO dead_letters (id, body, receives, reason, dead_at) "
            f"SELECT id, body, receives, coalesce(last_error, ?), ? FROM queue "
            f"WHERE id IN ({marks})",
            (EXPIRED, now, *ids),
        )
        conn.execute(f"DELETE FROM queue WHERE id IN ({marks})", ids)
