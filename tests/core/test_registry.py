"""The registry of toon types: lookup, custom types and plugins found by entry point."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.core.samples import builtin_registry, work_item
from toons.processing import default_registry, process_toon, registry
from toons.processing.image import IMAGE
from toons.processing.registry import ENTRY_POINT_GROUP, Registry, ToonType


class AudioType:
    """A third-party type: valid with a positive `seconds`."""

    name = "AUDIO"
    category = "SOUND"

    def normalise(self, payload: dict[str, Any]) -> dict[str, Any]:
        return dict(payload)

    def validate(self, payload: dict[str, Any]) -> list[str]:
        seconds = payload.get("seconds")
        return [] if isinstance(seconds, int) and seconds > 0 else ["'seconds' is required"]

    def complexity(self, payload: dict[str, Any]) -> str:
        return "HIGH"


class FakeEntryPoint:
    """What `importlib.metadata.entry_points` yields: a name and a `load()`."""

    def __init__(self, name: str, load: Callable[[], Any]) -> None:
        self.name = name
        self.load = load


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakeEntryPoint]]:
    """Entry points the default registry will find; the cached registry is reset around."""
    found: list[FakeEntryPoint] = []

    def entry_points(group: str) -> list[FakeEntryPoint]:
        return found if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(registry, "entry_points", entry_points)
    default_registry.cache_clear()
    yield found
    default_registry.cache_clear()


def test_builtin_types_are_image_text_and_video() -> None:
    assert builtin_registry().names() == ["IMAGE", "TEXT", "VIDEO"]


@pytest.mark.parametrize("name", ["IMAGE", "image", "Image", "iMaGe"])
def test_lookup_ignores_case(name: str) -> None:
    assert builtin_registry().get(name) is IMAGE


def test_lookup_of_an_unknown_name_is_none() -> None:
    assert builtin_registry().get("AUDIO") is None


def test_a_custom_type_object_can_be_registered_and_processed() -> None:
    types = builtin_registry()
    types.register(AudioType())

    result = process_toon(work_item("audio", {"seconds": 3}), types)

    assert types.names() == ["AUDIO", "IMAGE", "TEXT", "VIDEO"]
    assert result.is_valid
    assert result.processed_data["enrichment"]["category"] == "SOUND"
    assert result.processed_data["enrichment"]["complexity"] == "HIGH"


def test_a_type_registered_under_a_lower_case_name_is_found_by_upper_case() -> None:
    audio = AudioType()
    audio.name = "audio"

    assert Registry([audio]).get("AUDIO") is audio


def test_a_later_registration_replaces_the_earlier_one() -> None:
    first, second = AudioType(), AudioType()

    assert Registry([first, second]).get("AUDIO") is second


def test_an_object_without_the_protocol_is_refused() -> None:
    with pytest.raises(TypeError, match="ToonType protocol"):
        Registry().register(object())  # type: ignore[arg-type]


def test_the_builtin_types_provide_the_protocol() -> None:
    types = builtin_registry()

    assert all(isinstance(types.get(name), ToonType) for name in types.names())


def test_a_plugin_object_is_found_through_the_entry_point_group(
    plugins: list[FakeEntryPoint],
) -> None:
    audio = AudioType()
    plugins.append(FakeEntryPoint("audio", lambda: audio))

    assert default_registry().get("AUDIO") is audio
    assert default_registry().names() == ["AUDIO", "IMAGE", "TEXT", "VIDEO"]


def test_a_plugin_factory_function_is_called_to_build_the_type(
    plugins: list[FakeEntryPoint],
) -> None:
    def make_audio() -> AudioType:
        return AudioType()

    plugins.append(FakeEntryPoint("audio", lambda: make_audio))

    assert isinstance(default_registry().get("AUDIO"), AudioType)


def test_a_plugin_class_is_instantiated_even_with_a_class_level_name(
    plugins: list[FakeEntryPoint],
) -> None:
    plugins.append(FakeEntryPoint("audio", lambda: AudioType))

    result = process_toon(work_item("AUDIO", {"seconds": 1}))

    assert result.is_valid
    assert isinstance(default_registry().get("AUDIO"), AudioType)


def test_a_broken_plugin_is_logged_and_skipped(
    plugins: list[FakeEntryPoint], caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> Any:
        raise ImportError("No module named 'missing_dependency'")

    plugins.extend([FakeEntryPoint("broken", broken), FakeEntryPoint("audio", AudioType)])

    with caplog.at_level(logging.ERROR, logger=registry.__name__):
        names = default_registry().names()

    assert names == ["AUDIO", "IMAGE", "TEXT", "VIDEO"]
    assert [r.plugin for r in caplog.records] == ["broken"]
    assert caplog.records[0].exc_info[0] is ImportError


def test_a_plugin_that_is_not_a_toon_type_is_logged_and_skipped(
    plugins: list[FakeEntryPoint], caplog: pytest.LogCaptureFixture
) -> None:
    plugins.append(FakeEntryPoint("junk", lambda: "not a type"))

    with caplog.at_level(logging.ERROR, logger=registry.__name__):
        names = default_registry().names()

    assert names == ["IMAGE", "TEXT", "VIDEO"]
    assert [r.plugin for r in caplog.records] == ["junk"]


def test_the_default_registry_is_loaded_once_per_process(plugins: list[FakeEntryPoint]) -> None:
    assert default_registry() is default_registry()
