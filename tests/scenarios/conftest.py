"""The scenario suite's backends: every scenario runs against each of them.

A backend hands out clients speaking for a user and can mint tokens with its secret.
`client.wait(job_id)` settles a job: polling on the embedded engine, driving the event
sources on the cloud flow.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from toons import auth
from toons.client import Client
from toons.local.launcher import LocalProcess

PLUGINS = Path(__file__).parents[1] / "fixtures" / "plugins"
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


@pytest.fixture(scope="session")
def local_backend(tmp_path_factory: pytest.TempPathFactory):
    """One `toons local` for the whole session, with the test plugins installed."""
    path = os.pathsep.join(p for p in (str(PLUGINS), os.environ.get("PYTHONPATH")) if p)
    process = LocalProcess(tmp_path_factory.mktemp("local"), env={"PYTHONPATH": path})
    with process:
        yield LocalBackend(process)


@pytest.fixture(params=["local"])
def backend(request: pytest.FixtureRequest):
    """Each backend in turn."""
    return request.getfixturevalue(f"{request.param}_backend")


@pytest.fixture
def user(unique_id: str) -> str:
    """A user id no other test uses, so job lists start empty."""
    return f"user-{unique_id}"
