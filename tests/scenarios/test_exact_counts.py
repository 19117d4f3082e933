"""Exact counts at scale, and one status event per status change."""

from __future__ import annotations

from toons.bench.sample import sample_job


def test_a_two_thousand_toon_job_counts_every_toon_exactly_once(backend, unique_id):
    client = backend.client()

    assert client.submit(sample_job(unique_id, 2000)).status == 202
    status = client.wait(unique_id, timeout_s=300)
    results = client.all_results(unique_id)

    assert (status["status"], status["processedToons"], status["failedToons"]) == (
        "Completed",
        2000,
        0,
    )
    assert len(results) == len({r["toonId"] for r in results}) == 2000


def test_each_status_change_is_published_once(backend, unique_id):
    client = backend.client()
    client.submit(sample_job(unique_id, 30))
    client.wait(unique_id)

    backend.settle(lambda: len(backend.status_events("user123", unique_id)) >= 3)
    events = backend.status_events("user123", unique_id)

    assert [(e["fromStatus"], e["toStatus"]) for e in events] == [
        (None, "Pending"),
        ("Pending", "Processing"),
        ("Processing", "Completed"),
    ]
    assert len({e["eventId"] for e in events}) == 3
    assert events[-1]["processedToons"] == 30
