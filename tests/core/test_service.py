"""The use cases over in-memory ports: submit, work, dead-letter, count, project, read."""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.samples import Clock, body, builtin_registry, settle, toon
from toons import paging
from toons.config import Limits
from toons.errors import Conflict, InvalidInput, LimitExceeded, NotFound, StoreConflict
from toons.model import (
    Completion,
    JobChange,
    JobKey,
    JobStatus,
    JobStatusChanged,
    Outcome,
    ToonEvent,
)
from toons.ports import Ports
from toons.processing import process_toon
from toons.service import SAVE_ATTEMPTS, DeadLetter, ToonService


class ExplodingType:
    """A plugin type whose rules crash on every payload."""

    name = "EXPLODING"
    category = "TEST"

    def normalise(self, payload: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("plugin bug")

    def validate(self, payload: dict[str, Any]) -> list[str]:
        return []

    def complexity(self, payload: dict[str, Any]) -> str:
        return "LOW"


def completions(ports: Ports) -> list[Completion]:
    return [event.completion() for event in ports.events.toon_events()]


def submitted(service: ToonService, owner: str, job_id: str, toons: list | None = None) -> JobKey:
    return service.submit_job(owner, body(job_id, toons)).key


# -- submit ------------------------------------------------------------------------------


def test_submit_stores_the_job_and_enqueues_every_toon(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    receipt = service.submit_job("alice", body(unique_id))

    assert receipt.key == JobKey("alice", unique_id)
    assert (receipt.toons_count, receipt.replayed) == (3, False)
    assert [(i.key, i.run, i.toon.index, i.toon.toon_id) for i in ports.queue.items] == [
        (receipt.key, 1, 0, "TOON-001"),
        (receipt.key, 1, 1, "TOON-002"),
        (receipt.key, 1, 2, "TOON-003"),
    ]
    assert [t.toon_id for t in ports.jobs.toons(receipt.key)] == [
        "TOON-001",
        "TOON-002",
        "TOON-003",
    ]


def test_a_submitted_job_is_processing_with_nothing_counted(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    job = ports.jobs.get(submitted(service, "alice", unique_id))

    assert job.status is JobStatus.PROCESSING
    assert (job.total, job.processed, job.failed, job.run) == (3, 0, 0, 1)


def test_resubmitting_the_same_body_enqueues_nothing_and_is_a_replay(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    service.submit_job("alice", body(unique_id))
    ports.queue.take()

    receipt = service.submit_job("alice", body(unique_id))

    assert (receipt.replayed, receipt.toons_count) == (True, 3)
    assert ports.queue.items == []


def test_resubmitting_with_other_whitespace_is_still_a_replay(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    service.submit_job("alice", body(unique_id))

    receipt = service.submit_job("alice", body(unique_id).replace(b", ", b" ,\n  "))

    assert receipt.replayed


def test_resubmitting_a_different_body_is_a_job_conflict(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    service.submit_job("alice", body(unique_id))

    with pytest.raises(Conflict) as caught:
        service.submit_job("alice", body(unique_id, [toon("other")]))

    assert (caught.value.code, caught.value.field) == ("JOB_CONFLICT", "jobId")
    assert len(ports.queue.items) == 3


def test_the_same_job_id_for_another_user_is_another_job(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    service.submit_job("alice", body(unique_id))

    receipt = service.submit_job("bob", body(unique_id, [toon("b")]))

    assert (receipt.key, receipt.replayed) == (JobKey("bob", unique_id), False)


def test_a_job_left_pending_by_a_crashed_enqueue_is_fanned_out_by_a_resubmit(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    ports.queue.crashes_left = 1
    with pytest.raises(ConnectionError):
        service.submit_job("alice", body(unique_id))
    key = JobKey("alice", unique_id)
    assert ports.jobs.get(key).status is JobStatus.PENDING

    receipt = service.submit_job("alice", body(unique_id))

    assert receipt.replayed
    assert [item.toon.index for item in ports.queue.items] == [0, 1, 2]
    assert ports.jobs.get(key).status is JobStatus.PROCESSING


def test_resume_fan_out_finishes_a_job_left_pending(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    ports.queue.crashes_left = 1
    with pytest.raises(ConnectionError):
        service.submit_job("alice", body(unique_id))
    key = JobKey("alice", unique_id)

    assert service.resume_fan_out(key) is True
    assert [item.toon.toon_id for item in ports.queue.items] == ["TOON-001", "TOON-002", "TOON-003"]
    assert ports.jobs.get(key).status is JobStatus.PROCESSING


def test_resume_fan_out_does_nothing_for_a_job_already_fanned_out(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    key = submitted(service, "alice", unique_id)
    sends = ports.queue.sends

    assert service.resume_fan_out(key) is False
    assert ports.queue.sends == sends


def test_resume_fan_out_does_nothing_for_an_unknown_job(service: ToonService) -> None:
    assert service.resume_fan_out(JobKey("alice", "NOPE")) is False


@pytest.mark.parametrize(
    "raw",
    [
        b'{"jobId": "J"}',
        b"not json",
        b'{"jobId": "J", "toons": [{"toonId": "a", "type": "AUDIO"}]}',
        body("J", [toon("a"), toon("a")]),
    ],
)
def test_a_rejected_job_stores_and_enqueues_nothing(
    service: ToonService, ports: Ports, raw: bytes
) -> None:
    with pytest.raises(InvalidInput):
        service.submit_job("alice", raw)

    assert ports.jobs.jobs == {}
    assert ports.queue.sends == 0


def test_a_job_over_a_limit_stores_and_enqueues_nothing(service: ToonService, ports: Ports) -> None:
    with pytest.raises(LimitExceeded):
        service.submit_job("alice", body("J", [toon("a", "TEXT", {"content": "x" * 5000})]))

    assert ports.jobs.jobs == {}
    assert ports.queue.sends == 0


# -- work --------------------------------------------------------------------------------


def test_process_batch_stores_results_and_announces_them(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    key = submitted(service, "alice", unique_id)

    report = service.process_batch(ports.queue.take())

    assert len(report.done) == 3
    assert report.failed == []
    results = ports.results.list(key, 10, None).items
    assert [(r.toon_id, r.outcome, r.is_valid) for r in results] == [
        ("TOON-001", Outcome.PROCESSED, True),
        ("TOON-002", Outcome.PROCESSED, True),
        ("TOON-003", Outcome.PROCESSED, True),
    ]
    events = ports.events.toon_events()
    assert [(e.type, e.index, e.fingerprint) for e in events] == [
        ("ToonProcessed", r.index, r.fingerprint) for r in results
    ]
    assert {e.processor_version for e in events} == {"1.0"}


def test_process_batch_with_a_raising_plugin_reports_only_that_item_failed(
    ports: Ports, unique_id: str
) -> None:
    registry = builtin_registry()
    registry.register(ExplodingType())
    service = ToonService(ports, registry=registry, clock=Clock())
    toons = [toon("ok-1"), toon("boom", "EXPLODING", {}), toon("ok-2")]
    key = service.submit_job("alice", body(unique_id, toons)).key

    report = service.process_batch(ports.queue.take())

    assert [item.toon.toon_id for item in report.done] == ["ok-1", "ok-2"]
    assert [(item.toon.toon_id, reason) for item, reason in report.failed] == [
        ("boom", "RuntimeError: plugin bug")
    ]
    assert [r.toon_id for r in ports.results.list(key, 10, None).items] == ["ok-1", "ok-2"]
    assert [e.toon_id for e in ports.events.toon_events()] == ["ok-1", "ok-2"]


def test_processing_a_toon_twice_keeps_the_first_result(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    key = submitted(service, "alice", unique_id, [toon("a")])
    items = ports.queue.take()
    service.process_batch(items)
    first = ports.results.list(key, 10, None).items

    service.process_batch(items)

    assert ports.results.list(key, 10, None).items == first


def test_record_failures_stores_failed_results_and_publishes_toon_failed(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    key = submitted(service, "alice", unique_id)
    item = ports.queue.take()[1]

    service.record_failures([DeadLetter(item, "TimeoutError: worker timed out", attempts=5)])

    (result,) = ports.results.list(key, 10, None).items
    assert (result.toon_id, result.outcome, result.error, result.attempts) == (
        "TOON-002",
        Outcome.FAILED,
        "TimeoutError: worker timed out",
        5,
    )
    assert result.to_dict()["error"] == {"reason": "TimeoutError: worker timed out", "attempts": 5}
    (event,) = ports.events.toon_events()
    assert (event.type, event.index, event.reason) == (
        "ToonFailed",
        1,
        "TimeoutError: worker timed out",
    )


def test_a_processed_result_replaces_a_failed_one(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    key = submitted(service, "alice", unique_id, [toon("a")])
    (item,) = ports.queue.take()
    service.record_failures([DeadLetter(item, "crash", attempts=3)])

    service.process_batch([item])

    (result,) = ports.results.list(key, 10, None).items
    assert result.outcome is Outcome.PROCESSED


def test_a_failure_after_a_processed_result_keeps_the_processed_one(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    key = submitted(service, "alice", unique_id, [toon("a")])
    (item,) = ports.queue.take()
    service.process_batch([item])

    service.record_failures([DeadLetter(item, "late crash", attempts=5)])

    (result,) = ports.results.list(key, 10, None).items
    assert result.outcome is Outcome.PROCESSED


# -- count -------------------------------------------------------------------------------


def test_record_completions_counts_each_toon_once_despite_duplicates(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    key = submitted(service, "alice", unique_id)
    service.process_batch(ports.queue.take())
    events = completions(ports)

    changed = len(service.record_completions(events + events[::-1] + events[:1]))

    job = ports.jobs.get(key)
    assert changed == 1
    assert (job.processed, job.failed, job.status) == (3, 0, JobStatus.COMPLETED)


def test_record_completions_writes_each_job_once_per_batch(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    key = submitted(service, "alice", unique_id)
    service.process_batch(ports.queue.take())
    version = ports.jobs.get(key).version

    service.record_completions(completions(ports))

    assert ports.jobs.save_attempts == 1
    assert ports.jobs.get(key).version == version + 1


def test_replayed_completions_change_nothing(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    key = submitted(service, "alice", unique_id)
    service.process_batch(ports.queue.take())
    service.record_completions(completions(ports))
    before = ports.jobs.get(key)

    assert len(service.record_completions(completions(ports))) == 0
    assert ports.jobs.get(key) == before


def test_record_completions_counts_several_jobs_in_one_batch(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    first = submitted(service, "alice", unique_id)
    second = submitted(service, "bob", unique_id, [toon("x")])
    service.process_batch(ports.queue.take())

    assert len(service.record_completions(completions(ports))) == 2
    assert ports.jobs.get(first).processed == 3
    assert ports.jobs.get(second).status is JobStatus.COMPLETED


def test_completions_of_an_unknown_job_are_ignored(service: ToonService) -> None:
    ghost = Completion(JobKey("alice", "GHOST"), 1, 0, Outcome.PROCESSED)

    assert len(service.record_completions([ghost])) == 0


def test_record_completions_retries_after_losing_a_race(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    key = submitted(service, "alice", unique_id)
    service.process_batch(ports.queue.take())
    mine, theirs = completions(ports)[:2], completions(ports)[2:]

    def another_aggregator_writes_first() -> None:
        job = ports.jobs.get(key)
        ports.jobs.jobs[key] = job.bump(processed_bits=job.processed_bits | 1 << theirs[0].index)

    ports.jobs.racing_writes.append(another_aggregator_writes_first)

    assert len(service.record_completions(mine)) == 1
    assert ports.jobs.save_attempts == 2
    job = ports.jobs.get(key)
    assert (job.processed, job.status) == (3, JobStatus.COMPLETED)


def test_record_completions_gives_up_after_repeated_conflicts(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    key = submitted(service, "alice", unique_id)
    service.process_batch(ports.queue.take())

    def bump() -> None:
        ports.jobs.jobs[key] = ports.jobs.get(key).bump()

    ports.jobs.racing_writes.extend([bump] * SAVE_ATTEMPTS)

    with pytest.raises(StoreConflict):
        service.record_completions(completions(ports))
    assert ports.jobs.save_attempts == SAVE_ATTEMPTS


def test_a_dead_lettered_toon_ends_the_job_with_errors(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    key = submitted(service, "alice", unique_id)
    first, second, third = ports.queue.take()
    service.process_batch([first, third])
    service.record_failures([DeadLetter(second, "boom", attempts=5)])

    service.record_completions(completions(ports))

    job = ports.jobs.get(key)
    assert (job.processed, job.failed, job.status) == (2, 1, JobStatus.COMPLETED_WITH_ERRORS)


# -- project -----------------------------------------------------------------------------


def test_project_publishes_a_status_change_for_each_new_status(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    key = submitted(service, "alice", unique_id)
    service.process_batch(ports.queue.take())
    service.record_completions(completions(ports))

    service.project(ports.jobs.take_changes())

    changes = ports.events.status_events()
    assert [(e.from_status, e.to_status) for e in changes] == [
        (None, JobStatus.PENDING),
        (JobStatus.PENDING, JobStatus.PROCESSING),
        (JobStatus.PROCESSING, JobStatus.COMPLETED),
    ]
    assert all(isinstance(e, JobStatusChanged) and e.key == key for e in changes)


def test_project_publishes_nothing_when_only_counts_change(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    submitted(service, "alice", unique_id)
    first, *_ = ports.queue.take()
    service.project(ports.jobs.take_changes())
    service.process_batch([first])
    service.record_completions(completions(ports))
    before = len(ports.events.status_events())

    service.project(ports.jobs.take_changes())

    assert len(ports.events.status_events()) == before


def test_project_keeps_the_newest_version_when_changes_arrive_out_of_order(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    submitted(service, "alice", unique_id)
    service.process_batch(ports.queue.take())
    service.record_completions(completions(ports))
    changes = ports.jobs.take_changes()

    service.project(changes[::-1])

    (row,) = service.jobs("alice", None, None).items
    assert (row.status, row.processed, row.version) == (JobStatus.COMPLETED, 3, 3)


def test_project_skips_a_stale_replayed_change(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    submitted(service, "alice", unique_id)
    created, *_ = ports.jobs.take_changes()
    settle(service, ports)

    service.project([JobChange(None, created.new)])

    (row,) = service.jobs("alice", None, None).items
    assert row.status is JobStatus.COMPLETED


def test_status_change_events_have_one_id_per_job_run_and_status(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    submitted(service, "alice", unique_id)
    changes = ports.jobs.take_changes()
    service.project(changes)
    service.project(changes)

    ids = [event.event_id for event in ports.events.status_events()]

    assert len(ids) == 4
    assert len(set(ids)) == 2


def test_a_whole_job_settles_as_completed(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    key = submitted(service, "alice", unique_id)

    settle(service, ports)

    assert service.job("alice", unique_id).status_view()["progress"] == {
        "percentage": 100.0,
        "completed": True,
    }
    assert ports.jobs.get(key).status is JobStatus.COMPLETED


# -- reads -------------------------------------------------------------------------------


def test_a_user_reads_their_own_job(service: ToonService, unique_id: str) -> None:
    key = submitted(service, "alice", unique_id)

    assert service.job("alice", unique_id).key == key


def test_someone_elses_job_is_not_found(service: ToonService, unique_id: str) -> None:
    submitted(service, "alice", unique_id)

    with pytest.raises(NotFound) as caught:
        service.job("bob", unique_id)

    assert (caught.value.code, caught.value.message) == ("JOB_NOT_FOUND", "Job no encontrado")


def test_someone_elses_results_are_not_found(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    submitted(service, "alice", unique_id)
    settle(service, ports)

    with pytest.raises(NotFound) as caught:
        service.results("bob", unique_id, None, None)

    assert caught.value.message == "Job no encontrado"


def test_an_unknown_job_is_not_found(service: ToonService) -> None:
    with pytest.raises(NotFound):
        service.job("alice", "NOPE")


def test_reading_a_job_without_an_id_is_a_missing_field(service: ToonService) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.results("alice", None, None, None)

    assert (caught.value.code, caught.value.message) == ("MISSING_FIELD", "Campo 'jobId' requerido")


def test_results_are_paged_in_toon_order(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    submitted(service, "alice", unique_id, [toon(f"t{i}") for i in range(5)])
    settle(service, ports)

    _, first = service.results("alice", unique_id, "2", None)
    _, second = service.results("alice", unique_id, "2", paging.encode(first.next_position))
    _, last = service.results("alice", unique_id, "2", paging.encode(second.next_position))

    pages = [[r.toon_id for r in page.items] for page in (first, second, last)]
    assert pages == [["t0", "t1"], ["t2", "t3"], ["t4"]]
    assert last.next_position is None


def test_jobs_are_listed_newest_first_for_their_owner_only(
    service: ToonService, ports: Ports
) -> None:
    for job_id in ("JOB-A", "JOB-B", "JOB-C"):
        service.submit_job("alice", body(job_id, [toon("a")]))
    service.submit_job("bob", body("JOB-D", [toon("a")]))
    service.project(ports.jobs.take_changes())

    page = service.jobs("alice", None, None)

    assert [row.key.job_id for row in page.items] == ["JOB-C", "JOB-B", "JOB-A"]
    assert page.next_position is None


def test_limits_apply_to_the_reads(service: ToonService, unique_id: str) -> None:
    submitted(service, "alice", unique_id)

    with pytest.raises(InvalidInput) as caught:
        service.results("alice", unique_id, "0", None)

    assert caught.value.code == "INVALID_LIMIT"


def test_a_bad_token_is_refused_by_the_reads(service: ToonService) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.jobs("alice", None, "garbage!")

    assert caught.value.code == "INVALID_NEXT_TOKEN"


def test_toon_events_round_trip_through_their_detail(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    submitted(service, "alice", unique_id)
    service.process_batch(ports.queue.take())

    events = ports.events.toon_events()

    assert [ToonEvent.from_dict(event.to_dict()) for event in events] == events


def test_process_toon_and_the_service_agree_on_the_fingerprint(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    key = submitted(service, "alice", unique_id)
    items = ports.queue.take()
    service.process_batch(items)

    stored = [r.fingerprint for r in ports.results.list(key, 10, None).items]

    assert stored == [process_toon(item, builtin_registry()).fingerprint for item in items]


def test_limits_of_the_service_are_its_own(ports: Ports) -> None:
    small = ToonService(ports, limits=Limits(max_toons=1), registry=builtin_registry())

    with pytest.raises(InvalidInput) as caught:
        small.submit_job("alice", body("J", [toon("a"), toon("b")]))

    assert caught.value.code == "TOO_MANY_TOONS"


def test_sweep_resumes_a_fan_out_a_crash_left_pending(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    ports.queue.crashes_left = 1
    with pytest.raises(ConnectionError):
        service.submit_job("alice", body(unique_id))

    report = service.sweep(
        resume_before="2100-01-01T00:00:00.000Z", stuck_before="2000-01-01T00:00:00.000Z"
    )

    assert report.resumed == [JobKey("alice", unique_id)]
    assert ports.jobs.get(JobKey("alice", unique_id)).status is JobStatus.PROCESSING
    assert len(ports.queue.items) == 3


def test_sweep_reports_a_processing_job_with_no_recent_progress_as_stuck(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    key = submitted(service, "alice", unique_id)

    report = service.sweep(
        resume_before="2100-01-01T00:00:00.000Z", stuck_before="2100-01-01T00:00:00.000Z"
    )

    assert report.stuck == [key]
    assert report.resumed == []


def test_sweep_leaves_recent_and_finished_jobs_alone(
    service: ToonService, ports: Ports, unique_id: str
) -> None:
    recent = submitted(service, "alice", f"{unique_id}-recent")
    done = submitted(service, "alice", f"{unique_id}-done")
    settle(service, ports)

    report = service.sweep(
        resume_before=ports.jobs.get(recent).updated_at, stuck_before="2000-01-01T00:00:00.000Z"
    )

    assert (report.resumed, report.stuck) == ([], [])
    assert ports.jobs.get(done).status is JobStatus.COMPLETED
