"""Fixtures of the core tests: the fake ports, a service and an API over them."""

from __future__ import annotations

import pytest

from tests.core.fakes import FakeEventPublisher, FakeJobStore, FakeResultStore, FakeWorkQueue
from tests.core.samples import SECRET, Clock, builtin_registry
from toons.api import Api
from toons.auth import mint
from toons.config import AuthSettings, Limits
from toons.ports import Ports
from toons.service import ToonService


@pytest.fixture
def ports() -> Ports:
    """A fresh set of in-memory ports."""
    return Ports(FakeJobStore(), FakeResultStore(), FakeWorkQueue(), FakeEventPublisher())


@pytest.fixture
def service(ports: Ports) -> ToonService:
    """The use cases over the fakes, with small limits and a steady clock."""
    limits = Limits(max_body_bytes=64 * 1024, max_toons=20, max_payload_bytes=2048)
    return ToonService(ports, limits=limits, registry=builtin_registry(), clock=Clock())


@pytest.fixture
def api(service: ToonService) -> Api:
    """The HTTP contract over the service, checking tokens signed with `SECRET`."""
    return Api(service, AuthSettings(secret=SECRET))


@pytest.fixture
def alice() -> dict[str, str]:
    """Headers of a request made by user `alice`."""
    return {"authorization": f"Bearer {mint('alice', SECRET)}"}


@pytest.fixture
def bob() -> dict[str, str]:
    """Headers of a request made by user `bob`."""
    return {"authorization": f"Bearer {mint('bob', SECRET)}"}
