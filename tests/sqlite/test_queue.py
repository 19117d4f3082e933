"""SqliteQueue: visibility, receive counts, stale receipts, retries, dead letters, contention."""

from __future__ import annotations

import threading
import time

import pytest

from toons.model import Toon, WorkItem
from toons.sqlite import SqliteQueue
from toons.sqlite.queue import EXPIRED

LONG = 30.0  # a visibility that cannot expire during a test
SHORT = 0.05


@pytest.fixture
def enqueued(queue, stored_job, make_items):
    """Create a job of `count` toons and enqueue its run; returns the work items."""

    def make(count: int = 1, into: SqliteQueue | None = None) -> list[WorkItem]:
        job, toons = stored_job(count)
        items = make_items(job, toons)
        (into or queue).enqueue(items)
        return items

    return make


def receive_within(queue: SqliteQueue, timeout_s: float = 2.0, limit: int = 10):
    """The first non-empty receive within `timeout_s` (polling), else an empty list."""
    deadline = time.monotonic() + timeout_s
    while True:
        messages = queue.receive(limit, LONG)
        if messages or time.monotonic() > deadline:
            return messages
        time.sleep(0.005)


def test_receive_hands_out_the_stored_toons_of_enqueued_items(queue, enqueued):
    items = enqueued(3)

    messages = queue.receive(10, LONG)

    assert [m.item for m in messages] == items


def test_receive_hands_out_at_most_limit_messages_oldest_first(queue, enqueued):
    items = enqueued(5)

    messages = queue.receive(2, LONG)

    assert [m.item for m in messages] == items[:2]


def test_a_message_carries_the_toon_as_the_job_store_keeps_it(queue, jobs, make_job):
    job = make_job(1, run=3)
    toon = Toon("img-1", "IMAGE", {"url": "https://x.test/i.png", "tags": ["a", "b"]}, 0)
    jobs.create(job, [toon])

    queue.enqueue([WorkItem(job.key, job.run, toon)])

    [message] = queue.receive(1, LONG)
    assert message.item == WorkItem(job.key, 3, toon)


def test_receive_hides_messages_for_the_visibility_timeout(queue, enqueued):
    enqueued(2)

    first = queue.receive(10, LONG)

    assert len(first) == 2
    assert queue.receive(10, LONG) == []


def test_receive_counts_each_receive(queue, enqueued):
    enqueued(1)

    [first] = queue.receive(1, SHORT)
    [second] = receive_within(queue)

    assert (first.receives, second.receives) == (1, 2)
    assert first.id == second.id


def test_messages_reappear_after_the_visibility_timeout(queue, enqueued):
    [item] = enqueued(1)
    queue.receive(1, SHORT)

    time.sleep(SHORT + 0.01)

    assert [m.item for m in queue.receive(1, LONG)] == [item]


def test_a_reappearing_message_gets_a_new_receipt(queue, enqueued):
    enqueued(1)

    [first] = queue.receive(1, SHORT)
    [second] = receive_within(queue)

    assert first.receipt != second.receipt


def test_ack_deletes_the_message(queue, enqueued):
    enqueued(2)
    messages = queue.receive(10, SHORT)

    queue.ack(messages)

    assert queue.depth() == {"queued": 0, "dead": 0, "parked": 0}
    time.sleep(SHORT + 0.01)
    assert queue.receive(10, LONG) == []


def test_ack_with_a_stale_receipt_does_not_delete(queue, enqueued):
    enqueued(1)
    [stale] = queue.receive(1, SHORT)
    [current] = receive_within(queue)

    queue.ack([stale])

    assert queue.depth()["queued"] == 1
    queue.ack([current])
    assert queue.depth()["queued"] == 0


def test_retry_makes_a_message_visible_again_after_the_backoff(db, enqueued):
    queue = SqliteQueue(db, retry_base_s=0.2)
    enqueued(1, into=queue)
    [message] = queue.receive(1, LONG)

    queue.retry([(message, "RuntimeError: boom")])

    assert queue.receive(1, LONG) == []
    [again] = receive_within(queue)
    assert (again.id, again.receives) == (message.id, 2)


def test_retry_backs_off_exponentially_with_the_receive_count(db, enqueued):
    queue = SqliteQueue(db, retry_base_s=1.0)
    enqueued(1, into=queue)
    for _ in range(2):
        queue.receive(1, SHORT)
        time.sleep(SHORT + 0.01)
    [message] = queue.receive(1, LONG)

    before = time.time()
    queue.retry([(message, "boom")])

    (visible_at,) = db.connection().execute("SELECT visible_at FROM queue").fetchone()
    assert visible_at - before == pytest.approx(4.0, abs=0.5)


def test_retry_keeps_the_reason_with_the_message(db, enqueued):
    queue = SqliteQueue(db, retry_base_s=0.01)
    enqueued(1, into=queue)
    [message] = queue.receive(1, LONG)

    queue.retry([(message, "RuntimeError: boom")])

    (reason,) = db.connection().execute("SELECT last_error FROM queue").fetchone()
    assert reason == "RuntimeError: boom"


