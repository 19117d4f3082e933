"""`toons bench cost`: what a million toons cost on AWS, measured call by call.

One job runs through the cloud flow over moto (`toons.aws.flow`). Every AWS call is
counted through botocore's event hooks, with the sizes that bill it (DynamoDB item
sizes, SQS and EventBridge 64 KB chunks, Kinesis bytes); every Lambda invocation is
timed. The seed's documented design (one message per toon, worker batch size 1, per
toon a result write, a counter update and a job read) is priced from the same sizes
and a measured batch-of-one worker duration.

The flow itself creates and inspects resources and moves events between moto's
services; those calls are the test double's plumbing, not the product's, and are not
billed: set-up and describe calls, the flow's empty polls and its EventBridge "tap"
queues (the deliveries they stand for are billed where AWS bills them: Kinesis and SNS).
"""

from __future__ import annotations

import io
import json
import math
import statistics
import sys
import time
import zlib
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from toons.aws import wiring
from toons.bench.sample import sample_job

# us-east-1 list prices in USD, as published on the AWS pricing pages named beside
# each one (checked 2025-11; prices change: re-check before relying on them).
PRICES = {
    # https://aws.amazon.com/lambda/pricing/ (requests; arm64 duration, first tier)
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_s_arm64": 0.0000133334,
    "lambda_gb_s_x86": 0.0000166667,
    # https://aws.amazon.com/sqs/pricing/ (standard queue, per request, 64 KB chunks)
    "sqs_request": 0.40 / 1e6,
    # https://aws.amazon.com/eventbridge/pricing/ (custom events per 64 KB chunk; archive)
    "eventbridge_event": 1.00 / 1e6,
    "eventbridge_archive_gb": 0.10,
    # https://aws.amazon.com/kinesis/data-streams/pricing/ (on-demand ingest and retrieval)
    "kinesis_ingest_gb": 0.08,
    "kinesis_retrieval_gb": 0.04,
    # https://aws.amazon.com/dynamodb/pricing/on-demand/ (after the Nov 2024 reduction)
    "dynamodb_wru": 0.625 / 1e6,
    "dynamodb_rru": 0.125 / 1e6,
    # https://aws.amazon.com/api-gateway/pricing/ (REST API, first tier)
    "apigateway_request": 3.50 / 1e6,
    # https://aws.amazon.com/cloudwatch/pricing/ (logs ingestion, standard)
    "logs_ingest_gb": 0.50,
    # https://aws.amazon.com/sns/pricing/ (standard topic publishes)
    "sns_publish": 0.50 / 1e6,
}
GB = 1024**3
LAMBDA_LOG_BYTES = 350  # the START, END and REPORT lines Lambda writes per invocation
SEED_MEMORY_MB = 1024  # the seed's documented worker memory
SEED_LOG_BYTES = 250  # the seed's one JSON log line per processed toon


