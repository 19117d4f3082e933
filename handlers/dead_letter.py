"""The dead-letter handler: toons whose retries ran out are recorded FAILED.

Each gets the reason its worker last noted (or, with no note, that the worker never
finished: a timeout or a crash), so its job can still end. The message is then parked
for `toons redrive`.
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from handlers.runtime import failure_notes, logger, metrics, parking, service
from toons.aws.wiring import queue
from toons.model import WorkItem
from toons.service import DeadLetter

NO_NOTE = "the worker never finished this toon (timeout or crash) before its retries ran out"


def _letter(record: dict[str, Any]) -> DeadLetter | None:
    try:
        item = WorkItem.from_dict(json.loads(record["body"]))
    except (ValueError, KeyError, TypeError):
        logger.error("unreadable dead letter parked", extra={"messageId": record["messageId"]})
        return None
    note = failure_notes().get(item)
    max_receives = int(os.environ.get("TOONS_MAX_RECEIVES", queue("work").max_receives))
    reason, attempts = note or (NO_NOTE, max_receives)
    return DeadLetter(item, reason, attempts)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> None:
    """Record every dead letter of the batch as FAILED, then park the messages."""
    letters = [letter for r in event["Records"] if (letter := _letter(r))]

    service().record_failures(letters)
    parking().park([record["body"] for record in event["Records"]])

    metrics.add_metric("ToonsFailed", MetricUnit.Count, len(letters))
