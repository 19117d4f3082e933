"""Fixtures for the SQLite adapter tests: a database on `tmp_path`, its adapters, factories."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from toons.sqlite import Database, SqliteEventLog, SqliteJobStore, SqliteQueue, SqliteResultStore


@pytest.fixture
def db(tmp_path) -> Iterator[Database]:
    """A fresh engine database file, closed after the test."""
    database = Database(tmp_path / "toons.db")
    yield database
    database.close()


@pytest.fixture
def jobs(db: Database) -> SqliteJobStore:
    return SqliteJobStore(db)


@pytest.fixture
def results(db: Database) -> SqliteResultStore:
    return SqliteResultStore(db)


@pytest.fixture
def queue(db: Database) -> SqliteQueue:
    return SqliteQueue(db)


@pytest.fixture
def events(db: Database) -> SqliteEventLog:
    return SqliteEventLog(db)