def attribute_size(value: dict[str, Any]) -> int:
    """DynamoDB's size of one attribute value, in bytes."""
    kind, inner = next(iter(value.items()))
    if kind in ("S", "B"):
        return len(inner.encode() if isinstance(inner, str) else inner)
    if kind == "N":
        return len(inner.strip("-").replace(".", "")) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in inner)
    if kind == "M":
        return 3 + item_size(inner)
    return sum(len(str(v)) for v in inner)


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item: attribute names plus values."""
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


@dataclass
class Meter:
    """Billing units and call counts, fed by botocore's event hooks."""

    jobs_table: str
    raw: Any  # an unmetered DynamoDB client, to size items after an update
    calls: Counter = field(default_factory=Counter)
    units: Counter = field(default_factory=Counter)
    job_item_writes: int = 0

    def attach(self, session: Any) -> None:
        """Count every call made by clients the session creates from now on."""
        session.events.register("before-parameter-build.*.*", self._remember)
        session.events.register("after-call.*.*", self._count)

    @staticmethod
    def _remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["billing_params"] = dict(params)

    def _count(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        service, operation = model.service_model.service_name, model.name
        params = context.get("billing_params", {})
        billed = getattr(self, f"_{service}", lambda *_: False)(operation, params, parsed)
        if billed:
            self.calls[service] += 1

    def _dynamodb(self, operation: str, params: dict, parsed: dict) -> bool:
        reads = 1.0 if params.get("ConsistentRead") else 0.5
        if operation == "PutItem":
            self.units["dynamodb_wru"] += math.ceil(item_size(params["Item"]) / 1024)
        elif operation == "UpdateItem":
            stored = self.raw.get_item(TableName=params["TableName"], Key=params["Key"])
            self.units["dynamodb_wru"] += math.ceil(item_size(stored.get("Item", {})) / 1024)
        elif operation == "GetItem":
            size = item_size(parsed.get("Item", {}))
            self.units["dynamodb_rru"] += reads * max(1, math.ceil(size / 4096))
        elif operation == "Query":
            size = sum(item_size(i) for i in parsed.get("Items", []))
            self.units["dynamodb_rru"] += reads * max(1, math.ceil(size / 4096))
        else:
            return False
        if operation in ("PutItem", "UpdateItem") and params["TableName"] == self.jobs_table:
            self.job_item_writes += 1
        return True

    def _sqs(self, operation: str, params: dict, parsed: dict) -> bool:
        if params.get("QueueUrl", "").endswith("-tap"):
            return False
        if operation == "SendMessageBatch":
            size = sum(len(e["MessageBody"].encode()) for e in params["Entries"])
        elif operation == "SendMessage":
            size = len(params["MessageBody"].encode())
        elif operation == "ReceiveMessage":
            messages = parsed.get("Messages", [])
            if not messages:
                return False  # the flow's empty polls; Lambda long-polls instead
            size = sum(len(m["Body"].encode()) for m in messages)
        elif operation in ("DeleteMessageBatch", "DeleteMessage"):
            size = 0
        else:
            return False
        self.units["sqs_request"] += max(1, math.ceil(size / 65536))
        return True

    def _events(self, operation: str, params: dict, parsed: dict) -> bool:
        if operation != "PutEvents":
            return False
        for entry in params["Entries"]:
            size = sum(len(entry.get(k, "").encode()) for k in ("Detail", "DetailType", "Source"))
            self.units["eventbridge_event"] += max(1, math.ceil(size / 65536))
            self.units["eventbridge_archive_gb"] += size / GB
        return True

    def _kinesis(self, operation: str, params: dict, parsed: dict) -> bool:
        if operation == "PutRecord":
            self.units["kinesis_ingest_gb"] += len(params["Data"]) / GB
        elif operation == "GetRecords" and parsed.get("Records"):
            self.units["kinesis_retrieval_gb"] += (
                sum(len(r["Data"]) for r in parsed["Records"]) / GB
            )
        else:
            return False
        return True


class _CountingStream(io.TextIOBase):
    """Counts what is written (the functions' logs, as CloudWatch would ingest them)."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return len(text)


@contextmanager
def _counting_logs():
    """Send the handlers' stdout (Powertools logs and EMF metrics) to a byte counter."""
    from handlers.runtime import logger

    counter = _CountingStream()
    handlers = [h for h in logger.handlers if hasattr(h, "stream")]
    previous = [h.stream for h in handlers]
    saved_stdout, sys.stdout = sys.stdout, counter
    for handler in handlers:
        handler.stream = counter
    try:
        yield counter
    finally:
        sys.stdout = saved_stdout
        for handler, stream in zip(handlers, previous, strict=True):
            handler.stream = stream


def _flow(prefix: str, meter_for: Any = None, sizes: dict[str, int] | None = None):
    import boto3

    from toons.aws.flow import CloudFlow

    session = boto3.Session(region_name="us-east-1")
    meter = None
    if meter_for is not None:
        raw = boto3.Session(region_name="us-east-1").client("dynamodb")
        meter = Meter(f"{prefix}-jobs", raw)
        meter.attach(session)
    return CloudFlow(session, prefix=prefix, sizes=sizes), meter


def run_job(count: int) -> dict[str, Any]:
    """One job of `count` toons through the metered flow; the raw usage."""
    flow, meter = _flow("cost", meter_for=True)
    token = _token(flow)
    with _counting_logs() as logs:
        started = time.perf_counter()
        answer = flow.http(
            "POST",
            "/submit-job",
            json.dumps(sample_job("COST", count)).encode(),
            {"Authorization": f"Bearer {token}"},
        )
        flow.settle()
        elapsed = time.perf_counter() - started
    if answer["statusCode"] != 202:
        raise RuntimeError(f"submit answered {answer}")
    return {"flow": flow, "meter": meter, "log_bytes": logs.bytes, "elapsed_s": elapsed}


def seed_worker_duration_s(toons: int = 40) -> float:
    """Median duration of our worker handed one toon at a time (the seed's batch size)."""
    flow, _ = _flow("seed", sizes={"batch:worker": 1})
    token = _token(flow)
    with _counting_logs():
        flow.http(
            "POST",
            "/submit-job",
            json.dumps(sample_job("SEED", toons)).encode(),
            {"Authorization": f"Bearer {token}"},
        )
        flow.settle()
    return statistics.median(i.duration_s for i in flow.invocations if i.function == "worker")


def _token(flow: Any) -> str:
    from toons import auth

    return auth.mint("bench", flow.secret, 3600)


def price_ours(usage: dict[str, Any], count: int) -> dict[str, float]:
    """Dollars per million toons, by line, for the measured run."""
    flow, meter = usage["flow"], usage["meter"]
    memory = {fn.name: fn.memory_mb for fn in wiring.FUNCTIONS}
    gb_s = sum(i.duration_s * memory[i.function] / 1024 for i in flow.invocations)
    invocations = len(flow.invocations)
    status_events = len(flow.published["status-changes"])
    log_gb = (usage["log_bytes"] + LAMBDA_LOG_BYTES * invocations) / GB
    lines = {
        "Lambda requests": invocations * PRICES["lambda_request"],
        "Lambda duration": gb_s * PRICES["lambda_gb_s_arm64"],
        "SQS requests": meter.units["sqs_request"] * PRICES["sqs_request"],
        "EventBridge events": meter.units["eventbridge_event"] * PRICES["eventbridge_event"],
        "EventBridge archive": meter.units["eventbridge_archive_gb"]
        * PRICES["eventbridge_archive_gb"],
        "Kinesis": meter.units["kinesis_ingest_gb"] * PRICES["kinesis_ingest_gb"]
        + meter.units["kinesis_retrieval_gb"] * PRICES["kinesis_retrieval_gb"],
        "DynamoDB writes": meter.units["dynamodb_wru"] * PRICES["dynamodb_wru"],
        "DynamoDB reads": meter.units["dynamodb_rru"] * PRICES["dynamodb_rru"],
        "API Gateway": PRICES["apigateway_request"],
        "SNS status events": status_events * PRICES["sns_publish"],
        "CloudWatch Logs": log_gb * PRICES["logs_ingest_gb"],
    }
    return {line: dollars * 1e6 / count for line, dollars in lines.items()}


def price_seed(usage: dict[str, Any], count: int, worker_s: float) -> dict[str, float]:
    """Dollars per million toons, by line, for the seed's design with our sizes."""
    result_wru = _result_wru(usage)
    per_toon = {
        "Lambda requests": PRICES["lambda_request"],
        "Lambda duration": worker_s * SEED_MEMORY_MB / 1024 * PRICES["lambda_gb_s_x86"],
        "SQS requests": 3 * PRICES["sqs_request"],
        "DynamoDB writes": (result_wru + 1) * PRICES["dynamodb_wru"],
        "DynamoDB reads": 0.5 * PRICES["dynamodb_rru"],
        "CloudWatch Logs": (SEED_LOG_BYTES + LAMBDA_LOG_BYTES) / GB * PRICES["logs_ingest_gb"],
    }
    lines = {line: dollars * 1e6 for line, dollars in per_toon.items()}
    lines["API Gateway"] = PRICES["apigateway_request"] * 1e6 / count
    return lines


def _result_wru(usage: dict[str, Any]) -> float:
    """Average write units of one result of the run, stored as the seed stores it.

    That is, its record and processed toon as plain text, not compressed.
    """
    flow = usage["flow"]
    results = flow.client("dynamodb").query(
        TableName=flow.names.results_table,
        KeyConditionExpression="jobKey = :k",
        ExpressionAttributeValues={":k": {"S": "bench/COST"}},
    )["Items"]
    plain = [
        {**item, "result": {"S": zlib.decompress(item["result"]["B"]).decode()}} for item in results
    ]
    return statistics.mean(math.ceil(item_size(item) / 1024) for item in plain)


def _calls_per_toon(usage: dict[str, Any], count: int) -> dict[str, float]:
    calls = dict(usage["meter"].calls)
    calls["lambda"] = len(usage["flow"].invocations)
    return {service: round(n / count, 4) for service, n in sorted(calls.items())}


def measure(count: int) -> dict[str, Any]:
    """Run, meter and price; the figures the benchmark prints."""
    from toons.aws.flow import simulated_aws

    with simulated_aws():
        usage = run_job(count)
        ours = price_ours(usage, count)
        worker_s = seed_worker_duration_s()
        seed = price_seed(usage, count, worker_s)
        figures = {
            "toons": count,
            "usd_per_million_toons": round(sum(ours.values()), 4),
            "seed_usd_per_million_toons": round(sum(seed.values()), 4),
            "job_item_writes_per_1000_toons": round(
                usage["meter"].job_item_writes * 1000 / count, 2
            ),
            "calls_per_toon": _calls_per_toon(usage, count),
            "lines": {k: round(v, 4) for k, v in ours.items()},
            "seed_lines": {k: round(v, 4) for k, v in seed.items()},
            "seed_worker_ms": round(worker_s * 1000, 2),
            "elapsed_s": round(usage["elapsed_s"], 1),
        }
    figures["ratio_to_seed"] = round(
        figures["usd_per_million_toons"] / figures["seed_usd_per_million_toons"], 3
    )
    figures["dominant_line"] = max(ours, key=ours.get)
    return figures


def main(count: int) -> int:
    """Print the cost table by line (ours and the seed's), then the JSON line."""
    figures = measure(count)
    print(f"{'USD per million toons':<24}{'toons':>12}{'seed design':>14}")
    for line in sorted(set(figures["lines"]) | set(figures["seed_lines"])):
        ours, seed = figures["lines"].get(line, 0.0), figures["seed_lines"].get(line, 0.0)
        print(f"{line:<24}{ours:>12.4f}{seed:>14.4f}")
    print(
        f"{'total':<24}{figures['usd_per_million_toons']:>12.4f}"
        f"{figures['seed_usd_per_million_toons']:>14.4f}"
    )
    print(
        f"ratio to the seed: {figures['ratio_to_seed']}; job item writes per 1,000 toons: "
        f"{figures['job_item_writes_per_1000_toons']}; dominant: {figures['dominant_line']}"
    )
    print(json.dumps(figures))
    return 0