def test_retry_with_a_stale_receipt_changes_nothing(db, enqueued):
    queue = SqliteQueue(db, retry_base_s=1000.0)
    enqueued(1, into=queue)
    [stale] = queue.receive(1, SHORT)
    [current] = receive_within(queue)

    queue.retry([(stale, "late failure")])

    visible_at, reason = (
        db.connection().execute("SELECT visible_at, last_error FROM queue").fetchone()
    )
    assert reason is None
    assert visible_at < time.time() + LONG + 1
    queue.ack([current])
    assert queue.depth()["queued"] == 0


def test_a_message_past_max_receives_is_dead_lettered_with_the_last_error(db, enqueued):
    queue = SqliteQueue(db, max_receives=2, retry_base_s=0.01)
    [item] = enqueued(1, into=queue)
    [message] = queue.receive(1, LONG)
    queue.retry([(message, "RuntimeError: first")])
    [message] = receive_within(queue)
    queue.retry([(message, "RuntimeError: second")])
    time.sleep(0.03)

    assert queue.receive(1, LONG) == []

    [dead] = queue.dead_letters(10)
    assert (dead.item, dead.receives, dead.reason) == (item, 2, "RuntimeError: second")


def test_a_message_that_only_timed_out_is_dead_lettered_as_expired(db, enqueued):
    queue = SqliteQueue(db, max_receives=2)
    [item] = enqueued(1, into=queue)
    queue.receive(1, SHORT)
    time.sleep(SHORT + 0.01)
    queue.receive(1, SHORT)
    time.sleep(SHORT + 0.01)

    assert queue.receive(1, LONG) == []

    [dead] = queue.dead_letters(10)
    assert (dead.item, dead.receives, dead.reason) == (item, 2, EXPIRED)


def test_a_message_is_not_dead_lettered_while_it_is_still_invisible(db, enqueued):
    queue = SqliteQueue(db, max_receives=1)
    enqueued(1, into=queue)

    queue.receive(1, LONG)
    queue.receive(1, LONG)

    assert queue.dead_letters(10) == []
    assert queue.depth() == {"queued": 1, "dead": 0, "parked": 0}


def test_a_dead_lettered_message_is_no_longer_handed_out(db, enqueued):
    queue = SqliteQueue(db, max_receives=1)
    enqueued(1, into=queue)
    queue.receive(1, SHORT)
    time.sleep(SHORT + 0.01)
    queue.receive(1, LONG)

    time.sleep(SHORT + 0.01)

    assert queue.receive(10, SHORT) == []
    assert queue.depth() == {"queued": 0, "dead": 1, "parked": 0}


def test_spent_messages_do_not_stop_live_ones_from_being_received(db, enqueued):
    queue = SqliteQueue(db, max_receives=1)
    [spent] = enqueued(1, into=queue)
    queue.receive(1, SHORT)
    time.sleep(SHORT + 0.01)
    [live] = enqueued(1, into=queue)

    received = receive_within(queue)

    assert [m.item for m in received] == [live]
    assert [d.item for d in queue.dead_letters(10)] == [spent]


def test_dead_letters_are_listed_oldest_first_up_to_the_limit(db, enqueued):
    queue = SqliteQueue(db, max_receives=1)
    items = enqueued(3, into=queue)
    queue.receive(10, SHORT)
    time.sleep(SHORT + 0.01)
    queue.receive(10, LONG)

    assert [d.item for d in queue.dead_letters(2)] == items[:2]


def test_park_sets_aside_only_the_given_dead_letters(db, enqueued):
    queue = SqliteQueue(db, max_receives=1)
    items = enqueued(3, into=queue)
    queue.receive(10, SHORT)
    time.sleep(SHORT + 0.01)
    queue.receive(10, LONG)

    queue.park(queue.dead_letters(2))

    assert [d.item for d in queue.dead_letters(10)] == items[2:]
    assert queue.depth() == {"queued": 0, "dead": 1, "parked": 2}


def test_depth_counts_waiting_and_in_flight_messages_and_dead_letters(db, enqueued):
    queue = SqliteQueue(db, max_receives=1)
    enqueued(2, into=queue)
    queue.receive(1, SHORT)
    time.sleep(SHORT + 0.01)
    queue.receive(10, LONG)  # dead-letters the spent one, receives the other
    enqueued(3, into=queue)

    assert queue.depth() == {"queued": 4, "dead": 1, "parked": 0}


def test_two_concurrent_receivers_never_get_the_same_invisible_message(db, queue, enqueued):
    items = enqueued(300)
    start = threading.Barrier(2)
    received: dict[str, list[int]] = {"a": [], "b": []}

    def receiver(name: str) -> None:
        start.wait()
        while messages := queue.receive(3, LONG):
            received[name].extend(m.id for m in messages)
        db.close()  # this thread's own connection

    threads = [threading.Thread(target=receiver, args=(name,)) for name in received]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    a, b = received["a"], received["b"]
    assert len(a) + len(b) == len(items)
    assert set(a).isdisjoint(b)
    assert len(set(a) | set(b)) == len(items)


def test_release_in_flight_makes_hidden_messages_visible_and_keeps_their_receive_counts(
    queue, enqueued
):
    items = enqueued(3)
    queue.receive(2, LONG)

    assert queue.release_in_flight() == 2

    received = queue.receive(10, LONG)
    assert [m.item for m in received] == items
    assert sorted(m.receives for m in received) == [1, 2, 2]
