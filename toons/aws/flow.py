"""The cloud flow, played in one process over moto: AWS without AWS.

`CloudFlow` provisions every declared resource in moto, then plays what AWS would do
between them, reading the wiring declaration for every detail: API Gateway's routes to
the HTTP functions, each event source mapping (SQS to the worker and the dead-letter
handler with their batch sizes and partial batch failures; the Kinesis stream to the
aggregator; the jobs table's stream to the projector, with retries, bisection and the
on-failure queue), and the bus rules with their patterns. The real handlers run
in-process with a Lambda-like context, and each invocation is timed.

moto's EventBridge cannot deliver to Kinesis or SNS, so each rule gets an SQS "tap"
target instead (moto still applies the rule's pattern); the flow moves tapped events on
to Kinesis with the partition key the rule declares, or keeps status events as a
subscriber would see them.

This module needs moto's mock to be active (tests and `toons bench cost` start it).
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from toons.aws import wiring
from toons.aws.clients import AwsNames, use_session
from toons.aws.resources import physical, provision
from toons.client import Client, Reply
from toons.faults import NO_FAULTS, FaultPlan
from toons.processing import Registry

REGION = "us-east-1"

try:
    from moto.core.utils import unix_time as _MOTO_UNIX_TIME
except ImportError:  # the flow is only usable with moto; importing it should not need it
    _MOTO_UNIX_TIME = None


@dataclass
class LambdaContext:
    """The attributes of a Lambda context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        """The function's ARN."""
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """Plenty: the flow does not enforce timeouts."""
        return 60_000


@dataclass
class Invocation:
    """One handler call: which function, how long, whether it raised."""

    function: str
    duration_s: float
    records: int
    failed: bool


@dataclass
class _Shard:
    """A consumer's position in one shard, and the batch it is retrying, if any."""

    iterator: str | None
    pending: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0


