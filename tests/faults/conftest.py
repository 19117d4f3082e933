"""The fault suite's backends: one abstraction over `toons local` and the cloud flow.

A backend is armed with faults at named points (`toons.faults`), runs jobs, and is
then told to recover; the same test body runs on both:

- **local**: a fresh `toons local` child per test, on its own data dir, with the test
  plugins on PYTHONPATH, a short visibility timeout and `TOONS_FAULTS` holding the
  plan. A fault's action is `crash` (`os._exit(137)` in the process that hits the
  point). Every engine process reads the plan afresh and counts its own hits, so a
  worker the supervisor starts after a crash would crash again: recovering therefore
  kills the whole engine and starts it again without the plan.
- **aws**: one cloud flow over moto for the session; `flow.use_faults(plan)` arms it
  and a fault's action is `raise` (the invocation dies; the event source mapping
  redelivers). Recovering is `flow.use_faults(NO_FAULTS)`.

Both also expose the service the engine runs on (`service()`) and deliver completion
events and job change records straight to the aggregator and the projector, as a
redelivering source would.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.support import TEST_TYPES, plugin_env, plugin_registry
from toons import auth
from toons.client import Client
from toons.config import EngineSettings
from toons.faults import NO_FAULTS, Fault, FaultPlan
from toons.local.launcher import LocalProcess
from toons.local.loops import database_path
from toons.model import Job, JobChange, ToonEvent
from toons.service import ToonService
from toons.sqlite import open_ports

TESTS = Path(__file__).parents[1]
PLUGIN_DIRS = (TESTS / "faults" / "plugins", TESTS / "fixtures" / "plugins")
FAULT_TYPES = (PLUGIN_DIRS[0], "toons_fault_plugins", ("SLOW",))
WORKER_POINTS = frozenset({"worker.before_results", "worker.after_results", "worker.after_publish"})


def _wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached in {timeout_s}s")
        time.sleep(0.02)


class LocalFaults:
    """`toons local` as a child process on a fresh data dir, with faults that crash."""

    name = "local"
    action = "crash"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.process: LocalProcess | None = None
        self._service: ToonService | None = None

    # -- lifecycle ------------------------------------------------------------------

    def start(
        self,
        faults: dict[str, dict[str, int]] | None = None,
        workers: int = 2,
        visibility_s: float = 2.0,
    ) -> LocalFaults:
        """Start the engine; `faults` maps points to `after`/`times` of a crash."""
        env = {**plugin_env(*PLUGIN_DIRS), "TOONS_VISIBILITY_TIMEOUT_S": str(visibility_s)}
        if faults:
            plan = {point: {"action": self.action, **spec} for point, spec in faults.items()}
            env["TOONS_FAULTS"] = json.dumps(plan)
        self.process = LocalProcess(self.data_dir, workers=workers, env=env)
        if not faults:
            self.process.env.pop("TOONS_FAULTS", None)
        try:
            self.process.start()
        except RuntimeError:
            # A fault in a loop that has work at start-up may crash the engine before
            # it says it listens; that crash is the one the test asked for.
            if not faults or self.process.proc.wait() != 137:
                raise
        return self

    def fired(self, point: str) -> bool:
        """Whether the crash at `point` happened (a worker or the main process died)."""
        if point in WORKER_POINTS:
            return any("worker died" in line and "exitcode=137" in line for line in self.output)
        return self.process.proc.poll() == 137

    def until_fired(self, point: str, timeout_s: float = 30) -> None:
        """Wait until the fault at `point` has fired."""
        _wait_for(lambda: self.fired(point), timeout_s, f"a crash at {point}")

    def kill(self) -> None:
        """SIGKILL the engine's whole process group (whatever of it is still alive)."""
        if self.process is None or self.process.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.proc.pid, signal.SIGKILL)
        self.process.proc.wait()

    def recover(self) -> None:
        """Kill what is left of the engine and start it again without the fault plan."""
        self.kill()
        self.process.env.pop("TOONS_FAULTS", None)
        self.process.start()

    @property
    def output(self) -> list[str]:
        """Everything the engine printed so far (log level WARNING)."""
        return list(self.process.output) if self.process else []

    # -- talking to it --------------------------------------------------------------

    def client(self, owner: str) -> Client:
        """A client speaking for `owner` (made afresh: a restart moves the port)."""
        return Client(self.process.url, auth.mint(owner, self.process.secret, 3600))

    def settle(self, condition: Callable[[], bool], timeout_s: float = 60) -> None:
        """Wait until `condition()` holds; the engine works on its own."""
        _wait_for(condition, timeout_s, "the condition")

    def status_events(self, owner: str, job_id: str) -> list[dict[str, Any]]:
        """The JobStatusChanged events of a job, from the event log."""
        with sqlite3.connect(self.database) as db:
            rows = db.execute(
                "SELECT body FROM events WHERE type = 'JobStatusChanged' AND owner = ? "
                "AND job_id = ? ORDER BY seq",
                (owner, job_id),
            ).fetchall()
        return [json.loads(body) for (body,) in rows]

    def queued(self, owner: str, job_id: str) -> int:
        """Messages of a job still in the work queue (waiting or in flight)."""
        with sqlite3.connect(self.database) as db:
            (count,) = db.execute(
                "SELECT count(*) FROM queue WHERE owner = ? AND job_id = ?", (owner, job_id)
            ).fetchone()
        return count

    @property
    def database(self) -> Path:
        """The engine's SQLite file."""
        return Path(database_path(EngineSettings(data_dir=self.data_dir)))

    def service(self) -> ToonService:
        """A service on the engine's SQLite file, in this process."""
        if self._service is None:
            self._service = ToonService(open_ports(self.database))
        return self._service

    def deliver_events(self, events: Sequence[ToonEvent]) -> None:
        """One batch of completion events to the aggregator, as a replay would."""
        self.service().record_completions([event.completion() for event in events])

    def deliver_changes(self, changes: Sequence[tuple[Job | None, Job]]) -> None:
        """One batch of job change records to the projector."""
        self.service().project(
            [JobChange(old.summary() if old else None, new.summary()) for old, new in changes]
        )

    def close(self) -> None:
        """Stop everything this backend started."""
        self.kill()


