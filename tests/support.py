"""Helpers the suites that start real backends share: test plugins and contract checks."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from toons.processing import Registry
from toons.processing.image import IMAGE
from toons.processing.text import TEXT
from toons.processing.video import VIDEO

TESTS = Path(__file__).parent
PLUGINS = TESTS / "fixtures" / "plugins"
TEST_TYPES = (PLUGINS, "toons_test_plugins", ("POISON", "UNTIL"))


def plugin_env(*folders: Path) -> dict[str, str]:
    """PYTHONPATH for engine processes, with the given plugin folders first.

    Without folders, the test plugins; then whatever the environment already had.
    """
    parts = [*map(str, folders or (PLUGINS,)), os.environ.get("PYTHONPATH", "")]
    return {"PYTHONPATH": os.pathsep.join(p for p in parts if p)}


def plugin_registry(*modules: tuple[Path, str, tuple[str, ...]]) -> Registry:
    """The built-in types plus plugin types, for in-process backends.

    The plugins are loaded as modules, not through entry points; by default the test
    plugins POISON and UNTIL.
    """
    types = [IMAGE, VIDEO, TEXT]
    for folder, module, names in modules or (TEST_TYPES,):
        spec = importlib.util.spec_from_file_location(module, folder / f"{module}.py")
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
        types += [getattr(loaded, name) for name in names]
    return Registry(types)


def assert_well_formed(reply) -> None:
    """No 5xx, and every 4xx carries the contract's `error` and `code`."""
    assert reply.status < 500, reply.body
    if reply.status >= 400:
        assert isinstance(reply.body, dict)
        assert isinstance(reply.body.get("error"), str) and reply.body["error"]
        assert isinstance(reply.body.get("code"), str) and reply.body["code"]
