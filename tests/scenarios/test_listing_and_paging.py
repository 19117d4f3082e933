"""Listing the caller's jobs and paging through results."""

from __future__ import annotations

from toons.bench.sample import sample_job


def test_results_pages_follow_next_token_without_gaps_or_repeats(backend, unique_id):
    client = backend.client()
    client.submit(sample_job(unique_id, 25))
    client.wait(unique_id)

    seen, token, pages = [], None, 0
    while True:
        reply = client.results(unique_id, limit=10, **({"nextToken": token} if token else {}))
        seen += [r["toonId"] for r in reply.body["results"]]
        token, pages = reply.body["nextToken"], pages + 1
        if not token:
            break

    assert pages == 3
    assert seen == [f"TOON-{n:05d}" for n in range(1, 26)]


def test_results_default_page_is_one_hundred(backend, unique_id):
    client = backend.client()
    client.submit(sample_job(unique_id, 150))
    client.wait(unique_id)

    reply = client.results(unique_id)

    assert reply.body["resultsCount"] == 100
    assert reply.body["nextToken"]


def test_job_list_shows_only_the_callers_jobs_newest_first(backend, user, unique_id):
    client = backend.client(user)
    for n in range(3):
        client.submit(sample_job(f"{unique_id}-{n}", 2))
        client.wait(f"{unique_id}-{n}")
    backend.client(f"{user}-other").submit(sample_job(f"{unique_id}-x", 1))

    listed = _wait_for_list(backend, client, 3)

    assert [job["jobId"] for job in listed] == [f"{unique_id}-{n}" for n in (2, 1, 0)]
    assert {job["status"] for job in listed} == {"Completed"}


def test_job_list_pages_with_next_token(backend, user, unique_id):
    client = backend.client(user)
    for n in range(5):
        client.submit(sample_job(f"{unique_id}-{n}", 1))
    _wait_for_list(backend, client, 5)

    first = client.jobs(limit=2).body
    second = client.jobs(limit=2, nextToken=first["nextToken"]).body
    third = client.jobs(limit=2, nextToken=second["nextToken"]).body

    ids = [j["jobId"] for page in (first, second, third) for j in page["jobs"]]
    assert ids == [f"{unique_id}-{n}" for n in (4, 3, 2, 1, 0)]
    assert third["nextToken"] is None


def _wait_for_list(backend, client, count: int) -> list[dict]:
    """The list is a projection: wait until it shows `count` settled jobs."""

    def settled() -> bool:
        jobs = client.jobs().body["jobs"]
        return len(jobs) == count and all(j["status"] == "Completed" for j in jobs)

    backend.settle(settled)
    return client.jobs().body["jobs"]
