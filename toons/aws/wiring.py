"""The cloud topology, declared once.

Which function consumes which source, with what batch size and window; which rule
routes which events where; which tables exist with which keys; what each function may
touch. The Pulumi program builds the stacks from this module and the tests replay the
cloud flow over moto from it, so the two cannot drift apart. Per-stack settings
(memory, timeouts, batch sizes, max receives...) override the defaults given here; the
Pulumi program reads them in one place (`infra/settings.py`).

This module is plain data: it imports nothing from boto3 or Pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EVENT_SOURCE = "toons"
BUS = "toons"
TOON_EVENT_TYPES = ("ToonProcessed", "ToonFailed")
STATUS_EVENT_TYPE = "JobStatusChanged"
PARTITION_KEY_PATH = "$.detail.jobKey"


@dataclass(frozen=True, slots=True)
class Index:
    """A global secondary index: its keys and the other attributes it carries."""

    name: str
    hash_key: tuple[str, str]
    range_key: tuple[str, str]
    carries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Table:
    """A DynamoDB table: its key schema, its indexes and, if it has one, its stream."""

    name: str
    hash_key: tuple[str, str]
    range_key: tuple[str, str]
    stream_view: str | None = None
    env: str = ""
    indexes: tuple[Index, ...] = ()


@dataclass(frozen=True, slots=True)
class Queue:
    """An SQS queue; `dead_letter` names the queue its spent messages move to."""

    name: str
    env: str = ""
    dead_letter: str | None = None
    max_receives: int = 5


@dataclass(frozen=True, slots=True)
class Stream:
    """A Kinesis stream."""

    name: str
    env: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    """An EventBridge rule on the bus: a pattern and where matches go."""

    name: str
    pattern: dict
    target_kind: str  # "stream" or "topic"
    target: str
    partition_key_path: str | None = None


@dataclass(frozen=True, slots=True)
class SqsSource:
    """An SQS event source mapping."""

    queue: str
    batch_size: int = 10
    window_s: int = 0
    max_concurrency: int = 50
    report_batch_item_failures: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class _StreamMapping:
    """What every stream consumer's mapping sets: batching, retries, where failures go."""

    batch_size: int = 100
    window_s: int = 0
    bisect_on_error: bool = True
    max_retries: int = 10
    on_failure: str = "stream-failures"
    starting_position: str = "TRIM_HORIZON"


@dataclass(frozen=True, slots=True)
class KinesisSource(_StreamMapping):
    """A Kinesis event source mapping."""

    stream: str


@dataclass(frozen=True, slots=True)
class TableStreamSource(_StreamMapping):
    """A DynamoDB Streams event source mapping."""

    table: str


@dataclass(frozen=True, slots=True)
class ScheduleSource:
    """A schedule (an EventBridge schedule expression) that invokes the function."""

    expression: str = "rate(5 minutes)"


Source = SqsSource | KinesisSource | TableStreamSource | ScheduleSource


@dataclass(frozen=True, slots=True)
class Access:
    """Actions a function may take on one resource (by kind and logical name)."""

    kind: str  # "table", "table-index", "table-stream", "queue", "stream", "bus", "secret"
    name: str
    actions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Function:
    """A Lambda function: its handler, what triggers it and what it may touch."""

    name: str
    handler: str
    memory_mb: int = 512
    timeout_s: int = 30
    route: tuple[str, str] | None = None
    source: Source | None = None
    access: tuple[Access, ...] = field(default_factory=tuple)

    @property
    def needs(self) -> set[tuple[str, str]]:
        """The (kind, name) of every resource the function touches."""
        return {(a.kind, a.name) for a in self.access}


# Jobs not yet terminal carry `openShard` (one constant value), so the sparse `open-jobs`
# index lists exactly the open jobs, oldest update first, for the sweeper.
OPEN_JOBS = Index("open-jobs", ("openShard", "S"), ("updatedAt", "S"), ("status",))

