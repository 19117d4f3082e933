"""The job store (with its change feed and per-user list) and the result store on SQLite."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from toons import tally
from toons.errors import StoreConflict
from toons.model import Job, JobChange, JobKey, JobStatus, JobSummary, Toon, ToonResult
from toons.ports import Page, Position
from toons.sqlite.db import Database

JOB_COLUMNS = (
    "owner, job_id, status, total, run, created_at, updated_at, digest, "
    "processed_bits, failed_bits, version"
)


def _job_row(job: Job) -> tuple[Any, ...]:
    return (
        job.key.owner,
        job.key.job_id,
        str(job.status),
        job.total,
        job.run,
        job.created_at,
        job.updated_at,
        job.request_digest,
        tally.to_bytes(job.processed_bits, job.total),
        tally.to_bytes(job.failed_bits, job.total),
        job.version,
    )


def _job(row: sqlite3.Row | tuple[Any, ...]) -> Job:
    owner, job_id, status, total, run, created, updated, digest, done, failed, version = row
    return Job(
        key=JobKey(owner, job_id),
        status=JobStatus(status),
        total=total,
        created_at=created,
        updated_at=updated,
        request_digest=digest,
        run=run,
        processed_bits=tally.from_bytes(done),
        failed_bits=tally.from_bytes(failed),
        version=version,
    )


def _summary_json(summary: JobSummary | None) -> str | None:
    if summary is None:
        return None
    return json.dumps(
        {**summary.to_dict(), "userId": summary.key.owner, "version": summary.version}
    )


def _summary(text: str | None) -> JobSummary | None:
    if text is None:
        return None
    data = json.loads(text)
    return JobSummary.from_dict(data["userId"], data, data["version"])


class SqliteJobStore:
    """Jobs, their toons, the change feed of job writes, and the per-user job list."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, job: Job, toons: Sequence[Toon]) -> Job | None:
        """Insert the job and its toons unless the key exists (then return the stored job)."""
        rows = [(job.key.owner, job.key.job_id, t.index, json.dumps(t.to_dict())) for t in toons]
        with self.db.write() as conn:
            stored = self._read(conn, job.key)
            if stored is not None:
                return stored
            conn.execute(
                f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", _job_row(job)
            )
            conn.executemany("INSERT INTO toons (owner, job_id, idx, body) VALUES (?,?,?,?)", rows)
            self._record_change(conn, None, job)
        return None

    def get(self, key: JobKey) -> Job | None:
        """The job, or None."""
        return self._read(self.db.connection(), key)

    def toons(self, key: JobKey) -> list[Toon]:
        """The job's toons in index order."""
        rows = self.db.connection().execute(
            "SELECT idx, body FROM toons WHERE owner = ? AND job_id = ? ORDER BY idx",
            (key.owner, key.job_id),
        )
        return [_toon(index, body) for index, body in rows]

    def finish_fan_out(self, key: JobKey, now: str) -> None:
        """Pending -> Processing; nothing in any other status."""
        with self.db.write() as conn:
            job = self._read(conn, key)
            if job is not None and job.status is JobStatus.PENDING:
                self._replace(conn, job, job.bump(status=JobStatus.PROCESSING, updated_at=now))

    def save(self, job: Job, expected_version: int) -> None:
        """Replace the job if its stored version is `expected_version`."""
        with self.db.write() as conn:
            stored = self._read(conn, job.key)
            if stored is None or stored.version != expected_version:
                raise StoreConflict(f"job {job.key} is no longer at version {expected_version}")
            self._replace(conn, stored, job)

    def pending(self) -> list[JobKey]:
        """Jobs whose fan-out was never confirmed (a crash during submit)."""
        rows = self.db.connection().execute(
            "SELECT owner, job_id FROM jobs WHERE status = ?", (str(JobStatus.PENDING),)
        )
        return [JobKey(owner, job_id) for owner, job_id in rows]

    def open_jobs(self, updated_before: str) -> list[JobKey]:
        """Jobs not yet terminal whose last write is older than `updated_before`."""
        rows = self.db.connection().execute(
            "SELECT owner, job_id FROM jobs WHERE status IN (?, ?) AND updated_at < ?",
            (str(JobStatus.PENDING), str(JobStatus.PROCESSING), updated_before),
        )
        return [JobKey(owner, job_id) for owner, job_id in rows]

    def changes(self, limit: int) -> list[tuple[int, JobChange]]:
        """The oldest unconsumed change records, with their sequence numbers."""
        rows = self.db.connection().execute(
            "SELECT seq, old, new FROM job_changes ORDER BY seq LIMIT ?", (limit,)
        )
        return [(seq, JobChange(_summary(old), _summary(new))) for seq, old, new in rows]

    def consume_changes(self, up_to: int) -> None:
        """Drop change records up to `up_to` once they are applied."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM job_changes WHERE seq <= ?", (up_to,))

    def project(self, summary: JobSummary) -> None:
        """Upsert the owner's list row unless a newer version is stored."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO job_list (owner, created_at, job_id, version, body) "
                "VALUES (?,?,?,?,?) ON CONFLICT (owner, created_at, job_id) DO UPDATE "
                "SET version = excluded.version, body = excluded.body "
                "WHERE excluded.version > job_list.version",
                (
                    summary.key.owner,
                    summary.created_at,
                    summary.key.job_id,
                    summary.version,
                    json.dumps(summary.to_dict()),
                ),
            )

    def list_jobs(self, owner: str, limit: int, after: Position | None) -> Page[JobSummary]:
        """The owner's jobs, newest first."""
        start = (after["createdAt"], after["jobId"]) if after else ("\uffff", "")
        rows = (
            self.db.connection()
            .execute(
                "SELECT version, body FROM job_list "
                "WHERE owner = ? AND (created_at, job_id) < (?, ?) "
                "ORDER BY created_at DESC, job_id DESC LIMIT ?",
                (owner, *start, limit + 1),
            )
            .fetchall()
        )
        items = [JobSummary.from_dict(owner, json.loads(body), v) for v, body in rows[:limit]]
        last = items[-1] if len(rows) > limit else None
        position = {"createdAt": last.created_at, "jobId": last.key.job_id} if last else None
        return Page(items, position)

    @staticmethod
    def _read(conn: sqlite3.Connection, key: JobKey) -> Job | None:
        row = conn.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE owner = ? AND job_id = ?",
            (key.owner, key.job_id),
        ).fetchone()
        return _job(row) if row else None

    def _replace(self, conn: sqlite3.Connection, old: Job, new: Job) -> None:
        conn.execute(
            f"REPLACE INTO jobs ({JOB_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", _job_row(new)
        )
        self._record_change(conn, old, new)

    @staticmethod
    def _record_change(conn: sqlite3.Connection, old: Job | None, new: Job) -> None:
        conn.execute(
            "INSERT INTO job_changes (old, new) VALUES (?, ?)",
            (_summary_json(old.summary() if old else None), _summary_json(new.summary())),
        )


