"""The Lambda handlers' edges, invoked the way their event sources would."""

from __future__ import annotations

import json

import pytest

from toons import auth
from toons.aws import DynamoJobStore, DynamoResultStore
from toons.aws.flow import CloudFlow
from toons.aws.wiring import function
from toons.bench.sample import sample_job
from toons.model import JobKey, Outcome, Toon, WorkItem


@pytest.fixture
def flow(session):
    return CloudFlow(session, prefix="handlers")


def sqs_record(body: str, message_id: str, receives: int = 1) -> dict:
    return {
        "messageId": message_id,
        "receiptHandle": message_id,
        "body": body,
        "attributes": {"ApproximateReceiveCount": str(receives)},
        "eventSource": "aws:sqs",
    }


def submitted(flow: CloudFlow, job_id: str, toons: int) -> JobKey:
    token = auth.mint("dora", flow.secret)
    answer = flow.http(
        "POST",
        "/submit-job",
        json.dumps(sample_job(job_id, toons)).encode(),
        {"Authorization": f"Bearer {token}"},
    )
    assert answer["statusCode"] == 202
    return JobKey("dora", job_id)


def test_the_worker_reports_an_unreadable_message_and_processes_the_rest(flow):
    key = submitted(flow, "MIXED", 1)
    item = WorkItem(key, 1, Toon("TOON-00001", "IMAGE", {"url": "https://x.io/a.png"}, 0))

    answer = flow.invoke(
        function("worker"),
        {
            "Records": [
                sqs_record(json.dumps(item.to_dict()), "good"),
                sqs_record("not json", "bad"),
            ]
        },
    )

    assert answer == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    stored = DynamoResultStore(flow.names, flow.session).list(key, 10, None).items
    assert [r.toon_id for r in stored] == ["TOON-00001"]


def test_a_dead_letter_without_a_note_is_failed_as_a_timeout(flow, monkeypatch):
    monkeypatch.setenv("TOONS_MAX_RECEIVES", "5")
    key = submitted(flow, "TIMED-OUT", 1)
    item = WorkItem(key, 1, Toon("TOON-00001", "IMAGE", {}, 0))

    flow.invoke(
        function("dead-letter"), {"Records": [sqs_record(json.dumps(item.to_dict()), "dead")]}
    )

    [result] = DynamoResultStore(flow.names, flow.session).list(key, 10, None).items
    assert result.outcome is Outcome.FAILED
    assert "timeout or crash" in result.error
    assert result.attempts == 5


def test_the_projector_ignores_records_of_deleted_items(flow):
    key = submitted(flow, "GONE", 1)

    flow.invoke(
        function("projector"),
        {
            "Records": [
                {
                    "eventName": "REMOVE",
                    "dynamodb": {"Keys": {"userId": {"S": "dora"}, "jobId": {"S": "GONE"}}},
                }
            ]
        },
    )

    assert DynamoJobStore(flow.names, flow.session).get(key) is not None
