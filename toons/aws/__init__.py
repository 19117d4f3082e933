"""The AWS adapters: every port on DynamoDB, SQS and EventBridge (boto3).

Importing this package does not import boto3: each client is created, and boto3
imported, the first time an adapter talks to its service. `wiring` declares the
resources; `resources.provision` creates them (for tests and the moto flow driver).
"""

from __future__ import annotations

from typing import Any

from toons.aws.clients import AwsNames, DeliveryError, MissingResource
from toons.aws.dynamo import (
    DynamoJobStore,
    DynamoResultStore,
    FailureNotes,
    job_change_from_stream_record,
)
from toons.aws.events import (
    EventBridgePublisher,
    completions_from_detail,
    completions_from_kinesis_record,
    toon_events_from_detail,
)
from toons.aws.sqs import Parking, SqsQueue
from toons.ports import Ports

__all__ = [
    "AwsNames",
    "DeliveryError",
    "DynamoJobStore",
    "DynamoResultStore",
    "EventBridgePublisher",
    "FailureNotes",
    "MissingResource",
    "Parking",
    "SqsQueue",
    "completions_from_detail",
    "completions_from_kinesis_record",
    "job_change_from_stream_record",
    "open_ports",
    "toon_events_from_detail",
]


def open_ports(names: AwsNames, session: Any = None) -> Ports:
    """All four ports on the named resources; no client exists until a port is used."""
    return Ports(
        jobs=DynamoJobStore(names, session),
        results=DynamoResultStore(names, session),
        queue=SqsQueue(names.work_queue_url, session),
        events=EventBridgePublisher(names.bus_name, session),
    )
