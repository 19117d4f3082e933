"""Fixtures for the AWS adapter tests: moto, resources from the wiring, adapters, factories."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from moto import mock_aws

from toons.aws import (
    AwsNames,
    DynamoJobStore,
    DynamoResultStore,
    EventBridgePublisher,
    FailureNotes,
    Parking,
    SqsQueue,
)
from toons.aws.resources import provision
from toons.model import Job, JobKey, JobStatus, Outcome, Toon, ToonResult, WorkItem, timestamp

_keys = itertools.count(1)
CREATED_AT = "2025-01-01T00:00:00.000Z"
FAST_RETRY_S = 0.001
# Parsing botocore's service models is most of a session's first-client cost.
_LOADER = botocore.loaders.create_loader()


@pytest.fixture
def session(monkeypatch) -> Iterator[Any]:
    """A boto3 session on fake credentials in us-east-1, inside moto."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield _session()


def _session() -> Any:
    """A new boto3 session that reuses the service models already parsed by earlier ones."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _LOADER)
    return boto3.Session(botocore_session=core)


@pytest.fixture
def names(session) -> AwsNames:
    """Every declared resource, created from the wiring under the prefix `t`."""
    return provision(session, "t")


@pytest.fixture
def jobs(names, session) -> DynamoJobStore:
    return DynamoJobStore(names, session)


@pytest.fixture
def results(names, session) -> DynamoResultStore:
    return DynamoResultStore(names, session)


@pytest.fixture
def notes(names, session) -> FailureNotes:
    return FailureNotes(names, session)


@pytest.fixture
def queue(names, session) -> SqsQueue:
    return SqsQueue(names.work_queue_url, session, retry_base_s=FAST_RETRY_S)


@pytest.fixture
def publisher(names, session) -> EventBridgePublisher:
    return EventBridgePublisher(names.bus_name, session, retry_base_s=FAST_RETRY_S)


@pytest.fixture
def parking(names, session) -> Parking:
    return Parking(names, session, wait_s=0, retry_base_s=FAST_RETRY_S)


@pytest.fixture
def drain(session) -> Callable[[str], list[str]]:
    """Every message body waiting in a queue (received and deleted)."""

    def receive_all(url: str) -> list[str]:
        sqs, bodies = session.client("sqs"), []
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(message["Body"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    return receive_all


@pytest.fixture
def new_key() -> Callable[..., JobKey]:
    """A job key no other call in this session returns."""

    def make(owner: str = "alice") -> JobKey:
        return JobKey(owner, f"JOB-AWS-{next(_keys):05d}")

    return make


@pytest.fixture
def make_toons() -> Callable[..., list[Toon]]:
    """`count` TEXT toons with indexes 0..count-1 (payloads padded to `size` characters)."""

    def make(count: int, size: int = 0, tag: str = "toon") -> list[Toon]:
        return [
            Toon(f"T-{i:05d}", "TEXT", {"content": f"{tag} {i}", "pad": "x" * size}, i)
            for i in range(count)
        ]

    return make


@pytest.fixture
def make_job(new_key) -> Callable[..., Job]:
    """A Pending job of `total` toons (a fresh key unless one is given)."""

    def make(total: int = 3, key: JobKey | None = None, **changes: Any) -> Job:
        job = Job(
            key=key or new_key(),
            status=JobStatus.PENDING,
            total=total,
            created_at=CREATED_AT,
            updated_at=CREATED_AT,
            request_digest="digest-a",
        )
        return replace(job, **changes)

    return make


@pytest.fixture
def stored_job(jobs, make_job, make_toons) -> Callable[..., tuple[Job, list[Toon]]]:
    """A job and its toons, already created in the job store."""

    def make(total: int = 3, **changes: Any) -> tuple[Job, list[Toon]]:
        job, toons = make_job(total, **changes), make_toons(total)
        assert jobs.create(job, toons) is None
        return job, toons

    return make


@pytest.fixture
def make_items() -> Callable[[Job, list[Toon]], list[WorkItem]]:
    """The queue messages of a job's run."""

    def make(job: Job, toons: list[Toon]) -> list[WorkItem]:
        return [WorkItem(job.key, job.run, toon) for toon in toons]

    return make


@pytest.fixture
def make_result() -> Callable[..., ToonResult]:
    """A result of toon `index`: PROCESSED with data, or FAILED with a reason."""

    def make(
        key: JobKey, index: int, outcome: Outcome = Outcome.PROCESSED, **changes: Any
    ) -> ToonResult:
        processed = outcome is Outcome.PROCESSED
        result = ToonResult(
            key=key,
            run=1,
            index=index,
            toon_id=f"T-{index:05d}",
            type="TEXT",
            outcome=outcome,
            processed_at=timestamp(),
            duration_ms=1.5,
            fingerprint=f"{index:064x}" if processed else None,
            is_valid=processed,
            processed_data={"toonId": f"T-{index:05d}", "n": index} if processed else None,
            error=None if processed else "RuntimeError: boom",
            attempts=0 if processed else 5,
        )
        return replace(result, **changes)

    return make
