"""The security suite's backends: the scenario suite's, started for this package alone.

The backend classes come from `tests.scenarios.conftest`; the fixtures are defined here
again rather than re-exported, because a re-exported session fixture is a second
instance, and a second cloud flow under the scenario suite's resource prefix would
collide with the first one in the same moto. This package's flow has its own prefix
and lives only while the package runs.

`strict_backend` is a backend that requires tokens to carry a configured `iss` and
`aud` (`TOONS_JWT_ISSUER`, `TOONS_JWT_AUDIENCE`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.scenarios.conftest import AwsBackend, LocalBackend
from tests.support import plugin_env, plugin_registry
from toons.local.launcher import LocalProcess

ISSUER = "https://issuer.toons.example"
AUDIENCE = "toons-api"


@pytest.fixture(scope="package")
def local_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBackend]:
    """One `toons local` for this package, with the test plugins installed."""
    process = LocalProcess(tmp_path_factory.mktemp("security-local"), env=plugin_env())
    with process:
        yield LocalBackend(process)


@pytest.fixture(scope="package")
def aws_backend() -> Iterator[AwsBackend]:
    """One cloud flow over moto for this package, under its own resource prefix."""
    import boto3

    from toons.aws.flow import CloudFlow, simulated_aws

    with simulated_aws():
        flow = CloudFlow(
            boto3.Session(region_name="us-east-1"), prefix="security", registry=plugin_registry()
        )
        yield AwsBackend(flow)


@pytest.fixture(params=["local", "aws"])
def backend(request: pytest.FixtureRequest):
    """Each backend in turn."""
    return request.getfixturevalue(f"{request.param}_backend")


@pytest.fixture
def user(unique_id: str) -> str:
    """A user id no other test uses, so job lists start empty."""
    return f"user-{unique_id}"


@pytest.fixture(scope="package")
def strict_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBackend]:
    """A `toons local` that requires `iss` and `aud` in every token."""
    env = {**plugin_env(), "TOONS_JWT_ISSUER": ISSUER, "TOONS_JWT_AUDIENCE": AUDIENCE}
    process = LocalProcess(tmp_path_factory.mktemp("security-strict"), env=env)
    with process:
        yield LocalBackend(process)


@pytest.fixture
def strict_aws(aws_backend: AwsBackend) -> Iterator[AwsBackend]:
    """The cloud flow with its handlers rebuilt to require `iss` and `aud`; then restored."""
    from toons.faults import NO_FAULTS

    saved = {name: os.environ.get(name) for name in ("TOONS_JWT_ISSUER", "TOONS_JWT_AUDIENCE")}
    os.environ.update({"TOONS_JWT_ISSUER": ISSUER, "TOONS_JWT_AUDIENCE": AUDIENCE})
    aws_backend.flow.use_faults(NO_FAULTS)  # fresh containers read the new settings
    try:
        yield aws_backend
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        aws_backend.flow.use_faults(NO_FAULTS)


@pytest.fixture(params=["local", "aws"])
def strict_backend(request: pytest.FixtureRequest):
    """Each backend in turn, requiring `iss` and `aud`."""
    return request.getfixturevalue(f"strict_{request.param}")
