"""What every AWS adapter shares: resource names, lazy boto3 clients, error translation.

Nothing here imports boto3 or botocore at module level: a Lambda pays for an import only
when it first talks to a service, and a status-only function never creates an SQS client.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from toons.aws import wiring
from toons.errors import StoreConflict, Throttled

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Threads per fan-out call; below botocore's connection pool size (set in `config`).
WORKERS = 8

CONDITION_FAILED = "ConditionalCheckFailedException"
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
    }
)
MISSING_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "QueueDoesNotExist",
        "AWS.SimpleQueueService.NonExistentQueue",
    }
)


class MissingResource(RuntimeError):
    """A table, queue, stream or bus the deployment should have created is not there."""


class DeliveryError(RuntimeError):
    """Some messages or events were still refused after every retry."""


@dataclass(frozen=True, slots=True)
class AwsNames:
    """The physical names of the resources the adapters use (None when not configured).

    The first seven are what the ports need; the last three are for the consumers and
    the flow driver (dead letters, stream failures, the completions stream).
    """

    jobs_table: str | None = None
    toons_table: str | None = None
    results_table: str | None = None
    job_list_table: str | None = None
    work_queue_url: str | None = None
    parked_queue_url: str | None = None
    bus_name: str | None = None
    dead_letter_queue_url: str | None = None
    stream_failures_queue_url: str | None = None
    completions_stream: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AwsNames:
        """Read the names from the environment variables the wiring declares."""
        env = os.environ if env is None else env
        return cls(**{field: env.get(var) for field, var in ENV_VARS.items()})

    def require(self, field: str) -> str:
        """The name in `field`, or a `MissingResource` naming its environment variable."""
        value = getattr(self, field)
        if not value:
            raise MissingResource(f"{ENV_VARS[field]} is not set: no {field} configured")
        return value


ENV_VARS = {
    "jobs_table": wiring.table("jobs").env,
    "toons_table": wiring.table("toons").env,
    "results_table": wiring.table("results").env,
    "job_list_table": wiring.table("job-list").env,
    "work_queue_url": wiring.queue("work").env,
    "parked_queue_url": wiring.queue("parked").env,
    "bus_name": wiring.BUS_ENV,
    "dead_letter_queue_url": wiring.queue("dead-letter").env,
    "stream_failures_queue_url": wiring.queue("stream-failures").env,
    "completions_stream": wiring.STREAMS[0].env,
}


def config() -> Any:
    """The botocore config of every client: standard retries, a pool for our threads."""
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": 5},
        max_pool_connections=2 * WORKERS,
        connect_timeout=5,
        read_timeout=20,
    )


class Clients:
    """boto3 clients of one session, each created on first use and then shared.

    Clients are thread-safe; only their creation is not, hence the lock.
    """

    def __init__(self, session: Any = None) -> None:
        self._session = session
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        """The client of `service` ("dynamodb", "sqs", "events", "kinesis", ...)."""
        found = self._clients.get(service)
        if found is not None:
            return found
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._create(service)
                log.debug("aws client created", extra={"service": service})
            return self._clients[service]

    def _create(self, service: str) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.Session()
        return self._session.client(service, config=config())


_DEFAULT = Clients()
_BY_SESSION: weakref.WeakKeyDictionary[Any, Clients] = weakref.WeakKeyDictionary()
_BY_SESSION_LOCK = threading.Lock()


def use_session(session: Any = None) -> None:
    """Make `session` the one adapters built without a session use (None: boto3's default).

    For drivers that run the Lambda handlers in-process (over moto): the handlers build
    their adapters without a session. Adapters built before this call keep their clients.
    """
    global _DEFAULT
    _DEFAULT = Clients(session)
    log.debug("default aws session replaced")


class AwsAdapter:
    """An adapter that talks to one AWS service through its session's shared client."""

    service: ClassVar[str]

    def __init__(self, session: Any = None) -> None:
        self._clients = clients_for(session)

    @property
    def client(self) -> Any:
        """The service's client (created on first use)."""
        return self._clients.client(self.service)


def clients_for(session: Any = None) -> Clients:
    """The shared `Clients` of a boto3 session (None: the default set by `use_session`)."""
    if session is None:
        return _DEFAULT
    with _BY_SESSION_LOCK:
        found = _BY_SESSION.get(session)
        if found is None:
            found = _BY_SESSION[session] = Clients(session)
        return found


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore `ClientError`, None for anything else."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    return response.get("Error", {}).get("Code")


@contextmanager
def translate(resource: str) -> Iterator[None]:
    """Turn botocore client errors into the core's errors, by error code only.

    A lost condition is `StoreConflict`, throttling is `Throttled` and a missing
    resource is `MissingResource` (a deployment error, not bad input).
    """
    from botocore.exceptions import ClientError

    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        if code == CONDITION_FAILED:
            raise StoreConflict(f"conditional write to {resource} lost a race") from exc
        if code in THROTTLING_CODES:
            raise Throttled(f"{resource} throttled the request ({code})") from exc
        if code in MISSING_CODES:
            raise MissingResource(f"{resource} does not exist ({code})") from exc
        raise


def run_all(fn: Callable[[T], R], items: Sequence[T], workers: int = WORKERS) -> list[R]:
    """`fn` over every item, concurrently; every call finishes before the first error is raised.

    A single item runs inline: most Lambda batches are small and threads cost time.
    """
    if len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        futures = [pool.submit(fn, item) for item in items]
    return [future.result() for future in futures]


def backoff(attempt: int, base_s: float, cap_s: float = 2.0) -> None:
    """Sleep before retry `attempt` (1, 2, ...): exponential with full jitter."""
    time.sleep(random.uniform(0, min(cap_s, base_s * 2 ** (attempt - 1))))
