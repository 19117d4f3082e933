"""The embedded engine's steps on SQLite: a job from submit to its terminal status.

The steps run in this thread, in turn, until there is nothing left to do; no worker
processes or loop threads are started.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from toons.config import EngineSettings
from toons.local.loops import Steps
from toons.model import Job, JobKey, JobStatus, JobStatusChanged, Outcome, Toon, WorkItem
from toons.ports import Ports
from toons.processing import Registry, default_registry
from toons.service import ToonService
from toons.sqlite import Database, SqliteEventLog, SqliteJobStore, SqliteQueue, SqliteResultStore

OWNER = "alice"
MAX_RECEIVES = 3


class BrokenType:
    """A toon type whose processor always raises (a plugin bug)."""

    name = "BROKEN"
    category = "TEST"

    def normalise(self, payload: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("plugin exploded")

    def validate(self, payload: dict[str, Any]) -> list[str]:
        return []

    def complexity(self, payload: dict[str, Any]) -> str:
        return "LOW"


def body(job_id: str, toons: list[dict[str, Any]]) -> bytes:
    return json.dumps({"jobId": job_id, "toons": toons}).encode()


def text_toons(count: int) -> list[dict[str, Any]]:
    return [
        {"toonId": f"T-{i:05d}", "type": "TEXT", "payload": {"content": f"toon number {i}"}}
        for i in range(count)
    ]


def step_once(steps: Steps) -> bool:
    """Run every step once; True if any found work."""
    return any([steps.work(), steps.dead_letters(), steps.aggregate(), steps.project()])


def settle(steps: Steps, timeout_s: float = 10.0) -> None:
    """Run the steps until the queue, dead letters and change feed are all empty."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if step_once(steps):
            continue
        depth = steps.queue.depth()
        if depth["queued"] == depth["dead"] == 0 and not steps.jobs.changes(1):
            return
        time.sleep(0.005)  # messages waiting out a retry backoff
    raise AssertionError("the engine did not settle")


def left_pending(steps: Steps, key: JobKey, toons: list[Toon]) -> None:
    """Store a job and its toons as a submit that crashed before its fan-out would."""
    now = "2025-01-01T00:00:00.000Z"
    steps.jobs.create(Job(key, JobStatus.PENDING, len(toons), now, now, "digest"), toons)


def status_changes(steps: Steps, key: JobKey) -> list[JobStatus]:
    read = steps.events.read(0, 1000, types=[JobStatusChanged.TYPE])
    return [event.to_status for _, event in read if event.key == key]


def all_results(steps: Steps, key: JobKey) -> list:
    return steps.service.ports.results.list(key, 100_000, None).items


@pytest.fixture
def settings(tmp_path) -> EngineSettings:
    return EngineSettings(
        data_dir=tmp_path, workers=1, batch_size=10, visibility_timeout_s=5.0, max_receives=3
    )


@pytest.fixture
def steps(settings) -> Steps:
    return Steps.open(settings)


@pytest.fixture
def fragile_steps(settings, tmp_path) -> Steps:
    """Steps that know the BROKEN type and retry quickly."""
    db = Database(tmp_path / "toons.db")
    ports = Ports(
        jobs=SqliteJobStore(db),
        results=SqliteResultStore(db),
        queue=SqliteQueue(db, max_receives=MAX_RECEIVES, retry_base_s=0.005),
        events=SqliteEventLog(db),
    )
    registry = Registry([default_registry().get(name) for name in default_registry().names()])
    registry.register(BrokenType())
    return Steps(ToonService(ports, registry=registry), settings)


def test_a_submitted_job_completes_with_exact_counts_and_one_result_per_toon(steps, unique_id):
    receipt = steps.service.submit_job(OWNER, body(unique_id, text_toons(35)))

    settle(steps)

    job = steps.jobs.get(receipt.key)
    assert (job.status, job.processed, job.failed, job.total) == (JobStatus.COMPLETED, 35, 0, 35)
    results = all_results(steps, receipt.key)
    assert [r.toon_id for r in results] == [f"T-{i:05d}" for i in range(35)]
    assert {r.outcome for r in results} == {Outcome.PROCESSED}


def test_an_invalid_toon_is_processed_not_failed(steps, unique_id):
    toons = [*text_toons(2), {"toonId": "empty", "type": "TEXT", "payload": {"content": ""}}]
    receipt = steps.service.submit_job(OWNER, body(unique_id, toons))

    settle(steps)

    job = steps.jobs.get(receipt.key)
    assert (job.status, job.processed, job.failed) == (JobStatus.COMPLETED, 3, 0)
    invalid = all_results(steps, receipt.key)[2]
    assert (invalid.outcome, invalid.is_valid) == (Outcome.PROCESSED, False)
    assert invalid.validation_errors