class AwsFaults:
    """The cloud flow over moto, with faults that make an invocation raise."""

    name = "aws"
    action = "raise"

    def __init__(self, flow: Any) -> None:
        self.flow = flow
        self.plan = NO_FAULTS

    def start(self, faults: dict[str, dict[str, int]] | None = None, **_: Any) -> AwsFaults:
        """Arm the flow's handlers with `faults` (points to `after`/`times` of a raise)."""
        self.plan = FaultPlan(
            {point: Fault(self.action, **spec) for point, spec in (faults or {}).items()}
        )
        self.flow.use_faults(self.plan)
        return self

    def fired(self, point: str) -> bool:
        """Whether the fault at `point` has fired at least once."""
        fault = self.plan.faults[point]
        return fault.seen > fault.after

    def until_fired(self, point: str, timeout_s: float = 60) -> None:
        """Play the flow until the fault at `point` has fired."""
        deadline = time.monotonic() + timeout_s
        while not self.fired(point):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no fault at {point} in {timeout_s}s")
            if not self.flow.step():
                time.sleep(0.05)

    def recover(self) -> None:
        """Fresh containers without faults."""
        self.flow.use_faults(NO_FAULTS)

    def client(self, owner: str) -> Any:
        """A client speaking for `owner` through the flow's API Gateway."""
        from toons.aws.flow import FlowClient

        return FlowClient(self.flow, auth.mint(owner, self.flow.secret, 3600))

    def settle(self, condition: Callable[[], bool], timeout_s: float = 120) -> None:
        """Play the flow until it is idle and `condition()` holds."""
        self.flow.settle(condition, timeout_s)

    def status_events(self, owner: str, job_id: str) -> list[dict[str, Any]]:
        """The JobStatusChanged events a subscriber of the status rule received."""
        return [
            event["detail"]
            for event in self.flow.published["status-changes"]
            if event["detail"]["userId"] == owner and event["detail"]["jobId"] == job_id
        ]

    def queued(self, owner: str, job_id: str) -> int:
        """Messages in the work queue, waiting or in flight (tests run one at a time)."""
        attributes = self.flow.client("sqs").get_queue_attributes(
            QueueUrl=self.flow.names.work_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def service(self) -> ToonService:
        """The service the flow's Lambda handlers share (same ports, same fault plan)."""
        from handlers import runtime

        return runtime.service()

    def deliver_events(self, events: Sequence[ToonEvent]) -> None:
        """One Kinesis batch to the aggregator handler: one record per event, in order.

        The records are a function of the events, so delivering the same events twice
        delivers the same records twice.
        """
        from toons.aws import wiring
        from toons.aws.events import entries_for

        records = []
        for number, event in enumerate(events):
            [entry] = entries_for([event], self.flow.names.bus_name)
            data = {
                "version": "0",
                "id": event.event_id,  # the same events make the same records
                "detail-type": entry["DetailType"],
                "source": entry["Source"],
                "detail": json.loads(entry["Detail"]),
            }
            records.append(
                {
                    "kinesis": {
                        "partitionKey": str(event.key),
                        "sequenceNumber": str(number),
                        "data": base64.b64encode(json.dumps(data).encode()).decode(),
                    },
                    "eventSource": "aws:kinesis",
                    "eventID": f"shardId-000000000000:{number}",
                }
            )
        self.flow.invoke(wiring.function("aggregator"), {"Records": records})

    def deliver_changes(self, changes: Sequence[tuple[Job | None, Job]]) -> None:
        """One DynamoDB Streams batch of the jobs table to the projector handler."""
        from toons.aws import wiring
        from toons.aws.dynamo import job_item

        records = [
            {
                "eventID": f"{new.key}:{new.version}",
                "eventName": "INSERT" if old is None else "MODIFY",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "NewImage": job_item(new),
                    **({"OldImage": job_item(old)} if old else {}),
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
            for old, new in changes
        ]
        self.flow.invoke(wiring.function("projector"), {"Records": records})

    def close(self) -> None:
        """Disarm and let the flow finish whatever the test left in flight."""
        self.flow.use_faults(NO_FAULTS)
        self.flow.settle(timeout_s=120)


@pytest.fixture(scope="package")
def fault_flow():
    """One cloud flow over moto for this package (its own resource prefix).

    The flow points the process's environment and the handlers' runtime at its
    resources; both are put back when the package is done, so that no moto state of
    this suite outlives it.
    """
    import boto3

    from toons.aws.flow import CloudFlow, simulated_aws

    with simulated_aws():
        yield CloudFlow(
            boto3.Session(region_name="us-east-1"),
            prefix="faults",
            registry=plugin_registry(
                TEST_TYPES, (PLUGIN_DIRS[0], "toons_fault_plugins", ("SLOW",))
            ),
        )


@pytest.fixture
def local_faults(tmp_path):
    """A `toons local` on a fresh data dir, not started yet; killed at the end."""
    backend = LocalFaults(tmp_path / "data")
    yield backend
    backend.close()


@pytest.fixture
def aws_faults(fault_flow):
    """The cloud flow, disarmed and settled again at the end."""
    backend = AwsFaults(fault_flow)
    yield backend
    backend.close()


@pytest.fixture(params=["local", "aws"])
def backend(request: pytest.FixtureRequest):
    """Each backend in turn."""
    return request.getfixturevalue(f"{request.param}_faults")


@pytest.fixture
def owner(unique_id: str) -> str:
    """A user no other test uses."""
    return f"owner-{unique_id}"