def _toon(index: int, body: str) -> Toon:
    data = json.loads(body)
    return Toon(data["toonId"], data["type"], data["payload"], index)


class SqliteResultStore:
    """One result row per (job, toon)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, results: Sequence[ToonResult]) -> None:
        """Insert results; an existing row stays unless the new one supersedes it.

        The WHERE clause is `ToonResult.supersedes` written as a conditional upsert.
        """
        if not results:
            return
        # Rows are encoded before taking the write lock, which other processes wait on.
        rows = [
            (
                r.key.owner,
                r.key.job_id,
                r.index,
                r.run,
                str(r.outcome),
                json.dumps(r.to_record()),
                r.processed_text(),
            )
            for r in results
        ]
        with self.db.write() as conn:
            conn.executemany(
                "INSERT INTO results (owner, job_id, idx, run, outcome, body, processed) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT (owner, job_id, idx) DO UPDATE "
                "SET run = excluded.run, outcome = excluded.outcome, body = excluded.body, "
                "processed = excluded.processed "
                "WHERE excluded.run > results.run OR (excluded.run = results.run "
                "AND excluded.outcome = 'PROCESSED' AND results.outcome = 'FAILED')",
                rows,
            )

    def list(self, key: JobKey, limit: int, after: Position | None) -> Page[ToonResult]:
        """The job's results in toon order."""
        start = after["index"] if after else -1
        rows = (
            self.db.connection()
            .execute(
                "SELECT body, processed FROM results WHERE owner = ? AND job_id = ? AND idx > ? "
                "ORDER BY idx LIMIT ?",
                (key.owner, key.job_id, start, limit + 1),
            )
            .fetchall()
        )
        items = [
            ToonResult.from_record(json.loads(body), processed) for body, processed in rows[:limit]
        ]
        position = {"index": items[-1].index} if len(rows) > limit else None
        return Page(items, position)
