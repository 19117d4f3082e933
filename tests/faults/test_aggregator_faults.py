"""The aggregator counts every toon exactly once, whatever happens to its input.

It dies mid-batch (some jobs of the batch written, others not), its batch is delivered
twice, completions arrive out of order or in bursts of duplicates. The stream tests
deliver completion events straight to the aggregator (the Lambda handler with Kinesis
records on the cloud flow, `record_completions` on the engine's file locally) for a job
whose toons no worker sees, so the test alone decides what the aggregator receives.
"""

from __future__ import annotations

import json
import random

from tests.faults.checks import (
    assert_promises_held,
    event,
    held_job,
    resubmit_after_recovery,
    stored_job,
    submit_through_a_crash,
)
from toons.bench.sample import sample_job, sample_toons
from toons.config import EngineSettings
from toons.local.loops import Steps
from toons.model import Outcome

JOBS, TOONS = 3, 20
# The job record's version after its create (1) and the fan-out (2).
FANNED_OUT = 2


def _three_jobs_completed_but_not_counted_locally(backend, owner: str, job_ids: list[str]):
    """Submit and work the jobs on the engine's file, then start the engine.

    The first aggregator batch the engine reads at start holds the completions of all
    three jobs.
    """
    service = backend.service()
    for job_id in job_ids:
        service.submit_job(owner, json.dumps(sample_job(job_id, TOONS)).encode())
    steps = Steps.open(EngineSettings(data_dir=backend.data_dir))
    while steps.work():
        pass
    backend.start({"aggregator.after_save": {"after": 1, "times": 1}})


def _three_jobs_completed_but_not_counted_on_aws(backend, owner: str, job_ids: list[str]):
    """Submit the jobs before the flow runs.

    The aggregator's batching window then gathers the completions of all three jobs into
    one batch.
    """
    backend.start({"aggregator.after_save": {"after": 1, "times": 1}})
    client = backend.client(owner)
    for job_id in job_ids:
        assert client.submit(sample_job(job_id, TOONS)).status == 202


def test_an_aggregator_crash_mid_batch_leaves_the_other_jobs_to_the_redelivery(
    backend, owner, unique_id
):
    job_ids = [f"{unique_id}-{n}" for n in range(JOBS)]
    {
        "local": _three_jobs_completed_but_not_counted_locally,
        "aws": _three_jobs_completed_but_not_counted_on_aws,
    }[backend.name](backend, owner, job_ids)

    backend.until_fired("aggregator.after_save")
    counted = sorted(stored_job(backend.service(), owner, j).processed for j in job_ids)
    backend.recover()

    assert counted == [0, TOONS, TOONS], "two jobs written before the crash, one not"
    for job_id in job_ids:
        assert_promises_held(backend, owner, job_id, TOONS)


def test_an_aggregator_crash_before_its_write_counts_the_batch_on_redelivery(
    backend, owner, unique_id
):
    backend.start({"aggregator.before_save": {"after": 0, "times": 1}})
    submit_through_a_crash(backend, owner, sample_job(unique_id, 40))
    backend.until_fired("aggregator.before_save")

    backend.recover()
    resubmit_after_recovery(backend, owner, sample_job(unique_id, 40))

    assert_promises_held(backend, owner, unique_id, 40)


def test_the_same_completion_batch_delivered_twice_counts_once(backend, owner, unique_id):
    backend.start()
    results = held_job(backend.service(), owner, unique_id, sample_toons(TOONS))
    first, second = [event(r) for r in results[:10]], [event(r) for r in results[10:]]

    versions = []
    for batch in (first, first, second, second):
        backend.deliver_events(batch)
        job = stored_job(backend.service(), owner, unique_id)
        versions.append((job.processed, job.version))

    assert versions == [
        (10, FANNED_OUT + 1),
        (10, FANNED_OUT + 1),
        (20, FANNED_OUT + 2),
        (20, FANNED_OUT + 2),
    ]
    assert_promises_held(backend, owner, unique_id, TOONS)


def test_processed_and_failed_for_one_toon_in_either_order_count_it_processed(
    backend, owner, unique_id
):
    backend.start()
    results = held_job(backend.service(), owner, unique_id, sample_toons(TOONS))
    failed_first, processed_first, rest = results[:5], results[5:10], results[10:]
    batches = [
        [event(r, Outcome.FAILED) for r in failed_first]
        + [event(r, Outcome.PROCESSED) for r in processed_first],
        [event(r, Outcome.PROCESSED) for r in failed_first]
        + [event(r, Outcome.FAILED) for r in processed_first],
        # Both orders within one batch, too.
        [e for r in rest[:5] for e in (event(r, Outcome.FAILED), event(r, Outcome.PROCESSED))]
        + [e for r in rest[5:] for e in (event(r, Outcome.PROCESSED), event(r, Outcome.FAILED))],
    ]

    tallies = []
    for batch in batches:
        backend.deliver_events(batch)
        job = stored_job(backend.service(), owner, unique_id)
        tallies.append((job.processed, job.failed))

    assert tallies == [(5, 5), (10, 0), (20, 0)]
    assert_promises_held(backend, owner, unique_id, TOONS)


def test_completions_of_different_toons_shuffled_count_exactly(backend, owner, unique_id):
    backend.start()
    results = held_job(backend.service(), owner, unique_id, sample_toons(60))
    events = [event(r) for r in results]
    random.Random(7).shuffle(events)
    sizes = [7, 23, 1, 29]

    tallies, start = [], 0
    for size in sizes:
        backend.deliver_events(events[start : start + size])
        start += size
        job = stored_job(backend.service(), owner, unique_id)
        tallies.append((job.processed, job.version))

    assert tallies == [(7, 3), (30, 4), (31, 5), (60, 6)], "one job write per batch"
    assert_promises_held(backend, owner, unique_id, 60)


def test_a_burst_of_duplicate_completions_counts_each_toon_once(backend, owner, unique_id):
    backend.start()
    results = held_job(backend.service(), owner, unique_id, sample_toons(TOONS))
    burst = [event(r) for r in results for _ in range(10)]
    random.Random(11).shuffle(burst)

    seen: set[int] = set()
    for start in range(0, len(burst), 50):
        batch = burst[start : start + 50]
        before = stored_job(backend.service(), owner, unique_id)
        backend.deliver_events(batch)
        after = stored_job(backend.service(), owner, unique_id)
        new = {e.index for e in batch} - seen
        seen |= new

        assert after.processed == len(seen) <= TOONS
        assert after.version == before.version + (1 if new else 0), "at most one write a batch"
    assert_promises_held(backend, owner, unique_id, TOONS)
