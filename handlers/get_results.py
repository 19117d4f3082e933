"""`GET /results` behind API Gateway."""

from handlers.http import handler

__all__ = ["handler"]
