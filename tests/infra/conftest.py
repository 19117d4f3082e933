"""Each stack's program runs once per session under Pulumi's mocks (about a second each)."""

from __future__ import annotations

import pytest

from tests.infra import harness


@pytest.fixture(scope="session")
def deployments() -> dict[str, harness.Deployment]:
    """Every stack, deployed under mocks with its own `Pulumi.<stack>.yaml`."""
    return {stack: harness.run(stack) for stack in harness.STACKS}


@pytest.fixture(scope="session", params=harness.STACKS)
def deployment(request: pytest.FixtureRequest, deployments) -> harness.Deployment:
    """One stack at a time: tests taking it run once per stack."""
    return deployments[request.param]