class CloudFlow:
    """Every declared resource in moto, and the event source mappings between them."""

    def __init__(
        self,
        session: Any,
        prefix: str = "toons",
        secret: str = "flow-secret-at-least-32-bytes-long!!",
        visibility_timeout_s: int = 1,
        max_receives: int | None = None,
        registry: Registry | None = None,
        sizes: dict[str, int] | None = None,
    ) -> None:
        _speed_up_moto_sqs()
        self.session = session
        self._clients: dict[str, Any] = {}
        self._arns: dict[str, str] = {}
        self.prefix = prefix
        self.secret = secret
        self.sizes = sizes or {}
        self.names = provision(session, prefix, visibility_timeout_s, max_receives)
        self.invocations: list[Invocation] = []
        self.published: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._taps = self._tap_rules()
        self._archive = self._create_archive()
        self._shards: dict[str, dict[str, _Shard]] = {}
        self._configure_handlers(max_receives, registry)

    # -- set-up ---------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """A boto3 client of the flow's session (made once, then reused)."""
        if service not in self._clients:
            from botocore.config import Config

            # Stream ARNs would otherwise route to an account-specific endpoint moto lacks.
            config = Config(account_id_endpoint_mode="disabled")
            self._clients[service] = self.session.client(service, region_name=REGION, config=config)
        return self._clients[service]

    def _tap_rules(self) -> dict[str, str]:
        events, sqs = self.client("events"), self.client("sqs")
        taps = {}
        for rule in wiring.RULES:
            name = physical(self.prefix, rule.name)
            events.put_rule(
                Name=name, EventBusName=self.names.bus_name, EventPattern=json.dumps(rule.pattern)
            )
            url = sqs.create_queue(QueueName=f"{name}-tap")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            events.put_targets(
                Rule=name,
                EventBusName=self.names.bus_name,
                Targets=[{"Id": "tap", "Arn": arn["Attributes"]["QueueArn"]}],
            )
            taps[rule.name] = url
        return taps

    def _create_archive(self) -> str:
        events = self.client("events")
        bus_arn = events.describe_event_bus(Name=self.names.bus_name)["Arn"]
        name = physical(self.prefix, "archive")
        events.create_archive(ArchiveName=name, EventSourceArn=bus_arn)
        return name

    def environment(self) -> dict[str, str]:
        """Every variable any function reads, with this flow's physical names."""
        physical_by_logical = {
            "table:jobs": self.names.jobs_table,
            "table:toons": self.names.toons_table,
            "table:results": self.names.results_table,
            "table:job-list": self.names.job_list_table,
            "queue:work": self.names.work_queue_url,
            "queue:dead-letter": self.names.dead_letter_queue_url,
            "queue:parked": self.names.parked_queue_url,
            "bus:toons": self.names.bus_name,
            "secret:jwt": "unused-in-the-flow",
        }
        env = {}
        for fn in wiring.FUNCTIONS:
            for variable, logical in wiring.environment(fn).items():
                env[variable] = physical_by_logical[logical]
        return env

    def _configure_handlers(self, max_receives: int | None, registry: Registry | None) -> None:
        os.environ.update(self.environment())
        os.environ["TOONS_JWT_SECRET"] = self.secret
        os.environ["TOONS_MAX_RECEIVES"] = str(max_receives or wiring.queue("work").max_receives)
        os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Toons")
        use_session(self.session)
        self.registry = registry
        self.use_faults(NO_FAULTS)
        self._handlers = {fn.name: _load(fn.handler) for fn in wiring.FUNCTIONS}

    def use_faults(self, plan: FaultPlan) -> None:
        """Run every handler from now on with this fault plan (a fresh container)."""
        from handlers import runtime

        runtime.reset(self.registry, plan)

    # -- API Gateway --------------------------------------------------------------

    def http(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send a request through API Gateway's routes; returns the proxy result."""
        path_only, _, query = path.partition("?")
        matched = _route(method, path_only)
        if matched is None:
            status, body = wiring.GATEWAY_RESPONSES["MISSING_AUTHENTICATION_TOKEN"]
            return {"statusCode": int(status), "headers": {}, "body": json.dumps(body)}
        fn, params = matched
        event = {
            "resource": fn.route[1],
            "path": path_only,
            "httpMethod": method,
            "headers": headers or {},
            "queryStringParameters": _query(query),
            "pathParameters": params or None,
            **_proxy_body(body),
            "requestContext": {"requestId": str(uuid.uuid4()), "stage": "flow"},
        }
        return self.invoke(fn, event)

    # -- event source mappings -------------------------------------------------------

    def invoke(self, fn: wiring.Function, event: dict[str, Any]) -> Any:
        """Call a function's handler as Lambda would, timing it."""
        memory = self.sizes.get(fn.name, fn.memory_mb)
        started = time.perf_counter()
        failed = True
        try:
            answer = self._handlers[fn.name](event, LambdaContext(fn.name, memory))
            failed = False
            return answer
        finally:
            self.invocations.append(
                Invocation(
                    fn.name, time.perf_counter() - started, len(event.get("Records", [])), failed
                )
            )

    def step(self) -> bool:
        """One round of every event source mapping; whether any work happened."""
        producing = False
        for fn in wiring.FUNCTIONS:
            if isinstance(fn.source, wiring.SqsSource):
                producing |= self._poll_queue(fn, fn.source)
        busy = producing | self._forward_taps()
        for fn in wiring.FUNCTIONS:
            if isinstance(fn.source, wiring.KinesisSource):
                busy |= self._poll_shards(fn, fn.source, "kinesis", self._kinesis_shards, producing)
            elif isinstance(fn.source, wiring.TableStreamSource):
                busy |= self._poll_shards(
                    fn, fn.source, "dynamodbstreams", self._table_shards, producing
                )
        return busy

    def run_schedules(self) -> list[Any]:
        """Invoke every scheduled function once, as its schedule would; their answers."""
        event = {
            "source": "aws.events",
            "detail-type": "Scheduled Event",
            "detail": {},
            "id": str(uuid.uuid4()),
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        return [
            self.invoke(fn, event)
            for fn in wiring.FUNCTIONS
            if isinstance(fn.source, wiring.ScheduleSource)
        ]

    def in_flight(self) -> int:
        """Messages received but not yet deleted (hidden until their timeout)."""
        sqs = self.client("sqs")
        return sum(
            int(
                sqs.get_queue_attributes(
                    QueueUrl=url,
                    AttributeNames=["ApproximateNumberOfMessagesNotVisible"],
                )["Attributes"]["ApproximateNumberOfMessagesNotVisible"]
            )
            for url in (self.names.work_queue_url, self.names.dead_letter_queue_url)
        )

    def settle(self, condition: Callable[[], bool] | None = None, timeout_s: float = 120) -> None:
        """Play the flow until it is idle (and `condition()` holds, if given)."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.step():
                continue
            if condition is not None and condition():
                return
            if condition is None and not self.in_flight():
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the cloud flow did not settle in time")
            time.sleep(0.05)

    def _poll_queue(self, fn: wiring.Function, source: wiring.SqsSource) -> bool:
        url = self._queue_url(source.queue)
        sqs = self.client("sqs")
        messages = _receive_up_to(sqs, url, self.sizes.get("batch:" + fn.name, source.batch_size))
        if not messages:
            return False
        event = {"Records": [_sqs_record(m, self._queue_arn(url)) for m in messages]}
        try:
            answer = self.invoke(fn, event) or {}
        except Exception:
            return True  # the whole batch comes back after the visibility timeout
        failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for chunk in _chunks(done, 10):
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(chunk)
                ],
            )
        return True

    def _queue_arn(self, url: str) -> str:
        if url not in self._arns:
            attributes = self.client("sqs").get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn"]
            )["Attributes"]
            self._arns[url] = attributes["QueueArn"]
        return self._arns[url]

    def _queue_url(self, logical: str) -> str:
        return {
            "work": self.names.work_queue_url,
            "dead-letter": self.names.dead_letter_queue_url,
        }[logical]

    def _forward_taps(self) -> bool:
        sqs, kinesis = self.client("sqs"), self.client("kinesis")
        moved = False
        for rule in wiring.RULES:
            for message in _receive_up_to(sqs, self._taps[rule.name], 100):
                event = json.loads(message["Body"])
                if rule.target_kind == "stream":
                    kinesis.put_record(
                        StreamName=self.names.completions_stream,
                        Data=message["Body"].encode(),
                        PartitionKey=_json_path(event, rule.partition_key_path),
                    )
                else:
                    self.published[rule.name].append(event)
                sqs.delete_message(
                    QueueUrl=self._taps[rule.name], ReceiptHandle=message["ReceiptHandle"]
                )
                moved = True
        return moved

    def _kinesis_shards(self) -> dict[str, _Shard]:
        kinesis = self.client("kinesis")
        stream = self.names.completions_stream
        return {
            shard["ShardId"]: _Shard(
                kinesis.get_shard_iterator(
                    StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            for shard in kinesis.list_shards(StreamName=stream)["Shards"]
        }

    def _table_shards(self) -> dict[str, _Shard]:
        streams = self.client("dynamodbstreams")
        arn = self.client("dynamodb").describe_table(TableName=self.names.jobs_table)["Table"][
            "LatestStreamArn"
        ]
        shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        return {
            shard["ShardId"]: _Shard(
                streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            for shard in shards
        }

    def _poll_shards(
        self,
        fn: wiring.Function,
        source: Any,
        service: str,
        discover: Callable[[], dict[str, _Shard]],
        producing: bool,
    ) -> bool:
        """Read each shard and invoke on what arrived.

        The batching window is played without a clock: while the workers are still
        producing, a batch that is not yet full waits for more records, as it would
        during a window; once production stops, it goes.
        """
        shards = self._shards.setdefault(fn.name, {})
        for shard_id, shard in discover().items() if not shards else ():
            shards[shard_id] = shard
        client = self.client(service)
        busy = False
        for shard in shards.values():
            room = source.batch_size - len(shard.pending)
            if shard.iterator and room > 0 and not shard.attempts:
                answer = client.get_records(ShardIterator=shard.iterator, Limit=room)
                shard.pending += answer["Records"]
                shard.iterator = answer.get("NextShardIterator")
            if not shard.pending:
                continue
            busy = True
            if not (source.window_s and producing and len(shard.pending) < source.batch_size):
                self._deliver(fn, source, service, shard)
        return busy

    def _deliver(self, fn: wiring.Function, source: Any, service: str, shard: _Shard) -> None:
        """Invoke on the pending batch as the event source mapping would.

        On failure the batch is retried (bisected when declared) and, past the retry
        limit, reported to the on-failure queue and skipped.
        """
        records = [_stream_record(r, service) for r in shard.pending]
        batches = [records]
        if shard.attempts and source.bisect_on_error and len(records) > 1:
            batches = [records[: len(records) // 2], records[len(records) // 2 :]]
        try:
            for batch in batches:
                self.invoke(fn, {"Records": batch})
        except Exception:
            shard.attempts += 1
            if shard.attempts > source.max_retries:
                self._give_up(fn, shard)
            return
        shard.pending, shard.attempts = [], 0

    def _give_up(self, fn: wiring.Function, shard: _Shard) -> None:
        self.client("sqs").send_message(
            QueueUrl=self.names.stream_failures_queue_url,
            MessageBody=json.dumps({"function": fn.name, "records": len(shard.pending)}),
        )
        shard.pending, shard.attempts = [], 0

    # -- operators' views -----------------------------------------------------------

    @property
    def archive_name(self) -> str:
        """The bus archive (moto keeps what the bus received)."""
        return self._archive


FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


@contextmanager
def simulated_aws() -> Iterator[None]:
    """Moto's mock of AWS, entered with fake credentials.

    On the way out the process's environment, the handlers' runtime and the adapters'
    default session are put back, so nothing of one simulation outlives it.
    """
    from moto import mock_aws

    from handlers import runtime

    saved = dict(os.environ)
    os.environ.update(FAKE_CREDENTIALS)
    try:
        with mock_aws():
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        runtime.reset()
        use_session(None)


class FlowClient(Client):
    """The HTTP client, speaking to the flow's API Gateway instead of a socket.

    `wait` plays the flow between polls, so a job settles as it would in the cloud.
    """

    def __init__(self, flow: CloudFlow, token: str | None = None) -> None:
        super().__init__("http://flow", token)
        self.flow = flow

    def _send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Reply:
        answer = self.flow.http(method, path, body, headers)
        decoded = json.loads(answer["body"]) if answer.get("body") else None
        return Reply(
            answer["statusCode"],
            decoded,
            {k.lower(): v for k, v in (answer.get("headers") or {}).items()},
        )

    def _pause(self, seconds: float) -> None:
        if not self.flow.step():
            time.sleep(min(seconds, 0.05))


def _speed_up_moto_sqs() -> None:
    """Take two quadratic costs out of moto's SQS, without changing what it answers.

    moto 5 recomputes every attribute of a queue, counting all its messages, for each
    message sent (to read ContentBasedDeduplication) and each message received (to read
    the retention period), and each count asks the clock through datetime arithmetic.
    Reading the retention period directly and the clock through `time.time()` gives the
    same answers; without it a 1,000-toon job takes minutes instead of seconds.
    """
    from moto.sqs import models

    def now_s(dt: Any = None) -> float:
        return time.time() if dt is None else _MOTO_UNIX_TIME(dt)

    def still_retained(backend: Any, queue_name: str, message: Any) -> bool:
        retention_s = int(backend.get_queue(queue_name).message_retention_period)
        return retention_s + message.sent_timestamp / 1000 > now_s()

    models.unix_time = now_s
    models.unix_time_millis = lambda dt=None: now_s(dt) * 1000.0
    models.SQSBackend.is_message_valid_based_on_retention_period = still_retained


def _load(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _route(method: str, path: str) -> tuple[wiring.Function, dict[str, str]] | None:
    for fn in wiring.FUNCTIONS:
        if fn.route is None or fn.route[0] != method:
            continue
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", fn.route[1])
        match = re.fullmatch(pattern, path.rstrip("/") or "/")
        if match:
            return fn, match.groupdict()
    return None


def _proxy_body(body: bytes | None) -> dict[str, Any]:
    """API Gateway passes text bodies as they are and anything else in base64."""
    if not body:
        return {"body": None, "isBase64Encoded": False}
    try:
        return {"body": body.decode(), "isBase64Encoded": False}
    except UnicodeDecodeError:
        return {"body": base64.b64encode(body).decode(), "isBase64Encoded": True}


def _query(text: str) -> dict[str, str] | None:
    from urllib.parse import parse_qsl

    pairs = dict(parse_qsl(text, keep_blank_values=True))
    return pairs or None


def _receive_up_to(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while len(messages) < count:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(10, count - len(messages)),
            AttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not got:
            break
        messages += got
    return messages


def _sqs_record(message: dict[str, Any], arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": REGION,
    }


def _stream_record(record: dict[str, Any], service: str) -> dict[str, Any]:
    if service == "dynamodbstreams":
        return record
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(record["Data"]).decode(),
        },
        "eventSource": "aws:kinesis",
        "eventName": "aws:kinesis:record",
        "eventID": record["SequenceNumber"],
    }


def _json_path(event: dict[str, Any], path: str | None) -> str:
    value: Any = event
    for part in (path or "$").removeprefix("$").strip(".").split("."):
        if part:
            value = value[part]
    return str(value)


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[n : n + size] for n in range(0, len(items), size)]


__all__ = ["AwsNames", "CloudFlow", "FlowClient", "Invocation", "LambdaContext"]
