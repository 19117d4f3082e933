"""Fixtures for the AWS adapter tests: moto, resources from the wiring, adapters, factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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
