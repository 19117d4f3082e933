"""The projector keeps the newest list row and announces each status change once.

Change records of the jobs table arrive late, twice, or with the projector dying
between its list write and its announcement. The stream tests deliver records straight
to the projector (the Lambda handler with DynamoDB Streams records on the cloud flow,
`project` on the engine's file locally) for a job of their own making.
"""

from __future__ import annotations

from tests.faults.checks import (
    assert_one_event_per_change,
    assert_promises_held,
    resubmit_after_recovery,
    submit_through_a_crash,
)
from toons.bench.sample import sample_job
from toons.model import Job, JobKey, JobStatus, timestamp

TOTAL = 20


def _three_versions(owner: str, job_id: str) -> list[Job]:
    """A job as it is written: created Pending, fanned out, then completed."""
    created = timestamp()
    pending = Job(JobKey(owner, job_id), JobStatus.PENDING, TOTAL, created, created, "digest")
    processing = pending.bump(status=JobStatus.PROCESSING, updated_at=timestamp())
    completed = processing.bump(
        status=JobStatus.COMPLETED, processed_bits=(1 << TOTAL) - 1, updated_at=timestamp()
    )
    return [pending, processing, completed]


def _listed(backend, owner: str, job_id: str) -> dict:
    [row] = [j for j in backend.client(owner).jobs().body["jobs"] if j["jobId"] == job_id]
    return row


def test_a_stale_change_record_after_a_newer_one_keeps_the_newest_row(backend, owner, unique_id):
    backend.start()
    pending, processing, completed = _three_versions(owner, unique_id)

    for change in ((None, pending), (processing, completed), (pending, processing)):
        backend.deliver_changes([change])
    backend.settle(lambda: len(backend.status_events(owner, unique_id)) >= 3)

    row = _listed(backend, owner, unique_id)
    assert (row["status"], row["processedToons"], row["failedToons"]) == ("Completed", TOTAL, 0)
    events = backend.status_events(owner, unique_id)
    assert len(events) == 3
    assert_one_event_per_change(events)


def test_a_change_record_delivered_twice_announces_its_change_under_one_id(
    backend, owner, unique_id
):
    backend.start()
    pending, processing, completed = _three_versions(owner, unique_id)
    changes = [(None, pending), (pending, processing), (processing, completed)]

    for change in [*changes, changes[-1]]:
        backend.deliver_changes([change])
    backend.settle(lambda: len(backend.status_events(owner, unique_id)) >= 3)

    assert _listed(backend, owner, unique_id)["status"] == "Completed"
    events = backend.status_events(owner, unique_id)
    # The local event log stores an id once; a cloud subscriber may see the redelivered
    # announcement again, under the same id, and dedupes by it.
    assert_one_event_per_change(events, redelivered=backend.name == "aws")
    assert len({e["eventId"] for e in events}) == 3


def test_a_projector_crash_after_the_list_write_announces_each_change_once(
    backend, owner, unique_id
):
    backend.start({"projector.after_project": {"after": 0, "times": 1}})
    submit_through_a_crash(backend, owner, sample_job(unique_id, 30))
    backend.until_fired("projector.after_project")

    backend.recover()
    resubmit_after_recovery(backend, owner, sample_job(unique_id, 30))

    assert_promises_held(backend, owner, unique_id, 30)
