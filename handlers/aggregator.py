"""The aggregator: Kinesis batches of completion events become exact job counts.

The stream is partitioned by job, so this function is the only writer of a job's
tally; each job of a batch is written once. A failure raises, and the event source
mapping retries (bisecting) the batch: counting it twice changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from handlers.runtime import logger, metrics, service
from toons.aws.events import completions_from_kinesis_record


def _seconds(start: str, end: str) -> float:
    parse = datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> None:
    """Count one Kinesis batch."""
    completions = [
        c for record in event["Records"] for c in completions_from_kinesis_record(record)
    ]

    transitions = service().record_completions(completions)
    metrics.add_metric("CompletionsRead", MetricUnit.Count, len(completions))

    for transition in transitions:
        if transition.finished:
            job = transition.after
            metrics.add_metric("JobsCompleted", MetricUnit.Count, 1)
            metrics.add_metric(
                "JobDuration", MetricUnit.Seconds, _seconds(job.created_at, job.updated_at)
            )
