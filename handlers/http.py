"""The one API Gateway entry point; each HTTP function's module re-exports it.

Every route goes through the same HTTP layer (`toons.api.Api`) as `toons local`, so the
cloud answers with the same bodies, statuses and error strings.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from handlers.runtime import logger, serve_http


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one API Gateway (REST, proxy) event."""
    return serve_http(event)
