"""`GET /jobs/{jobId}` behind API Gateway."""

from handlers.http import handler

__all__ = ["handler"]