def test_a_completed_job_is_projected_into_its_owners_list(steps, unique_id):
    receipt = steps.service.submit_job(OWNER, body(unique_id, text_toons(4)))

    settle(steps)

    [listed] = steps.jobs.list_jobs(OWNER, 10, None).items
    assert listed == steps.jobs.get(receipt.key).summary()
    assert (listed.status, listed.processed) == (JobStatus.COMPLETED, 4)


def test_a_job_publishes_one_status_change_per_status(steps, unique_id):
    receipt = steps.service.submit_job(OWNER, body(unique_id, text_toons(25)))

    settle(steps)

    assert status_changes(steps, receipt.key) == [
        JobStatus.PENDING,
        JobStatus.PROCESSING,
        JobStatus.COMPLETED,
    ]


def test_a_resubmitted_job_is_counted_once(steps, unique_id):
    request = body(unique_id, text_toons(5))
    receipt = steps.service.submit_job(OWNER, request)
    settle(steps)

    again = steps.service.submit_job(OWNER, request)
    settle(steps)

    job = steps.jobs.get(receipt.key)
    assert again.replayed
    assert (job.status, job.processed, job.failed) == (JobStatus.COMPLETED, 5, 0)
    assert len(all_results(steps, receipt.key)) == 5


def test_a_redelivered_batch_changes_no_count(steps, unique_id):
    receipt = steps.service.submit_job(OWNER, body(unique_id, text_toons(6)))
    items = [m.item for m in steps.queue.receive(100, 0.0)]  # received, never acknowledged
    settle(steps)

    steps.service.process_batch(items)
    settle(steps)

    job = steps.jobs.get(receipt.key)
    assert (job.status, job.processed, job.failed) == (JobStatus.COMPLETED, 6, 0)
    assert len(all_results(steps, receipt.key)) == 6


def test_a_toon_whose_processor_raises_is_dead_lettered_and_recorded_failed(
    fragile_steps, unique_id
):
    toons = [*text_toons(3), {"toonId": "bad", "type": "BROKEN", "payload": {}}]
    receipt = fragile_steps.service.submit_job(OWNER, body(unique_id, toons))

    settle(fragile_steps)

    job = fragile_steps.jobs.get(receipt.key)
    assert (job.status, job.processed, job.failed) == (JobStatus.COMPLETED_WITH_ERRORS, 3, 1)
    failed = all_results(fragile_steps, receipt.key)[3]
    assert (failed.toon_id, failed.outcome) == ("bad", Outcome.FAILED)
    assert (failed.error, failed.attempts) == ("RuntimeError: plugin exploded", MAX_RECEIVES)


def test_a_toon_of_a_type_without_processor_is_dead_lettered_and_recorded_failed(
    fragile_steps, unique_id
):
    key = JobKey(OWNER, unique_id)
    toons = [Toon("ok", "TEXT", {"content": "fine"}, 0), Toon("ghost", "GHOST", {}, 1)]
    left_pending(fragile_steps, key, toons)
    fragile_steps.resume_pending()

    settle(fragile_steps)

    job = fragile_steps.jobs.get(key)
    assert (job.status, job.processed, job.failed) == (JobStatus.COMPLETED_WITH_ERRORS, 1, 1)
    ghost = all_results(fragile_steps, key)[1]
    assert ghost.outcome is Outcome.FAILED
    assert ghost.error == "UnknownToonType: no processor for toon type 'GHOST'"


def test_a_dead_lettered_toon_announces_its_failure_with_the_reason(fragile_steps, unique_id):
    toons = [{"toonId": "bad", "type": "BROKEN", "payload": {}}]
    receipt = fragile_steps.service.submit_job(OWNER, body(unique_id, toons))

    settle(fragile_steps)

    [(_, event)] = fragile_steps.events.read(0, 100, types=["ToonFailed"])
    assert (event.key, event.toon_id, event.reason) == (
        receipt.key,
        "bad",
        "RuntimeError: plugin exploded",
    )
    assert status_changes(fragile_steps, receipt.key)[-1] is JobStatus.COMPLETED_WITH_ERRORS


