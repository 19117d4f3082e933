"""The worker: SQS batches of queued toons become results and completion events.

Messages whose toon raised are reported back (partial batch failure), so only they are
retried; the reason is noted for the dead-letter handler in case retries run out.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from handlers.runtime import failure_notes, logger, metrics, service
from toons.model import WorkItem

Identity = tuple[str, str, int, int]


def _identity(item: WorkItem) -> Identity:
    return (item.key.owner, item.key.job_id, item.run, item.toon.index)


def _read(records: list[dict[str, Any]]) -> tuple[dict[Identity, tuple[WorkItem, list]], list]:
    """Group records by toon, and set aside records that are not work items at all.

    A toon queued twice is processed once; both of its messages share the outcome.
    """
    groups: dict[Identity, tuple[WorkItem, list]] = {}
    members: dict[Identity, list[dict[str, Any]]] = defaultdict(list)
    unreadable = []
    for record in records:
        try:
            item = WorkItem.from_dict(json.loads(record["body"]))
        except (ValueError, KeyError, TypeError):
            logger.error("unreadable work message", extra={"messageId": record["messageId"]})
            unreadable.append(record["messageId"])
            continue
        groups.setdefault(_identity(item), (item, members[_identity(item)]))
        members[_identity(item)].append(record)
    return groups, unreadable


def _receives(records: list[dict[str, Any]]) -> int:
    return max(int(r.get("attributes", {}).get("ApproximateReceiveCount", 1)) for r in records)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Process one SQS batch; answer which messages failed."""
    groups, failed_ids = _read(event["Records"])
    report = service().process_batch([item for item, _ in groups.values()])

    for item, reason in report.failed:
        records = groups[_identity(item)][1]
        failure_notes().record(item, reason, _receives(records))
        failed_ids += [record["messageId"] for record in records]

    metrics.add_metric("ToonsProcessed", MetricUnit.Count, len(report.done))
    metrics.add_metric("ToonsRetried", MetricUnit.Count, len(report.failed))
    for result in report.results[:100]:
        metrics.add_metric("ProcessingTime", MetricUnit.Milliseconds, result.duration_ms)
    return {"batchItemFailures": [{"itemIdentifier": mid} for mid in failed_ids]}
