"""Fixtures every test folder may use."""

from __future__ import annotations

import itertools

import pytest

# The factories of jobs, toons and results that both adapter suites use.
pytest_plugins = ["tests.factories"]

_ids = itertools.count(1)


@pytest.fixture
def unique_id() -> str:
    """A job id no other test in this session uses."""
    return f"JOB-{next(_ids):05d}"
