"""The event log: every published event, kept in order; the embedded engine's archive.

Publishing is idempotent by event id (ids are deterministic), so a redelivered fact is
stored once. Consumers (aggregator, projector subscribers, replays) read forward from a
sequence number and keep their position in `cursors`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from toons.model import Completion, Event, JobKey, Outcome, event_from_dict
from toons.sqlite.db import Database


class SqliteEventLog:
    """Publisher and archive of events."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def publish(self, events: Sequence[Event]) -> None:
        """Append events; an id already in the log is not stored again."""
        if not events:
            return
        rows = [
            {"index": None, "outcome": None, **body, "body": json.dumps(body)}
            for body in (e.to_dict() for e in events)
        ]
        with self.db.write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO events "
                "(event_id, type, owner, job_id, run, idx, outcome, at, body) VALUES "
                "(:eventId, :type, :userId, :jobId, :run, :index, :outcome, :at, :body)",
                rows,
            )

    def read(
        self, after: int, limit: int, types: Sequence[str] | None = None
    ) -> list[tuple[int, Event]]:
        """Events with a sequence number above `after`, oldest first (optionally by type)."""
        query, params = "SELECT seq, body FROM events WHERE seq > ?", [after]
        if types:
            query += f" AND type IN ({','.join('?' * len(types))})"
            params += list(types)
        rows = self.db.connection().execute(query + " ORDER BY seq LIMIT ?", (*params, limit))
        return [(seq, event_from_dict(json.loads(body))) for seq, body in rows]

    def completions(self, after: int, limit: int) -> list[tuple[int, Completion]]:
        """Toon completions above `after`, read from their columns (no JSON decoding)."""
        rows = self.db.connection().execute(
            "SELECT seq, owner, job_id, run, idx, outcome FROM events "
            "WHERE seq > ? AND outcome IS NOT NULL ORDER BY seq LIMIT ?",
            (after, limit),
        )
        return [
            (seq, Completion(JobKey(owner, job_id), run, idx, Outcome(outcome)))
            for seq, owner, job_id, run, idx, outcome in rows
        ]

    def position(self, name: str) -> int:
        """A consumer's saved position (0 when it has none)."""
        row = (
            self.db.connection()
            .execute("SELECT position FROM cursors WHERE name = ?", (name,))
            .fetchone()
        )
        return row[0] if row else 0

    def advance(self, name: str, position: int) -> None:
        """Save a consumer's position."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO cursors (name, position) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                (name, position),
            )
