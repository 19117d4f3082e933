"""Job writes that are throttled or lose their version check are retried; counts stay exact.

Two levels of injection. At the port: a test-only decorator around the job store
raises `Throttled` or `StoreConflict` on its first saves, under the service both
backends run. Under a whole job: locally the decorated store sits under the engine's own
aggregator loop (the engine's steps, run in this process); on the cloud flow, DynamoDB
itself answers the aggregator's PutItem calls on the jobs table with
`ProvisionedThroughputExceededException` and `ConditionalCheckFailedException`, through
botocore's event system.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from tests.faults.checks import assert_promises_held, event, held_job, stored_job
from toons.bench.sample import sample_job, sample_toons
from toons.config import EngineSettings
from toons.errors import StoreConflict, Throttled
from toons.local.loops import Steps, run_loop
from toons.model import JobKey
from toons.service import SAVE_ATTEMPTS

TOONS = 20
FANNED_OUT = 2


class FlakyJobStore:
    """A job store whose first `save` calls raise the given errors, then behave."""

    def __init__(self, inner: Any, failures: list[Exception]) -> None:
        self.inner = inner
        self.failures = list(failures)
        self.raised: list[str] = []
        self._lock = threading.Lock()

    def save(self, job: Any, expected_version: int) -> None:
        with self._lock:
            failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            self.raised.append(type(failure).__name__)
            raise failure
        self.inner.save(job, expected_version)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _deliver_until_accepted(backend, events, attempts: int = 10) -> list[str]:
    """Deliver one batch again after each failure, as its source would; the failures."""
    refused = []
    for _ in range(attempts):
        try:
            backend.deliver_events(events)
            return refused
        except (Throttled, StoreConflict) as error:
            refused.append(type(error).__name__)
    raise AssertionError(f"batch still refused after {attempts} deliveries: {refused}")


def test_throttled_and_conflicting_job_writes_are_retried_and_count_once(backend, owner, unique_id):
    backend.start()
    service = backend.service()
    results = held_job(service, owner, unique_id, sample_toons(TOONS))
    flaky = FlakyJobStore(
        service.ports.jobs, [Throttled(), Throttled(), StoreConflict(), StoreConflict()]
    )
    service.ports.jobs = flaky
    try:
        refused = _deliver_until_accepted(backend, [event(r) for r in results])
    finally:
        service.ports.jobs = flaky.inner

    assert refused == ["Throttled", "Throttled"], "a throttled write gives the batch back"
    assert flaky.raised == ["Throttled", "Throttled", "StoreConflict", "StoreConflict"]
    assert stored_job(service, owner, unique_id).version == FANNED_OUT + 1, "one write landed"
    assert_promises_held(backend, owner, unique_id, TOONS)


def test_a_job_write_that_keeps_losing_its_version_check_is_counted_on_redelivery(
    backend, owner, unique_id
):
    backend.start()
    service = backend.service()
    results = held_job(service, owner, unique_id, sample_toons(TOONS))
    flaky = FlakyJobStore(service.ports.jobs, [StoreConflict()] * SAVE_ATTEMPTS)
    service.ports.jobs = flaky
    try:
        refused = _deliver_until_accepted(backend, [event(r) for r in results])
    finally:
        service.ports.jobs = flaky.inner

    assert refused == ["StoreConflict"], "the aggregator gives up after SAVE_ATTEMPTS tries"
    assert stored_job(service, owner, unique_id).version == FANNED_OUT + 1
    assert_promises_held(backend, owner, unique_id, TOONS)


def _on_local_job_writes_refused(backend, owner: str, job_id: str) -> list[str]:
    """The engine's steps in this process, on the engine's file, over a flaky job store.

    The workers' step runs until the queue is empty, then the aggregator's loop (which
    logs a failed step, backs off and runs it again) until the job ends. The engine is
    then started to project the job and answer for it.
    """
    settings = EngineSettings(data_dir=backend.data_dir)
    steps = Steps.open(settings)
    flaky = FlakyJobStore(
        steps.service.ports.jobs, [Throttled(), Throttled(), StoreConflict(), StoreConflict()]
    )
    steps.service.ports.jobs = flaky
    steps.service.submit_job(owner, json.dumps(sample_job(job_id, 40)).encode())
    while steps.work():
        pass

    stop = threading.Event()
    loop = threading.Thread(target=run_loop, args=("aggregator", steps.aggregate, stop))
    loop.start()
    try:
        deadline = time.monotonic() + 30
        while not flaky.inner.get(JobKey(owner, job_id)).status.is_terminal:
            assert time.monotonic() < deadline, "the aggregator loop never finished the job"
            time.sleep(0.02)
    finally:
        stop.set()
        loop.join(10)
    backend.start()
    return flaky.raised


def _on_aws_job_writes_refused(backend, owner: str, job_id: str) -> list[str]:
    """DynamoDB answers the jobs table's versioned PutItem calls with errors.

    The handler is registered on the handlers' DynamoDB client (its copy of the
    session's botocore event system); returning a response from `before-call` makes
    botocore raise the matching ClientError without sending the call.
    """
    from botocore.awsrequest import AWSResponse

    from toons.aws.clients import clients_for

    backend.start()
    flow = backend.flow
    codes = ["ProvisionedThroughputExceededException"] * 2 + ["ConditionalCheckFailedException"] * 2
    injected: list[str] = []

    def refuse(params: dict, **_: Any):
        call = json.loads(params["body"])  # `params` is the serialised request here
        versioned = call.get("ConditionExpression", "").startswith("#v = :expected")
        if call.get("TableName") != flow.names.jobs_table or not versioned or not codes:
            return None
        code = codes.pop(0)
        injected.append(code)
        error = {"Error": {"Code": code, "Message": "injected by the fault suite"}}
        return AWSResponse("https://dynamodb", 400, {}, None), {
            **error,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    events = clients_for().client("dynamodb").meta.events
    events.register("before-call.dynamodb.PutItem", refuse, unique_id="toons-fault-suite")
    try:
        assert backend.client(owner).submit(sample_job(job_id, 40)).status == 202
        backend.client(owner).wait(job_id, timeout_s=120)
    finally:
        events.unregister("before-call.dynamodb.PutItem", unique_id="toons-fault-suite")
    return injected


def test_job_writes_refused_during_a_whole_job_are_retried_and_count_exactly(
    backend, owner, unique_id
):
    refused = {"local": _on_local_job_writes_refused, "aws": _on_aws_job_writes_refused}[
        backend.name
    ](backend, owner, unique_id)

    assert len(refused) == 4, f"every injected refusal should have happened: {refused}"
    assert_promises_held(backend, owner, unique_id, 40)
