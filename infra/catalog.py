"""How a function finds what it touches: wiring's (kind, name) pairs, resolved.

Wiring names resources logically (`table:jobs`, `queue:work`, `bus:toons`...). Each
component that builds some of them hands out a `Handle` per pair; the catalog joins
them, so the functions can grant access by ARN and fill in environment variables
without knowing which component built what.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from toons.aws import wiring

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Handle:
    """One deployed resource: the ARN policies name, the value environment variables carry."""

    arn: pulumi.Output[str]
    reference: pulumi.Output[str]


class Catalog:
    """Handles by (kind, logical name), the kinds being wiring's `Access.kind` values."""

    def __init__(self, *parts: Mapping[Key, Handle]) -> None:
        self._handles: dict[Key, Handle] = {}
        for part in parts:
            clash = sorted(set(part) & set(self._handles))
            if clash:
                raise ValueError(f"resources built twice: {clash}")
            self._handles.update(part)

    def __getitem__(self, key: Key) -> Handle:
        try:
            return self._handles[key]
        except KeyError:
            kind, name = key
            raise KeyError(f"no component builds {kind} {name!r} that wiring refers to") from None

    def environment(self, fn: wiring.Function) -> dict[str, pulumi.Output[str]]:
        """`wiring.environment(fn)` with each logical reference replaced by its physical value."""
        env = {}
        for variable, reference in wiring.environment(fn).items():
            kind, _, name = reference.partition(":")
            env[variable] = self[(kind, name)].reference
        return env