TABLES = (
    Table(
        "jobs",
        ("userId", "S"),
        ("jobId", "S"),
        "NEW_AND_OLD_IMAGES",
        "TOONS_JOBS_TABLE",
        indexes=(OPEN_JOBS,),
    ),
    Table("toons", ("jobKey", "S"), ("part", "S"), None, "TOONS_TOONS_TABLE"),
    Table("results", ("jobKey", "S"), ("index", "N"), None, "TOONS_RESULTS_TABLE"),
    Table("job-list", ("userId", "S"), ("listKey", "S"), None, "TOONS_JOB_LIST_TABLE"),
)

# A toon whose message is received `max_receives` times without success moves to
# `dead-letter`; its consumer records the toon FAILED and parks the message in `parked`,
# where `toons redrive` finds it. `stream-failures` keeps the batches the stream
# consumers could not process after their retries (replay from the archive heals them).
QUEUES = (
    Queue("work", "TOONS_WORK_QUEUE_URL", dead_letter="dead-letter", max_receives=5),
    Queue("dead-letter", "TOONS_DEAD_LETTER_QUEUE_URL"),
    Queue("parked", "TOONS_PARKED_QUEUE_URL"),
    Queue("stream-failures", "TOONS_STREAM_FAILURES_QUEUE_URL"),
)

STREAMS = (Stream("completions", "TOONS_COMPLETIONS_STREAM"),)

RULES = (
    Rule(
        "completions",
        {"source": [EVENT_SOURCE], "detail-type": list(TOON_EVENT_TYPES)},
        "stream",
        "completions",
        PARTITION_KEY_PATH,
    ),
    Rule(
        "status-changes",
        {"source": [EVENT_SOURCE], "detail-type": [STATUS_EVENT_TYPE]},
        "topic",
        "job-status",
    ),
)

_SECRET = Access("secret", "jwt", ("secretsmanager:GetSecretValue",))
_PUBLISH = Access("bus", BUS, ("events:PutEvents",))
_SQS_CONSUME = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
_STREAM_CONSUME = (
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:ListShards",
)
_TABLE_STREAM_CONSUME = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
_ON_FAILURE = Access("queue", "stream-failures", ("sqs:SendMessage",))

FUNCTIONS = (
    Function(
        "submit-job",
        "handlers.submit_job.handler",
        route=("POST", "/submit-job"),
        access=(
            _SECRET,
            Access(
                "table", "jobs", ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
            ),
            Access("table", "toons", ("dynamodb:PutItem", "dynamodb:Query")),
            Access("queue", "work", ("sqs:SendMessage",)),
        ),
    ),
    Function(
        "get-job-status",
        "handlers.get_job_status.handler",
        route=("GET", "/jobs/{jobId}"),
        access=(_SECRET, Access("table", "jobs", ("dynamodb:GetItem",))),
    ),
    Function(
        "get-results",
        "handlers.get_results.handler",
        route=("GET", "/results"),
        access=(
            _SECRET,
            Access("table", "jobs", ("dynamodb:GetItem",)),
            Access("table", "results", ("dynamodb:Query",)),
        ),
    ),
    Function(
        "list-jobs",
        "handlers.list_jobs.handler",
        route=("GET", "/jobs"),
        access=(_SECRET, Access("table", "job-list", ("dynamodb:Query",))),
    ),
    Function(
        "worker",
        "handlers.worker.handler",
        memory_mb=512,
        timeout_s=60,
        source=SqsSource("work", batch_size=10, window_s=1),
        access=(
            Access("queue", "work", _SQS_CONSUME),
            Access("table", "results", ("dynamodb:PutItem",)),
            Access("table", "toons", ("dynamodb:PutItem",)),
            _PUBLISH,
        ),
    ),
    Function(
        "dead-letter",
        "handlers.dead_letter.handler",
        source=SqsSource("dead-letter", batch_size=10, window_s=1, max_concurrency=5),
        access=(
            Access("queue", "dead-letter", _SQS_CONSUME),
            Access("queue", "parked", ("sqs:SendMessage",)),
            Access("table", "results", ("dynamodb:PutItem",)),
            Access("table", "toons", ("dynamodb:GetItem",)),
            _PUBLISH,
        ),
    ),
    Function(
        "aggregator",
        "handlers.aggregator.handler",
        timeout_s=60,
        source=KinesisSource("completions", batch_size=500, window_s=1),
        access=(
            Access("stream", "completions", _STREAM_CONSUME),
            Access("table", "jobs", ("dynamodb:GetItem", "dynamodb:PutItem")),
            _ON_FAILURE,
        ),
    ),
    Function(
        "sweeper",
        "handlers.sweeper.handler",
        timeout_s=120,
        source=ScheduleSource("rate(5 minutes)"),
        access=(
            Access("table-index", "jobs/open-jobs", ("dynamodb:Query",)),
            Access("table", "jobs", ("dynamodb:GetItem", "dynamodb:UpdateItem")),
            Access("table", "toons", ("dynamodb:Query",)),
            Access("queue", "work", ("sqs:SendMessage",)),
        ),
    ),
    Function(
        "projector",
        "handlers.projector.handler",
        timeout_s=60,
        source=TableStreamSource("jobs"),
        access=(
            Access("table-stream", "jobs", _TABLE_STREAM_CONSUME),
            Access("table", "job-list", ("dynamodb:PutItem",)),
            _PUBLISH,
            _ON_FAILURE,
        ),
    ),
)

