"""Fields a client must not set are ignored on submit and never stored.

The body sets the job's status, counters, owner, run and timestamps, and each toon's
index, status and result fields. The stored job is built from `jobId` and `toons` alone:
the API shows the real values, the real owner alone sees the job, toons keep their
position as index, and no injected text is found anywhere in the backend's stores
(every string injected carries a sentinel that is searched for in every table).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
import zlib
from typing import Any

from toons.bench.sample import sample_toons
from toons.model import JobKey

TOONS = 3


def _injected_body(job_id: str, sentinel: str) -> dict[str, Any]:
    toons = [
        {
            **toon,
            "index": TOONS - 1 - n,
            "status": f"FAILED-{sentinel}",
            "fingerprint": f"fp-{sentinel}",
            "processedAt": f"1999-{sentinel}",
            "error": {"reason": f"reason-{sentinel}", "attempts": 99},
            "userId": f"mallory-{sentinel}",
            "run": 42,
        }
        for n, toon in enumerate(sample_toons(TOONS))
    ]
    return {
        "jobId": job_id,
        "toons": toons,
        "status": f"Completed-{sentinel}",
        "processedToons": 999,
        "failedToons": 7,
        "totalToons": 1,
        "userId": f"mallory-{sentinel}",
        "run": 42,
        "version": 1000,
        "createdAt": f"2000-01-01T00:00:00.000Z-{sentinel}",
        "updatedAt": f"2000-01-02T00:00:00.000Z-{sentinel}",
        "metadata": {"createdAt": f"meta-{sentinel}"},
        "progress": {"percentage": 100.0, "completed": True},
    }


def _stored_text(backend) -> str:
    """Everything the backend's stores hold, as one searchable text."""
    if backend.name == "local":
        with sqlite3.connect(backend.process.data_dir / "toons.db") as db:
            tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            return "\n".join(
                repr(row) for table in tables for row in db.execute(f'SELECT * FROM "{table}"')
            )
    flow = backend.flow
    dynamodb = flow.client("dynamodb")
    names = flow.names
    texts = []
    for table in (names.jobs_table, names.toons_table, names.results_table, names.job_list_table):
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            texts += [_item_text(item) for item in page["Items"]]
    return "\n".join(texts)


def _item_text(item: dict[str, Any]) -> str:
    parts = []
    for value in item.values():
        raw = value.get("B")
        if raw is None:
            parts.append(json.dumps(value))
            continue
        try:
            parts.append(zlib.decompress(raw).decode(errors="replace"))
        except zlib.error:
            parts.append(raw.decode(errors="replace"))
    return " ".join(parts)


def test_fields_a_client_must_not_set_are_ignored_and_never_stored(backend, user, unique_id):
    sentinel = uuid.uuid4().hex
    body = _injected_body(unique_id, sentinel)
    client = backend.client(user)

    reply = client.submit(body)
    status = client.wait(unique_id)
    results = client.all_results(unique_id)

    assert reply.status == 202
    assert reply.body["toonsCount"] == TOONS
    assert (status["status"], status["processedToons"], status["failedToons"]) == (
        "Completed",
        TOONS,
        0,
    )
    assert (status["totalToons"], status["userId"], status["run"]) == (TOONS, user, 1)
    assert "2000-01" not in status["metadata"]["createdAt"]
    assert "2000-01" not in status["metadata"]["updatedAt"]
    assert [r["toonId"] for r in results] == [t["toonId"] for t in body["toons"]]
    assert {(r["status"], r["run"]) for r in results} == {("PROCESSED", 1)}
    assert all(not r["processedAt"].startswith("1999") for r in results)
    assert sentinel not in json.dumps(results)
    stored = _stored_text(backend)
    assert unique_id in stored and body["toons"][0]["payload"]["url"] in stored, "search works"
    assert sentinel not in stored


def test_injected_toon_indexes_do_not_reorder_the_stored_toons(backend, user, unique_id):
    body = _injected_body(unique_id, uuid.uuid4().hex)

    assert backend.client(user).submit(body).status == 202
    stored = backend.operations().service.ports.jobs.toons(JobKey(user, unique_id))

    assert [(t.index, t.toon_id) for t in stored] == [
        (n, toon["toonId"]) for n, toon in enumerate(body["toons"])
    ]
    assert [t.payload for t in stored] == [toon["payload"] for toon in body["toons"]]


def test_the_user_named_in_the_body_does_not_own_the_job(backend, user, unique_id):
    body = _injected_body(unique_id, uuid.uuid4().hex)
    backend.client(user).submit(body)

    reply = backend.client(body["userId"]).status(unique_id)

    assert reply.status == 404
    assert reply.body["code"] == "JOB_NOT_FOUND"
