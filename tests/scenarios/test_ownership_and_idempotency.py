"""Jobs are owned, and resubmitting is safe."""

from __future__ import annotations

from toons.bench.sample import sample_job


def test_someone_elses_job_is_not_found_for_status_and_results(backend, unique_id):
    backend.client("alice").submit(sample_job(unique_id, 3))
    bob = backend.client("bob")

    assert bob.status(unique_id).body == {"error": "Job no encontrado", "code": "JOB_NOT_FOUND"}
    assert bob.results(unique_id).status == 404


def test_two_users_may_use_the_same_job_id_independently(backend, unique_id):
    alice, bob = backend.client("alice"), backend.client("bob")
    alice.submit(sample_job(unique_id, 3))
    bob.submit(sample_job(unique_id, 5))

    assert alice.wait(unique_id)["totalToons"] == 3
    assert bob.wait(unique_id)["totalToons"] == 5


def test_resubmitting_the_same_body_answers_the_same_and_counts_once(backend, unique_id):
    client = backend.client()
    job = sample_job(unique_id, 20)
    first = client.submit(job)
    client.wait(unique_id)

    again = client.submit(job)
    status = client.wait(unique_id)

    assert again.status == 202 and again.body == first.body
    assert again.headers.get("idempotent-replay") == "true"
    assert (status["processedToons"], status["totalToons"]) == (20, 20)
    assert len(client.all_results(unique_id)) == 20


def test_a_different_body_under_the_same_job_id_conflicts(backend, unique_id):
    client = backend.client()
    client.submit(sample_job(unique_id, 2))

    reply = client.submit(sample_job(unique_id, 3))

    assert reply.status == 409
    assert reply.body["code"] == "JOB_CONFLICT"


def test_fields_a_client_must_not_set_are_ignored(backend, unique_id):
    client = backend.client()
    body = {
        **sample_job(unique_id, 2),
        "status": "Completed",
        "processedToons": 99,
        "userId": "mallory",
        "createdAt": "1999-01-01T00:00:00.000Z",
    }

    client.submit(body)
    status = client.wait(unique_id)

    assert status["userId"] == "user123"
    assert status["processedToons"] == 2
    assert status["metadata"]["createdAt"] > "2000"
