"""The EventBridge publisher packs toon events per (job, run, type); readers unpack them."""

from __future__ import annotations

import base64
import json

import pytest

from toons.aws import (
    DeliveryError,
    completions_from_detail,
    completions_from_kinesis_record,
    toon_events_from_detail,
    wiring,
)
from toons.aws.events import CALL_BYTES, CALL_ENTRIES, DETAIL_BYTES, entries_for
from toons.model import JobKey, JobStatus, JobStatusChanged, Outcome, ToonEvent


def _toon_events(key, count, outcome=Outcome.PROCESSED, run=1, start=0):
    return [
        ToonEvent(
            key=key,
            run=run,
            index=i,
            toon_id=f"T-{i:05d}",
            outcome=outcome,
            at="2025-01-01T00:00:01.000Z",
            fingerprint=f"{i:064x}" if outcome is Outcome.PROCESSED else None,
            duration_ms=0.25,
            is_valid=True,
            processor_version="1.0.0",
            reason=None if outcome is Outcome.PROCESSED else "RuntimeError: boom",
        )
        for i in range(start, start + count)
    ]


def _status_change(key):
    return JobStatusChanged(
        key=key,
        run=1,
        from_status=JobStatus.PROCESSING,
        to_status=JobStatus.COMPLETED,
        processed=3,
        failed=0,
        total=3,
        version=7,
        at="2025-01-01T00:00:09.000Z",
    )


def _spy(publisher, monkeypatch):
    """Record the entries of every PutEvents call, then let the call through."""
    real, calls = publisher.client.put_events, []

    def put_events(Entries):
        calls.append(Entries)
        return real(Entries=Entries)

    monkeypatch.setattr(publisher.client, "put_events", put_events)
    return calls


def _refusing(publisher, monkeypatch, refusals, accepted=1):
    """PutEvents whose first `refusals` calls publish only their first `accepted` entries."""
    real, calls = publisher.client.put_events, []

    def put_events(Entries):
        calls.append(Entries)
        if len(calls) > refusals:
            return real(Entries=Entries)
        published = real(Entries=Entries[:accepted])["Entries"] if accepted else []
        refused = [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}] * (
            len(Entries) - accepted
        )
        return {"FailedEntryCount": len(refused), "Entries": published + refused}

    monkeypatch.setattr(publisher.client, "put_events", put_events)
    return calls


def test_hundred_toon_events_of_one_job_make_one_entry(publisher, new_key, monkeypatch):
    calls = _spy(publisher, monkeypatch)
    key = new_key()

    publisher.publish(_toon_events(key, 100))

    [[entry]] = calls
    detail = json.loads(entry["Detail"])
    assert entry["DetailType"] == "ToonProcessed"
    assert entry["Source"] == wiring.EVENT_SOURCE
    assert entry["EventBusName"] == publisher.bus_name
    assert (detail["jobKey"], detail["userId"], detail["jobId"]) == (
        str(key),
        key.owner,
        key.job_id,
    )
    assert len(detail["events"]) == 100


def test_toon_events_of_two_jobs_make_two_entries(publisher, new_key, monkeypatch):
    calls = _spy(publisher, monkeypatch)
    first, second = new_key(), new_key()

    publisher.publish(_toon_events(first, 5) + _toon_events(second, 5))

    [entries] = calls
    assert [json.loads(e["Detail"])["jobKey"] for e in entries] == [str(first), str(second)]


def test_processed_and_failed_events_of_one_job_travel_apart(publisher, new_key, monkeypatch):
    calls = _spy(publisher, monkeypatch)
    key = new_key()

    publisher.publish(_toon_events(key, 3) + _toon_events(key, 2, Outcome.FAILED, start=3))

    [entries] = calls
    assert [e["DetailType"] for e in entries] == ["ToonProcessed", "ToonFailed"]


def test_a_status_change_is_an_entry_of_its_own(publisher, new_key, monkeypatch):
    calls = _spy(publisher, monkeypatch)
    key = new_key()
    change = _status_change(key)

    publisher.publish([*_toon_events(key, 2), change])

    [entries] = calls
    assert [e["DetailType"] for e in entries] == ["ToonProcessed", "JobStatusChanged"]
    assert json.loads(entries[1]["Detail"]) == {**change.to_dict(), "jobKey": str(key)}


def test_many_events_split_into_capped_entries_and_calls(publisher, new_key, monkeypatch):
    calls = _spy(publisher, monkeypatch)
    events = [e for _ in range(4) for e in _toon_events(new_key(), 800)]

    publisher.publish(events)

    entries = [entry for call in calls for entry in call]
    assert all(len(e["Detail"].encode()) <= DETAIL_BYTES for e in entries)
    assert all(len(call) <= CALL_ENTRIES for call in calls)
    assert all(sum(len(e["Detail"].encode()) for e in call) <= CALL_BYTES for call in calls)
    published = [t for e in entries for t in toon_events_from_detail(json.loads(e["Detail"]))]
    assert published == events


