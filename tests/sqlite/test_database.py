"""Database: all-or-nothing write transactions, connections per thread, the write-lock wait."""

from __future__ import annotations

import threading
import time

import pytest

from toons.errors import Throttled
from toons.sqlite import Database


def cursor_names(db: Database) -> list[str]:
    rows = db.connection().execute("SELECT name FROM cursors ORDER BY name")
    return [name for (name,) in rows]


def in_thread(work) -> object:
    """Run `work` in a new thread and return what it returned (or raise what it raised)."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_a_write_that_raises_rolls_back_everything(db):
    with pytest.raises(RuntimeError), db.write() as conn:
        conn.execute("INSERT INTO cursors VALUES ('a', 1)")
        conn.execute("INSERT INTO cursors VALUES ('b', 2)")
        raise RuntimeError("crash mid-step")

    assert cursor_names(db) == []


def test_the_connection_is_usable_after_a_rolled_back_write(db):
    with pytest.raises(RuntimeError), db.write() as conn:
        conn.execute("INSERT INTO cursors VALUES ('a', 1)")
        raise RuntimeError("crash mid-step")

    with db.write() as conn:
        conn.execute("INSERT INTO cursors VALUES ('b', 2)")

    assert cursor_names(db) == ["b"]
    assert not db.connection().in_transaction


def test_a_rolled_back_write_does_not_undo_earlier_commits(db):
    with db.write() as conn:
        conn.execute("INSERT INTO cursors VALUES ('kept', 1)")

    with pytest.raises(RuntimeError), db.write() as conn:
        conn.execute("UPDATE cursors SET position = 99")
        raise RuntimeError("crash mid-step")

    assert db.connection().execute("SELECT position FROM cursors").fetchall() == [(1,)]


def test_each_thread_gets_its_own_connection(db):
    mine = db.connection()

    theirs = in_thread(db.connection)

    assert theirs is not mine
    assert db.connection() is mine


def test_two_databases_on_one_file_in_different_threads_see_each_others_commits(tmp_path):
    path = tmp_path / "shared.db"
    first = Database(path)

    def other_side() -> list[str]:
        second = Database(path)
        seen = cursor_names(second)
        with second.write() as conn:
            conn.execute("INSERT INTO cursors VALUES ('from-second', 2)")
        second.close()
        return seen

    with first.write() as conn:
        conn.execute("INSERT INTO cursors VALUES ('from-first', 1)")

    assert in_thread(other_side) == ["from-first"]
    assert cursor_names(first) == ["from-first", "from-second"]
    first.close()


def test_the_write_lock_wait_gives_up_with_throttled(tmp_path):
    holder = Database(tmp_path / "toons.db")
    waiter = Database(tmp_path / "toons.db", lock_wait_s=0.05)

    with holder.write():
        started = time.monotonic()
        with pytest.raises(Throttled), waiter.write():
            pass
        waited = time.monotonic() - started

    assert waited >= 0.05
    assert cursor_names(waiter) == []


def test_the_write_lock_wait_succeeds_when_the_holder_lets_go_in_time(tmp_path):
    holder = Database(tmp_path / "toons.db")
    waiter = Database(tmp_path / "toons.db", lock_wait_s=5.0)
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.write() as conn:
            conn.execute("INSERT INTO cursors VALUES ('holder', 1)")
            locked.set()
            release.wait(5)
        holder.close()

    thread = threading.Thread(target=hold)
    thread.start()
    locked.wait(5)
    threading.Timer(0.05, release.set).start()

    with waiter.write() as conn:
        conn.execute("INSERT INTO cursors VALUES ('waiter', 2)")
    thread.join(5)

    assert cursor_names(waiter) == ["holder", "waiter"]