# What API Gateway itself answers (no function runs), in the contract's error shape.
# A status of None keeps API Gateway's own status for that response type.
GATEWAY_RESPONSES: dict[str, tuple[str | None, dict[str, str]]] = {
    # No method on that path: API Gateway calls it "Missing Authentication Token" (403).
    "MISSING_AUTHENTICATION_TOKEN": (
        "404",
        {"error": "No route for this method and path", "code": "ROUTE_NOT_FOUND"},
    ),
    "THROTTLED": (None, {"error": "Too many requests; retry later", "code": "THROTTLED"}),
    "DEFAULT_5XX": (None, {"error": "Internal error", "code": "INTERNAL"}),
}

JWT_SECRET_ENV = "TOONS_JWT_SECRET_NAME"
BUS_ENV = "TOONS_BUS_NAME"


def function(name: str) -> Function:
    """The function declared under `name`."""
    return next(f for f in FUNCTIONS if f.name == name)


def table(name: str) -> Table:
    """The table declared under `name`."""
    return next(t for t in TABLES if t.name == name)


def queue(name: str) -> Queue:
    """The queue declared under `name`."""
    return next(q for q in QUEUES if q.name == name)


def visibility_timeout_s(queue_name: str, timeouts: dict[str, int] | None = None) -> int:
    """Six times the timeout of the queue's consumer, as AWS advises for SQS sources."""
    consumer = next(
        f for f in FUNCTIONS if isinstance(f.source, SqsSource) and f.source.queue == queue_name
    )
    return 6 * (timeouts or {}).get(consumer.name, consumer.timeout_s)


def environment(fn: Function) -> dict[str, str]:
    """The environment variables a function needs, each mapped to a logical resource.

    The deployment fills in the physical names, e.g. TOONS_JOBS_TABLE -> table:jobs.
    """
    env = {}
    for kind, name in sorted(fn.needs):
        if kind == "table":
            env[table(name).env] = f"table:{name}"
        elif kind == "queue" and queue(name).env and name != "stream-failures":
            env[queue(name).env] = f"queue:{name}"
        elif kind == "bus":
            env[BUS_ENV] = f"bus:{name}"
        elif kind == "secret":
            env[JWT_SECRET_ENV] = f"secret:{name}"
    return env