def test_refused_entries_are_published_again(publisher, new_key, monkeypatch):
    calls = _refusing(publisher, monkeypatch, refusals=1)
    keys = [new_key() for _ in range(3)]

    publisher.publish([e for key in keys for e in _toon_events(key, 2)])

    assert [len(call) for call in calls] == [3, 2]
    assert [json.loads(e["Detail"])["jobKey"] for e in calls[1]] == [str(keys[1]), str(keys[2])]


def test_entries_refused_on_every_attempt_raise(publisher, new_key, monkeypatch):
    calls = _refusing(publisher, monkeypatch, refusals=99, accepted=0)

    with pytest.raises(DeliveryError, match="InternalFailure"):
        publisher.publish(_toon_events(new_key(), 1) + _toon_events(new_key(), 1))

    assert len(calls) == publisher.attempts


def test_published_entries_reach_a_rule_target_on_the_bus(publisher, session, new_key, drain):
    sqs, events = session.client("sqs"), session.client("events")
    url = sqs.create_queue(QueueName="t-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    rule = wiring.RULES[0]
    events.put_rule(
        Name="tap", EventBusName=publisher.bus_name, EventPattern=json.dumps(rule.pattern)
    )
    events.put_targets(
        Rule="tap", EventBusName=publisher.bus_name, Targets=[{"Id": "q", "Arn": arn["QueueArn"]}]
    )
    toon_events = _toon_events(new_key(), 4)

    publisher.publish([*toon_events, _status_change(toon_events[0].key)])

    [body] = drain(url)
    assert completions_from_detail(json.loads(body)["detail"]) == [
        e.completion() for e in toon_events
    ]


def test_completions_round_trip_through_a_detail(new_key):
    events = _toon_events(new_key(), 3) + _toon_events(new_key(), 2, Outcome.FAILED)

    details = [json.loads(e["Detail"]) for e in entries_for(events, "bus")]

    assert [c for d in details for c in completions_from_detail(d)] == [
        e.completion() for e in events
    ]


def test_toon_events_round_trip_through_a_detail(new_key):
    events = _toon_events(new_key(), 3, Outcome.FAILED)

    [entry] = entries_for(events, "bus")

    assert toon_events_from_detail(json.loads(entry["Detail"])) == events


def test_a_status_change_detail_holds_no_completions(new_key):
    [entry] = entries_for([_status_change(new_key())], "bus")

    assert completions_from_detail(json.loads(entry["Detail"])) == []


def _eventbridge_event(entry):
    """The event EventBridge builds from an entry, as a rule target receives it."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": "123456789012",
        "time": "2025-01-01T00:00:01Z",
        "region": "us-east-1",
        "resources": [],
        "detail": json.loads(entry["Detail"]),
    }


def test_completions_round_trip_through_a_lambda_kinesis_record(new_key):
    events = _toon_events(new_key(), 5)
    [entry] = entries_for(events, "bus")
    data = json.dumps(_eventbridge_event(entry)).encode()
    record = {
        "kinesis": {"partitionKey": str(events[0].key), "data": base64.b64encode(data).decode()},
        "eventSource": "aws:kinesis",
    }

    assert completions_from_kinesis_record(record) == [e.completion() for e in events]


def test_completions_round_trip_through_the_kinesis_stream(names, session, new_key):
    kinesis = session.client("kinesis")
    events = _toon_events(new_key(), 5, Outcome.FAILED)
    [entry] = entries_for(events, "bus")
    kinesis.put_record(
        StreamName=names.completions_stream,
        Data=json.dumps(_eventbridge_event(entry)).encode(),
        PartitionKey=str(events[0].key),
    )

    records = _read_stream(kinesis, names.completions_stream)

    assert [c for r in records for c in completions_from_kinesis_record(r)] == [
        e.completion() for e in events
    ]


def _read_stream(kinesis, stream):
    shard = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return kinesis.get_records(ShardIterator=iterator)["Records"]


def test_publish_of_nothing_calls_nothing(publisher, monkeypatch):
    calls = _spy(publisher, monkeypatch)

    publisher.publish([])

    assert calls == []


def test_completions_keep_their_job_keys(new_key):
    key = JobKey("owner/with/slashes", "JOB-1")
    [entry] = entries_for(_toon_events(key, 1), "bus")

    [completion] = completions_from_detail(json.loads(entry["Detail"]))

    assert completion.key == key
