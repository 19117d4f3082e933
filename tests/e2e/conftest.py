"""Fixtures for tests that drive `toons local` as a user would, crashes included."""

from __future__ import annotations

import pytest

from toons.local.launcher import LocalProcess


@pytest.fixture
def local(tmp_path):
    """A `toons local` child on a fresh data dir (not started); killed at the end."""
    process = LocalProcess(tmp_path / "data")
    yield process
    process.kill()
