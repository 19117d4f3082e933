"""What every fault test asserts once the dust settles, and jobs built for the stream tests.

`assert_promises_held` is the suite's one verdict on a job: it ended in a terminal
status, `processedToons + failedToons == totalToons`, there is exactly one result per
toon, and the job's status changes were each published once along a valid path.
"""

from __future__ import annotations

import contextlib
import http.client
import json
from typing import Any

from toons.config import Limits
from toons.model import (
    Job,
    JobKey,
    JobStatus,
    Outcome,
    ToonEvent,
    ToonResult,
    WorkItem,
    timestamp,
)
from toons.processing import process_toon
from toons.service import ToonService
from toons.submission import parse_submission

TERMINAL = ("Completed", "CompletedWithErrors")
# (fromStatus, toStatus) of every status change a run may go through.
ALLOWED_CHANGES = {
    (None, "Pending"),
    ("Pending", "Processing"),
    ("Processing", "Completed"),
    ("Processing", "CompletedWithErrors"),
    # A fan-out cut short by a crash may still be Pending when its last toon completes.
    ("Pending", "Completed"),
    ("Pending", "CompletedWithErrors"),
}


def assert_promises_held(
    backend: Any,
    owner: str,
    job_id: str,
    total: int,
    failed: int | None = 0,
    redelivered_changes: bool = False,
    timeout_s: float = 120,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Wait for the job to end, then check counts, results and status events.

    `failed` is the number of toons expected to fail (None: any). Returns the final
    status and the results.
    """
    client = backend.client(owner)
    status = client.wait(job_id, timeout_s=timeout_s)
    results = client.all_results(job_id)

    assert status["status"] in TERMINAL, status
    assert status["totalToons"] == total
    assert status["processedToons"] + status["failedToons"] == total, status
    if failed is not None:
        assert status["failedToons"] == failed, status
        assert status["status"] == ("CompletedWithErrors" if failed else "Completed")
    assert len(results) == total
    assert len({r["toonId"] for r in results}) == total
    outcomes = [r["status"] for r in results]
    assert outcomes.count("FAILED") == status["failedToons"]
    assert outcomes.count("PROCESSED") == status["processedToons"]

    backend.settle(lambda: _ended(backend.status_events(owner, job_id)))
    events = backend.status_events(owner, job_id)
    assert_one_event_per_change(events, redelivered_changes)
    last = max(events, key=lambda e: e["version"])
    assert (last["processedToons"], last["failedToons"]) == (
        status["processedToons"],
        status["failedToons"],
    )
    return status, results


def _ended(events: list[dict[str, Any]]) -> bool:
    return any(e["toStatus"] in TERMINAL for e in events)


def assert_one_event_per_change(
    events: list[dict[str, Any]], redelivered: bool = False
) -> list[dict[str, Any]]:
    """One JobStatusChanged per status change, along Pending -> Processing -> terminal.

    With `redelivered`, a change record delivered twice may announce its change twice,
    under the same deterministic id and with the same content (consumers dedupe by id);
    otherwise no event id may appear twice. Returns the distinct events in version order.
    """
    by_id: dict[str, dict[str, Any]] = {}
    for event in events:
        seen = by_id.get(event["eventId"])
        if seen is not None:
            assert redelivered, f"status change published twice: {event}"
            assert seen == event, "one event id, two different events"
        by_id[event["eventId"]] = event
    distinct = sorted(by_id.values(), key=lambda e: (e["run"], e["version"]))

    changes = [(e["run"], e["fromStatus"], e["toStatus"]) for e in distinct]
    assert len(changes) == len(set(changes)), f"a status change announced twice: {changes}"
    previous = None
    for event in distinct:
        assert (event["fromStatus"], event["toStatus"]) in ALLOWED_CHANGES, changes
        assert event["fromStatus"] == previous, f"a gap in the path: {changes}"
        previous = event["toStatus"]
    assert previous in TERMINAL, changes
    assert sum(e["toStatus"] in TERMINAL for e in distinct) == 1, changes
    return distinct


# -- jobs whose toons no worker will see ---------------------------------------------------


def held_job(service: ToonService, owner: str, job_id: str, toons: list[dict]) -> list[ToonResult]:
    """Store a job as a submit would, Processing, but queue none of its toons.

    Its results are stored too (processed here), so the test can play the aggregator
    with completion events in any order. Returns the results, in toon order.
    """
    body = json.dumps({"jobId": job_id, "toons": toons}).encode()
    request = parse_submission(body, Limits(), service.registry)
    key = JobKey(owner, job_id)
    now = timestamp()
    job = Job(key, JobStatus.PENDING, len(request.toons), now, now, request.digest)
    assert service.ports.jobs.create(job, request.toons) is None
    service.ports.jobs.finish_fan_out(key, timestamp())
    results = [
        process_toon(WorkItem(key, 1, toon), service.registry, service.processor_version)
        for toon in request.toons
    ]
    service.ports.results.put(results)
    return results


def event(result: ToonResult, outcome: Outcome = Outcome.PROCESSED) -> ToonEvent:
    """A completion event for a toon, with the given outcome."""
    return ToonEvent(
        key=result.key,
        run=result.run,
        index=result.index,
        toon_id=result.toon_id,
        outcome=outcome,
        at=timestamp(),
        reason=None if outcome is Outcome.PROCESSED else "injected failure",
    )


def stored_job(service: ToonService, owner: str, job_id: str) -> Job:
    """The job as its store holds it now."""
    job = service.ports.jobs.get(JobKey(owner, job_id))
    assert job is not None
    return job


def submit_through_a_crash(backend: Any, owner: str, body: dict) -> None:
    """Submit; if the engine dies under the request, submit again once it is back.

    Call `resubmit_after_recovery` after `recover()`: a resubmit of the same body is what
    a client does after a cut connection, and answers 202 whether or not the first one
    was stored (then with `Idempotent-Replay`).
    """
    with contextlib.suppress(OSError, http.client.HTTPException):
        backend.client(owner).submit(body)


def resubmit_after_recovery(backend: Any, owner: str, body: dict) -> None:
    """The client's retry of a submit it never saw answered (or saw answered: same reply)."""
    assert backend.client(owner).submit(body).status == 202
