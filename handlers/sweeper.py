"""The sweeper, on a schedule: no job is left Pending or silently stuck.

It resumes fan-outs that a crashed submit left Pending and publishes `JobsStuck`, the
number of jobs Processing with no progress for a while, which the stuck-jobs alarm
watches.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from handlers.runtime import logger, metrics, service
from toons.model import timestamp


def _before(seconds: float) -> str:
    return timestamp(datetime.now(UTC) - timedelta(seconds=seconds))


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Sweep the open jobs once."""
    resume_after = float(os.environ.get("TOONS_RESUME_AFTER_S", "120"))
    stuck_after = float(os.environ.get("TOONS_STUCK_AFTER_S", "900"))

    report = service().sweep(_before(resume_after), _before(stuck_after))

    metrics.add_metric("JobsStuck", MetricUnit.Count, len(report.stuck))
    metrics.add_metric("FanOutsResumed", MetricUnit.Count, len(report.resumed))
    return {"resumed": len(report.resumed), "stuck": len(report.stuck)}
