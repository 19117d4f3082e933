"""The scheduled sweeper, through the cloud flow: no job is left Pending or silently stuck."""

from __future__ import annotations

import json

import pytest

from toons.aws import DynamoJobStore
from toons.aws.flow import CloudFlow
from toons.bench.sample import sample_job
from toons.config import Limits
from toons.model import Job, JobKey, JobStatus
from toons.processing import default_registry
from toons.submission import parse_submission

LONG_AGO = "2026-01-01T00:00:00.000Z"


@pytest.fixture
def flow(session, monkeypatch):
    monkeypatch.setenv("TOONS_RESUME_AFTER_S", "0")
    monkeypatch.setenv("TOONS_STUCK_AFTER_S", "60")
    return CloudFlow(session, prefix="sweep")


def stored(flow: CloudFlow, job_id: str, status: JobStatus, toons: int = 5) -> JobKey:
    """A job written straight to the store, as a crashed submit would leave it."""
    request = parse_submission(
        json.dumps(sample_job(job_id, toons)).encode(), Limits(), default_registry()
    )
    job = Job(JobKey("carol", job_id), status, toons, LONG_AGO, LONG_AGO, request.digest)
    DynamoJobStore(flow.names, flow.session).create(job, request.toons)
    return job.key


def test_a_job_left_pending_by_a_crashed_submit_is_fanned_out_and_completes(flow):
    key = stored(flow, "HALF", JobStatus.PENDING)

    [answer] = flow.run_schedules()
    flow.settle()

    job = DynamoJobStore(flow.names, flow.session).get(key)
    assert answer == {"resumed": 1, "stuck": 0}
    assert (job.status, job.processed) == (JobStatus.COMPLETED, 5)


def test_a_processing_job_with_no_progress_is_reported_stuck(flow):
    stored(flow, "STALLED", JobStatus.PROCESSING)

    [answer] = flow.run_schedules()

    assert answer == {"resumed": 0, "stuck": 1}
