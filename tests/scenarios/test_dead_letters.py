"""A toon that keeps failing is dead-lettered and recorded FAILED with its reason.

It still counts toward the end of its job.
"""

from __future__ import annotations

from toons.bench.sample import sample_toons


def test_a_poison_toon_fails_and_the_job_ends_with_errors(backend, unique_id):
    client = backend.client()
    toons = [*sample_toons(4), {"toonId": "POISONED", "type": "POISON", "payload": {}}]
    client.submit({"jobId": unique_id, "toons": toons})

    status = client.wait(unique_id, timeout_s=90)
    results = {r["toonId"]: r for r in client.all_results(unique_id)}

    assert (status["status"], status["processedToons"], status["failedToons"]) == (
        "CompletedWithErrors",
        4,
        1,
    )
    assert status["progress"] == {"percentage": 100.0, "completed": True}
    assert results["POISONED"]["status"] == "FAILED"
    assert "poison toon" in results["POISONED"]["error"]["reason"]
    assert results["POISONED"]["error"]["attempts"] == 5
    assert results["POISONED"]["fingerprint"] is None
