"""The operators' recovery commands, on both backends: replay, redrive, reprocess."""

from __future__ import annotations

import time

import pytest

from toons.bench.sample import sample_job, sample_toons
from toons.errors import NotFound
from toons.model import JobKey, JobStatus


def lose_the_counts(ops, key: JobKey) -> None:
    """As if the job's completion events had never been counted."""
    job = ops.job(key)
    ops.service.ports.jobs.save(
        job.bump(processed_bits=0, status=JobStatus.PROCESSING), job.version
    )


def test_replay_heals_a_job_whose_completion_events_were_lost(backend, user, unique_id):
    client, ops, key = backend.client(user), backend.operations(), JobKey(user, unique_id)
    client.submit(sample_job(unique_id, 40))
    client.wait(unique_id)
    lose_the_counts(ops, key)

    _, keys = ops.replay(key)
    backend.settle(lambda: ops.job(key).status is JobStatus.COMPLETED)

    assert keys == {key}
    assert (ops.job(key).processed, ops.job(key).failed) == (40, 0)


def test_replaying_twice_changes_nothing(backend, user, unique_id):
    client, ops, key = backend.client(user), backend.operations(), JobKey(user, unique_id)
    client.submit(sample_job(unique_id, 20))
    client.wait(unique_id)
    before = ops.job(key)

    for _ in range(2):
        ops.replay(key)
        backend.settle(lambda: True)

    assert ops.job(key) == before


def test_replaying_someone_elses_job_is_not_found(backend, user, unique_id):
    backend.client(user).submit(sample_job(unique_id, 2))

    with pytest.raises(NotFound):
        backend.operations().replay(JobKey(f"{user}-other", unique_id))


def test_a_redriven_toon_that_now_succeeds_turns_processed(backend, user, unique_id):
    client, ops, key = backend.client(user), backend.operations(), JobKey(user, unique_id)
    fail_until = time.time() + 6
    toons = [
        *sample_toons(3),
        {"toonId": "LATE", "type": "UNTIL", "payload": {"failUntil": fail_until}},
    ]
    client.submit({"jobId": unique_id, "toons": toons})
    first = client.wait(unique_id, timeout_s=120)
    backend.settle(lambda: ops.settled(ops.job(key)))
    time.sleep(max(0.0, fail_until - time.time()))

    keys = ops.redrive()
    backend.settle(lambda: ops.job(key).status is JobStatus.COMPLETED)

    assert (first["status"], first["failedToons"]) == ("CompletedWithErrors", 1)
    assert key in keys
    assert (ops.job(key).processed, ops.job(key).failed) == (4, 0)
    late = [r for r in client.all_results(unique_id) if r["toonId"] == "LATE"]
    assert [r["status"] for r in late] == ["PROCESSED"]


def test_reprocess_runs_the_job_again_with_counts_restarted(backend, user, unique_id):
    client, ops, key = backend.client(user), backend.operations(), JobKey(user, unique_id)
    client.submit(sample_job(unique_id, 30))
    client.wait(unique_id)

    rerun = ops.reprocess(key)
    status = client.wait(
        unique_id, timeout_s=120, settled=lambda s: s["run"] == 2 and s["progress"]["completed"]
    )
    results = client.all_results(unique_id)

    assert rerun.run == 2
    assert (status["processedToons"], status["failedToons"], status["status"]) == (
        30,
        0,
        "Completed",
    )
    assert {r["run"] for r in results} == {2} and len(results) == 30


def test_reprocessing_someone_elses_job_is_not_found(backend, user, unique_id):
    backend.client(user).submit(sample_job(unique_id, 2))

    with pytest.raises(NotFound):
        backend.operations().reprocess(JobKey(f"{user}-other", unique_id))