def test_the_projector_publishes_each_status_change_once_when_the_feed_is_reread(steps, unique_id):
    receipt = steps.service.submit_job(OWNER, body(unique_id, text_toons(12)))
    while steps.work() or steps.aggregate():
        pass
    assert steps.jobs.get(receipt.key).status is JobStatus.COMPLETED
    changes = [change for _, change in steps.jobs.changes(1000)]

    steps.service.project(changes)  # then a crash before consume_changes
    steps.service.project(changes)
    settle(steps)

    assert status_changes(steps, receipt.key) == [
        JobStatus.PENDING,
        JobStatus.PROCESSING,
        JobStatus.COMPLETED,
    ]
    [listed] = steps.jobs.list_jobs(OWNER, 10, None).items
    assert (listed.status, listed.processed) == (JobStatus.COMPLETED, 12)


def test_resume_pending_fans_out_a_job_left_pending(steps, unique_id):
    key = JobKey(OWNER, unique_id)
    left_pending(steps, key, [Toon(f"T-{i}", "TEXT", {"content": "resumed"}, i) for i in range(4)])

    assert steps.resume_pending() == 1

    settle(steps)
    job = steps.jobs.get(key)
    assert (job.status, job.processed) == (JobStatus.COMPLETED, 4)
    assert steps.resume_pending() == 0


def test_resume_pending_leaves_fanned_out_jobs_alone(steps, unique_id):
    steps.service.submit_job(OWNER, body(unique_id, text_toons(2)))

    assert steps.resume_pending() == 0
    assert steps.queue.depth()["queued"] == 2


def test_a_job_completes_even_if_every_toon_fails(fragile_steps, unique_id):
    toons = [{"toonId": f"bad-{i}", "type": "BROKEN", "payload": {}} for i in range(3)]
    receipt = fragile_steps.service.submit_job(OWNER, body(unique_id, toons))

    settle(fragile_steps)

    job = fragile_steps.jobs.get(receipt.key)
    assert (job.status, job.processed, job.failed) == (JobStatus.COMPLETED_WITH_ERRORS, 0, 3)
    assert [r.outcome for r in all_results(fragile_steps, receipt.key)] == [Outcome.FAILED] * 3


def test_two_jobs_are_counted_separately(steps, unique_id):
    first = steps.service.submit_job(OWNER, body(unique_id, text_toons(3)))
    second = steps.service.submit_job(OWNER, body(unique_id + "-b", text_toons(7)))

    settle(steps)

    assert steps.jobs.get(first.key).processed == 3
    assert steps.jobs.get(second.key).processed == 7


def test_duplicate_messages_of_a_toon_in_one_batch_are_all_acknowledged(steps, unique_id):
    # A crash between the enqueue and the end of the fan-out: resuming enqueues again.
    key = JobKey(OWNER, unique_id)
    toons = [Toon(f"T-{i}", "TEXT", {"content": "twice"}, i) for i in range(3)]
    left_pending(steps, key, toons)
    steps.queue.enqueue([WorkItem(key, 1, toon) for toon in toons])
    steps.resume_pending()

    assert steps.work()

    assert steps.queue.depth() == {"queued": 0, "dead": 0, "parked": 0}


def test_duplicate_messages_of_a_failing_toon_are_all_retried_with_the_reason(
    fragile_steps, unique_id
):
    key = JobKey(OWNER, unique_id)
    toon = Toon("bad", "BROKEN", {}, 0)
    left_pending(fragile_steps, key, [toon])
    fragile_steps.queue.enqueue([WorkItem(key, 1, toon)])
    fragile_steps.resume_pending()

    assert fragile_steps.work()

    rows = fragile_steps.queue.db.connection().execute("SELECT last_error FROM queue")
    assert [reason for (reason,) in rows] == ["RuntimeError: plugin exploded"] * 2


def test_recover_hands_out_in_flight_toons_again_and_resumes_fan_outs(steps, unique_id):
    running = steps.service.submit_job(OWNER, body(unique_id, text_toons(2)))
    steps.queue.receive(10, 60.0)  # a worker took them, then the engine stopped
    stalled = JobKey(OWNER, unique_id + "-b")
    left_pending(steps, stalled, [Toon("T-0", "TEXT", {"content": "stalled"}, 0)])

    assert steps.recover() == {"released": 2, "resumed": 1}

    settle(steps, timeout_s=5.0)
    assert steps.jobs.get(running.key).status is JobStatus.COMPLETED
    assert steps.jobs.get(stalled).status is JobStatus.COMPLETED
