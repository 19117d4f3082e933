"""Errors the core raises on purpose, each with a stable machine code.

The HTTP layer maps each class to a status in one table (`toons.api`); adapters turn
their backend's failures into `StoreConflict` or `Throttled` so the core never reads
a backend's messages.
"""

from __future__ import annotations


class ToonsError(Exception):
    """Base of every deliberate error: a stable `code`, a human message, maybe a field."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class InvalidInput(ToonsError):
    """The request is malformed or breaks a rule; nothing was stored."""


class LimitExceeded(ToonsError):
    """The request is larger than a configured limit; nothing was stored."""


class Unauthorized(ToonsError):
    """The caller did not prove who they are."""


class NotFound(ToonsError):
    """The thing does not exist, or belongs to someone else."""


class Conflict(ToonsError):
    """The request contradicts what is already stored."""


class StoreConflict(ToonsError):
    """A conditional write lost a race; the caller reads again and retries."""

    def __init__(self, message: str = "conditional write lost a race") -> None:
        super().__init__("STORE_CONFLICT", message)


class Throttled(ToonsError):
    """The backend asked us to slow down; the operation may be retried."""

    def __init__(self, message: str = "backend throttled the request") -> None:
        super().__init__("THROTTLED", message)
