"""The seed's curl walkthrough (tests 1 to 3 and 5), on every backend."""

from __future__ import annotations

import json
import re

from tests.scenarios.conftest import DATA

SEED_REQUEST = json.loads((DATA / "test_request.json").read_text())


def seed_job(job_id: str) -> dict:
    return {**SEED_REQUEST, "jobId": job_id}


def test_submit_answers_202_with_the_seed_body(backend, unique_id):
    reply = backend.client().submit(seed_job(unique_id))

    assert reply.status == 202
    assert reply.body == {
        "message": "Job submitted successfully",
        "jobId": unique_id,
        "toonsCount": 3,
        "status": "Processing",
    }


def test_status_of_a_finished_job_shows_full_progress(backend, unique_id):
    client = backend.client()
    client.submit(seed_job(unique_id))

    status = client.wait(unique_id)

    assert status["status"] == "Completed"
    assert status["totalToons"] == status["processedToons"] == 3
    assert status["failedToons"] == 0
    assert status["userId"] == "user123"
    assert status["progress"] == {"percentage": 100.0, "completed": True}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", status["metadata"]["updatedAt"])
    assert status["metadata"]["createdAt"] <= status["metadata"]["updatedAt"]


def test_status_right_after_submit_is_a_valid_snapshot(backend, unique_id):
    client = backend.client()
    client.submit(seed_job(unique_id))

    status = client.status(unique_id)

    assert status.status == 200
    assert status.body["status"] in ("Pending", "Processing", "Completed")
    done = status.body["processedToons"] + status.body["failedToons"]
    assert status.body["progress"]["percentage"] == round(100 * done / 3, 2)


def test_results_carry_the_processed_toons(backend, unique_id):
    client = backend.client()
    client.submit(seed_job(unique_id))
    client.wait(unique_id)

    reply = client.results(unique_id)

    assert reply.status == 200
    assert reply.body["jobStatus"] == "Completed"
    assert reply.body["totalToons"] == reply.body["resultsCount"] == 3
    by_id = {r["toonId"]: r for r in reply.body["results"]}
    assert [
        by_id[t]["processedData"]["enrichment"] for t in ("TOON-001", "TOON-002", "TOON-003")
    ] == [
        {"processedBy": "ToonProcessor-v1.0", "complexity": "LOW", "category": "MEDIA"},
        {"processedBy": "ToonProcessor-v1.0", "complexity": "MEDIUM", "category": "MEDIA"},
        {"processedBy": "ToonProcessor-v1.0", "complexity": "LOW", "category": "CONTENT"},
    ]
    for result in reply.body["results"]:
        assert re.fullmatch(r"[0-9a-f]{64}", result["fingerprint"])
        assert result["isValid"] is True
        assert result["durationMs"] >= 0


def test_fingerprints_do_not_depend_on_the_job_or_the_submission(backend, unique_id):
    client = backend.client()
    for job_id in (f"{unique_id}-A", f"{unique_id}-B"):
        client.submit(seed_job(job_id))
        client.wait(job_id)

    first, second = (client.all_results(f"{unique_id}-{s}") for s in "AB")

    assert [r["fingerprint"] for r in first] == [r["fingerprint"] for r in second]


def test_invalid_toons_are_processed_and_reported_not_failed(backend, unique_id):
    client = backend.client()
    body = {
        "jobId": unique_id,
        "toons": [
            {"toonId": "T1", "type": "IMAGE", "payload": {}},
            {"toonId": "T2", "type": "VIDEO", "payload": {}},
        ],
    }
    client.submit(body)

    status = client.wait(unique_id)
    results = client.all_results(unique_id)

    assert status["status"] == "Completed"
    assert [r["isValid"] for r in results] == [False, False]
    assert "'url' is required" in results[0]["validationErrors"]


def test_the_thousand_toon_sample_job_completes_with_one_result_per_toon(backend, unique_id):
    client = backend.client()
    job = json.loads((DATA / "sample_jobs.json").read_text())
    job["jobId"] = unique_id

    assert client.submit(job).status == 202
    status = client.wait(unique_id, timeout_s=120)
    results = client.all_results(unique_id, page_size=300)

    assert (status["status"], status["processedToons"], status["failedToons"]) == (
        "Completed",
        1000,
        0,
    )
    assert sorted(r["toonId"] for r in results) == sorted(t["toonId"] for t in job["toons"])
