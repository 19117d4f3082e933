"""The SQS work queue and the parked queue: every message sent, refused entries retried."""

from __future__ import annotations

import json

import pytest

from toons.aws import DeliveryError
from toons.aws.sqs import BATCH_BYTES, batches
from toons.model import WorkItem


def _flaky(client, refusals, accepted=1):
    """Wrap `send_message_batch`: its first `refusals` calls send only `accepted` entries.

    The other entries come back in `Failed`, as SQS reports a partial failure.
    """
    real, calls = client.send_message_batch, []

    def send_message_batch(QueueUrl, Entries):
        calls.append([entry["Id"] for entry in Entries])
        if len(calls) > refusals:
            return real(QueueUrl=QueueUrl, Entries=Entries)
        sent = real(QueueUrl=QueueUrl, Entries=Entries[:accepted]) if accepted else {}
        refused = [
            {"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "try again"}
            for e in Entries[accepted:]
        ]
        return {"Successful": sent.get("Successful", []), "Failed": refused}

    return send_message_batch, calls


def test_enqueue_of_25_items_sends_25_messages(queue, stored_job, make_items, drain):
    job, toons = stored_job(25)
    items = make_items(job, toons)

    queue.enqueue(items)

    bodies = drain(queue.url)
    received = sorted(
        (WorkItem.from_dict(json.loads(b)) for b in bodies), key=lambda i: i.toon.index
    )
    assert received == items


def test_refused_entries_are_sent_again(queue, stored_job, make_items, drain, monkeypatch):
    job, toons = stored_job(10)
    send, calls = _flaky(queue.client, refusals=1)
    monkeypatch.setattr(queue.client, "send_message_batch", send)

    queue.enqueue(make_items(job, toons))

    assert calls == [[str(i) for i in range(10)], [str(i) for i in range(1, 10)]]
    assert len(drain(queue.url)) == 10


def test_entries_refused_on_every_attempt_raise(queue, stored_job, make_items, monkeypatch):
    job, toons = stored_job(3)
    send, calls = _flaky(queue.client, refusals=99, accepted=0)
    monkeypatch.setattr(queue.client, "send_message_batch", send)

    with pytest.raises(DeliveryError, match="InternalError"):
        queue.enqueue(make_items(job, toons))

    assert len(calls) == queue.attempts


def test_batches_hold_at_most_ten_messages_and_the_byte_limit():
    small, big = "x" * 100, "y" * (BATCH_BYTES // 3)

    assert [len(b) for b in batches([small] * 25)] == [10, 10, 5]
    assert [len(b) for b in batches([big] * 7)] == [3, 3, 1]


def test_parked_messages_are_redriven_to_the_work_queue(parking, names, drain):
    bodies = [json.dumps({"n": i}) for i in range(23)]
    parking.park(bodies)

    moved = parking.redrive()

    assert sorted(moved) == sorted(bodies)
    assert sorted(drain(names.work_queue_url)) == sorted(bodies)
    assert drain(names.parked_queue_url) == []


def test_redrive_moves_at_most_its_limit(parking, names, drain):
    parking.park([json.dumps({"n": i}) for i in range(15)])

    moved = parking.redrive(limit=12)

    assert len(moved) == 12
    assert len(drain(names.work_queue_url)) == 12
    assert len(drain(names.parked_queue_url)) == 3


def test_redrive_of_an_empty_parking_moves_nothing(parking):
    assert parking.redrive() == []


def test_entry_refused_by_the_senders_fault_raises_without_retrying(
    queue, stored_job, make_items, monkeypatch
):
    job, toons = stored_job(2)
    calls = []

    def send_message_batch(QueueUrl, Entries):
        calls.append(Entries)
        refused = [
            {"Id": e["Id"], "SenderFault": True, "Code": "InvalidMessageContents"} for e in Entries
        ]
        return {"Successful": [], "Failed": refused}

    monkeypatch.setattr(queue.client, "send_message_batch", send_message_batch)

    with pytest.raises(DeliveryError, match="InvalidMessageContents"):
        queue.enqueue(make_items(job, toons))

    assert len(calls) == 1
