"""The projector: the jobs table's stream becomes the per-user job list.

It also publishes one `JobStatusChanged` event per status change.
"""

from __future__ import annotations

from typing import Any

from handlers.runtime import logger, service
from toons.aws.dynamo import job_change_from_stream_record


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> None:
    """Apply one batch of stream records."""
    changes = [c for r in event["Records"] if (c := job_change_from_stream_record(r))]
    service().project(changes)
