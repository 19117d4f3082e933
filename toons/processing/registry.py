"""The registry of toon types: built-ins plus whatever installed packages add.

A third-party package adds a type without touching this project by declaring an entry
point in the `toons.processors` group whose object is a `ToonType` (or a zero-argument
callable returning one):

    [project.entry-points."toons.processors"]
    audio = "my_package.audio:AUDIO"
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import cache
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "toons.processors"


@runtime_checkable
class ToonType(Protocol):
    """What a toon type provides: its rules for one kind of payload.

    `normalise`, `validate` and `complexity` receive any JSON object and must not raise
    for bad data: bad data is reported by `validate` as readable messages.
    """

    name: str
    category: str

    def normalise(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Return the payload in its canonical form (a new dict)."""
        ...

    def validate(self, payload: dict[str, Any]) -> list[str]:
        """Return the broken rules, empty when the payload is valid."""
        ...

    def complexity(self, payload: dict[str, Any]) -> str:
        """Return LOW, MEDIUM or HIGH."""
        ...


class Registry:
    """Toon types by their upper-case name."""

    def __init__(self, types: Iterable[ToonType] = ()) -> None:
        self._types: dict[str, ToonType] = {}
        for toon_type in types:
            self.register(toon_type)

    def register(self, toon_type: ToonType) -> None:
        """Add a type; a later registration under the same name replaces the earlier."""
        if not isinstance(toon_type, ToonType):
            raise TypeError(f"{toon_type!r} does not provide the ToonType protocol")
        self._types[toon_type.name.upper()] = toon_type

    def get(self, name: str) -> ToonType | None:
        """The type registered under `name` (any case), if any."""
        return self._types.get(name.upper())

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._types)


def _load_entry_points(registry: Registry) -> None:
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
            # A class is a factory even when `name` is a class attribute, as the built-ins do.
            if isinstance(loaded, type) or (callable(loaded) and not hasattr(loaded, "name")):
                loaded = loaded()
            registry.register(loaded)
        except Exception:
            log.exception("toon type plugin failed to load", extra={"plugin": entry.name})


@cache
def default_registry() -> Registry:
    """The built-in types plus every installed plugin, loaded once per process."""
    from toons.processing import image, text, video

    registry = Registry([image.IMAGE, video.VIDEO, text.TEXT])
    _load_entry_points(registry)
    return registry
