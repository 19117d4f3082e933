"""Create every table, queue, stream and the bus the wiring declares, with boto3.

Tests and the moto flow driver build their resources here, from the same declaration
the Pulumi program reads, so the schema the adapters are tested against is the one that
is deployed. Physical names are `{prefix}-{logical name}`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from toons.aws import wiring
from toons.aws.clients import AwsNames, config

log = logging.getLogger(__name__)


def physical(prefix: str, logical: str) -> str:
    """The physical name of a declared resource."""
    return f"{prefix}-{logical}"


def provision(
    session: Any,
    prefix: str,
    visibility_timeout_s: int | None = None,
    max_receives: int | None = None,
) -> AwsNames:
    """Create every declared table, queue, stream and the bus; return their names.

    `visibility_timeout_s` overrides the visibility timeout of every queue that has a
    consumer (the wiring's default is six times the consumer's timeout), and
    `max_receives` the receives before the work queue dead-letters a message; both let
    a flow driver see redeliveries without waiting minutes.
    """
    dynamodb, kinesis = _client(session, "dynamodb"), _client(session, "kinesis")
    tables = {t.name: _create_table(dynamodb, prefix, t) for t in wiring.TABLES}
    queues = _create_queues(_client(session, "sqs"), prefix, visibility_timeout_s, max_receives)
    streams = {s.name: _create_stream(kinesis, prefix, s) for s in wiring.STREAMS}
    bus = _create_bus(_client(session, "events"), prefix)
    log.debug("resources provisioned", extra={"prefix": prefix})

    return AwsNames(
        jobs_table=tables["jobs"],
        toons_table=tables["toons"],
        results_table=tables["results"],
        job_list_table=tables["job-list"],
        work_queue_url=queues["work"],
        parked_queue_url=queues["parked"],
        bus_name=bus,
        dead_letter_queue_url=queues["dead-letter"],
        stream_failures_queue_url=queues["stream-failures"],
        completions_stream=streams["completions"],
    )


def _client(session: Any, service: str) -> Any:
    return session.client(service, config=config())


def _create_table(client: Any, prefix: str, table: wiring.Table) -> str:
    name = physical(prefix, table.name)
    (hash_name, hash_type), (range_name, range_type) = table.hash_key, table.range_key
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": hash_name, "AttributeType": hash_type},
            {"AttributeName": range_name, "AttributeType": range_type},
        ],
        "KeySchema": [
            {"AttributeName": hash_name, "KeyType": "HASH"},
            {"AttributeName": range_name, "KeyType": "RANGE"},
        ],
    }
    if table.indexes:
        request["AttributeDefinitions"] += [
            {"AttributeName": key, "AttributeType": kind}
            for index in table.indexes
            for key, kind in (index.hash_key, index.range_key)
        ]
        request["GlobalSecondaryIndexes"] = [_index(index) for index in table.indexes]
    if table.stream_view:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": table.stream_view,
        }

    client.create_table(**request)
    client.get_waiter("table_exists").wait(TableName=name)
    return name


def _index(index: wiring.Index) -> dict[str, Any]:
    projection = (
        {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(index.carries)}
        if index.carries
        else {"ProjectionType": "KEYS_ONLY"}
    )
    return {
        "IndexName": index.name,
        "KeySchema": [
            {"AttributeName": index.hash_key[0], "KeyType": "HASH"},
            {"AttributeName": index.range_key[0], "KeyType": "RANGE"},
        ],
        "Projection": projection,
    }


def _create_queues(
    client: Any, prefix: str, visibility_timeout_s: int | None, max_receives: int | None
) -> dict[str, str]:
    targets = {q.dead_letter for q in wiring.QUEUES if q.dead_letter}
    # Dead-letter targets first: a redrive policy names its target's ARN.
    ordered = sorted(wiring.QUEUES, key=lambda q: q.name not in targets)
    urls: dict[str, str] = {}
    for queue in ordered:
        attributes = _queue_attributes(client, queue, urls, visibility_timeout_s, max_receives)
        answer = client.create_queue(QueueName=physical(prefix, queue.name), Attributes=attributes)
        urls[queue.name] = answer["QueueUrl"]
    return urls


def _queue_attributes(
    client: Any,
    queue: wiring.Queue,
    urls: dict[str, str],
    visibility_timeout_s: int | None,
    max_receives: int | None,
) -> dict[str, str]:
    attributes: dict[str, str] = {}
    if _has_consumer(queue.name):
        timeout = visibility_timeout_s or wiring.visibility_timeout_s(queue.name)
        attributes["VisibilityTimeout"] = str(timeout)
    if queue.dead_letter:
        target = client.get_queue_attributes(
            QueueUrl=urls[queue.dead_letter], AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps(
            {
                "deadLetterTargetArn": target,
                "maxReceiveCount": str(max_receives or queue.max_receives),
            }
        )
    return attributes


def _has_consumer(queue_name: str) -> bool:
    return any(
        isinstance(f.source, wiring.SqsSource) and f.source.queue == queue_name
        for f in wiring.FUNCTIONS
    )


def _create_stream(client: Any, prefix: str, stream: wiring.Stream) -> str:
    name = physical(prefix, stream.name)
    client.create_stream(StreamName=name, ShardCount=1)
    client.get_waiter("stream_exists").wait(StreamName=name)
    return name


def _create_bus(client: Any, prefix: str) -> str:
    name = physical(prefix, wiring.BUS)
    client.create_event_bus(Name=name)
    return name
