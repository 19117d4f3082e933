"""A worker that dies at any step of a batch loses no toon and counts none twice.

Each test arms one fault point of `ToonService.process_batch`, lets it fire once on
the first batch of a job, recovers, and checks the job's promises. On `toons local` the
worker process crashes (exit 137); on the cloud flow the worker invocation raises.
"""

from __future__ import annotations

from tests.faults.checks import assert_promises_held
from toons.bench.sample import sample_job

TOONS = 40
ONCE = {"after": 0, "times": 1}


def test_a_worker_crash_before_the_result_write_loses_no_toon(backend, owner, unique_id):
    backend.start({"worker.before_results": ONCE})
    assert backend.client(owner).submit(sample_job(unique_id, TOONS)).status == 202
    backend.until_fired("worker.before_results")

    backend.recover()

    assert_promises_held(backend, owner, unique_id, TOONS)


def test_a_worker_crash_after_the_result_write_keeps_the_first_results(backend, owner, unique_id):
    backend.start({"worker.after_results": ONCE})
    client = backend.client(owner)
    assert client.submit(sample_job(unique_id, TOONS)).status == 202
    backend.until_fired("worker.after_results")
    stored_before = {r["toonId"]: r["processedAt"] for r in client.all_results(unique_id)}
    counted_before = client.status(unique_id).body["processedToons"]

    backend.recover()
    _, results = assert_promises_held(backend, owner, unique_id, TOONS)

    assert stored_before, "the crash should come after some results were stored"
    assert counted_before == 0, "results stored but not yet announced count nothing"
    kept = {r["toonId"]: r["processedAt"] for r in results}
    assert {toon: kept[toon] for toon in stored_before} == stored_before


def test_a_worker_crash_after_publishing_and_before_the_ack_counts_nothing_twice(
    backend, owner, unique_id
):
    backend.start({"worker.after_publish": ONCE})
    assert backend.client(owner).submit(sample_job(unique_id, TOONS)).status == 202
    backend.until_fired("worker.after_publish")
    unacknowledged = backend.queued(owner, unique_id)

    backend.recover()
    backend.settle(lambda: backend.queued(owner, unique_id) == 0)

    assert unacknowledged > 0, "the crashed batch should still be in the queue"
    assert_promises_held(backend, owner, unique_id, TOONS)


def test_a_worker_that_dies_on_every_delivery_ends_its_toons_failed(backend, owner, unique_id):
    backend.start({"worker.before_results": {"after": 0, "times": 10**6}}, visibility_s=1)
    assert backend.client(owner).submit(sample_job(unique_id, 20)).status == 202

    _, results = assert_promises_held(backend, owner, unique_id, 20, failed=20)

    assert {r["status"] for r in results} == {"FAILED"}
    assert all(r["error"]["reason"] and r["error"]["attempts"] == 5 for r in results)
    assert all(r["fingerprint"] is None for r in results)
