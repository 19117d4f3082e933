"""The scenario suite's backends: every scenario runs against each of them.

A backend hands out clients speaking for a user and can mint tokens with its secret.
`client.wait(job_id)` settles a job: polling on the embedded engine, driving the event
sources on the cloud flow.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import plugin_env, plugin_registry
from toons import auth
from toons.client import Client
from toons.local.launcher import LocalProcess

DATA = Path(__file__).parents[2] / "data"


class LocalBackend:
    """`toons local` started for real, as a child process."""

    name = "local"

    def __init__(self, process: LocalProcess) -> None:
        self.process = process
        self.secret = process.secret

    def client(self, subject: str | None = "user123", token: str | None = None) -> Client:
        """A client with a token for `subject` (or the given token, or none at all)."""
        if token is None and subject is not None:
            token = self.token(subject)
        return Client(self.process.url, token)

    def settle(self, condition: Callable[[], bool], timeout_s: float = 60) -> None:
        """Wait until `condition()` holds (the engine works on its own)."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not reached in time")
            time.sleep(0.02)

    def token(self, subject: str, ttl_s: float = 3600) -> str:
        """A token signed with this backend's secret."""
        return auth.mint(subject, self.secret, ttl_s)

    def operations(self):
        """The operators' commands on this engine's data dir."""
        from toons.operations import LocalOperations

        return LocalOperations(self.process.data_dir)

    def status_events(self, owner: str, job_id: str) -> list[dict]:
        """The JobStatusChanged events published for a job, from the event log."""
        with sqlite3.connect(self.process.data_dir / "toons.db") as db:
            rows = db.execute(
                "SELECT body FROM events WHERE type = 'JobStatusChanged' AND owner = ? "
                "AND job_id = ? ORDER BY seq",
                (owner, job_id),
            ).fetchall()
        return [json.loads(body) for (body,) in rows]


@pytest.fixture(scope="session")
def local_backend(tmp_path_factory: pytest.TempPathFactory):
    """One `toons local` for the whole session, with the test plugins installed."""
    process = LocalProcess(tmp_path_factory.mktemp("local"), env=plugin_env())
    with process:
        yield LocalBackend(process)


@pytest.fixture(params=["local", "aws"])
def backend(request: pytest.FixtureRequest):
    """Each backend in turn."""
    return request.getfixturevalue(f"{request.param}_backend")


@pytest.fixture
def user(unique_id: str) -> str:
    """A user id no other test uses, so job lists start empty."""
    return f"user-{unique_id}"


class AwsBackend:
    """The cloud flow over moto: the Lambda handlers behind a simulated API Gateway."""

    name = "aws"

    def __init__(self, flow) -> None:
        self.flow = flow
        self.secret = flow.secret

    def client(self, subject: str | None = "user123", token: str | None = None):
        """A client with a token for `subject` (or the given token, or none at all)."""
        from toons.aws.flow import FlowClient

        if token is None and subject is not None:
            token = self.token(subject)
        return FlowClient(self.flow, token)

    def settle(self, condition: Callable[[], bool], timeout_s: float = 120) -> None:
        """Play the flow until `condition()` holds."""
        self.flow.settle(condition, timeout_s)

    def token(self, subject: str, ttl_s: float = 3600) -> str:
        """A token signed with this backend's secret."""
        return auth.mint(subject, self.secret, ttl_s)

    def operations(self):
        """The operators' commands on the flow's resources."""
        from toons.aws.operations import StackOperations

        return StackOperations(self.flow.names, self.flow.archive_name, self.flow.session)

    def status_events(self, owner: str, job_id: str) -> list[dict]:
        """The JobStatusChanged events a subscriber of the status rule received."""
        return [
            event["detail"]
            for event in self.flow.published["status-changes"]
            if event["detail"]["userId"] == owner and event["detail"]["jobId"] == job_id
        ]


@pytest.fixture(scope="session")
def aws_backend():
    """One cloud flow over moto for the whole session."""
    import boto3

    from toons.aws.flow import CloudFlow, simulated_aws

    with simulated_aws():
        flow = CloudFlow(
            boto3.Session(region_name="us-east-1"), prefix="scenarios", registry=plugin_registry()
        )
        yield AwsBackend(flow)
