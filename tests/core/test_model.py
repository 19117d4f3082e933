"""The vocabulary's codecs and the one-result-per-toon rule the stores rely on."""

from __future__ import annotations

import json

import pytest

from tests.core.samples import work_item
from toons.model import (
    JobChange,
    JobKey,
    JobStatus,
    JobStatusChanged,
    JobSummary,
    Outcome,
    ToonEvent,
    ToonResult,
    WorkItem,
    event_from_dict,
)

KEY = JobKey("user-1", "JOB-1")


def result(run: int = 1, outcome: Outcome = Outcome.PROCESSED) -> ToonResult:
    return ToonResult(KEY, run, 0, "T", "TEXT", outcome, "2025-01-01T00:00:00.000Z")


def summary(status: JobStatus, version: int) -> JobSummary:
    return JobSummary(KEY, status, 3, 1, 0, 1, "c", "u", version)


def test_a_job_key_with_a_slash_in_the_owner_parses_back() -> None:
    key = JobKey("https://issuer.test/users/42", "JOB-1")

    assert JobKey.parse(str(key)) == key


def test_a_work_item_round_trips_through_its_message_body() -> None:
    item = work_item("IMAGE", {"url": "https://x.test"}, toon_id="T-7", index=7, run=2)

    assert WorkItem.from_dict(json.loads(json.dumps(item.to_dict()))) == item


@pytest.mark.parametrize(
    ("new", "stored", "wins"),
    [
        (result(2), result(1), True),
        (result(1), result(2), False),
        (result(1, Outcome.PROCESSED), result(1, Outcome.FAILED), True),
        (result(1, Outcome.FAILED), result(1, Outcome.PROCESSED), False),
        (result(1, Outcome.PROCESSED), result(1, Outcome.PROCESSED), False),
        (result(1, Outcome.FAILED), result(1, Outcome.FAILED), False),
        (result(2, Outcome.FAILED), result(1, Outcome.PROCESSED), True),
    ],
)
def test_supersedes_prefers_a_newer_run_then_processed_over_failed(
    new: ToonResult, stored: ToonResult, wins: bool
) -> None:
    assert new.supersedes(stored) is wins


def test_a_toon_event_id_is_the_same_for_a_redelivered_fact() -> None:
    event = ToonEvent(KEY, 1, 3, "T", Outcome.PROCESSED, "at-1")
    again = ToonEvent(KEY, 1, 3, "T", Outcome.PROCESSED, "at-2", duration_ms=9.0)

    assert event.event_id == again.event_id


def test_processed_and_failed_events_of_a_toon_have_different_ids() -> None:
    processed = ToonEvent(KEY, 1, 3, "T", Outcome.PROCESSED, "at")
    failed = ToonEvent(KEY, 1, 3, "T", Outcome.FAILED, "at")

    assert processed.event_id != failed.event_id


def test_a_status_change_round_trips_through_its_detail() -> None:
    change = JobChange(summary(JobStatus.PROCESSING, 2), summary(JobStatus.COMPLETED, 3))
    event = JobStatusChanged.from_change(change)

    assert event_from_dict(json.loads(json.dumps(event.to_dict()))) == event


def test_a_first_status_change_has_no_previous_status() -> None:
    event = JobStatusChanged.from_change(JobChange(None, summary(JobStatus.PENDING, 1)))

    assert event_from_dict(event.to_dict()).from_status is None


def test_a_toon_event_round_trips_through_event_from_dict() -> None:
    event = ToonEvent(KEY, 1, 3, "T", Outcome.FAILED, "at", reason="boom")

    assert event_from_dict(json.loads(json.dumps(event.to_dict()))) == event


def test_a_summary_round_trips_through_its_row() -> None:
    row = summary(JobStatus.COMPLETED_WITH_ERRORS, 4)

    assert JobSummary.from_dict(KEY.owner, row.to_dict(), 4) == row


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        (JobStatus.PENDING, False),
        (JobStatus.PROCESSING, False),
        (JobStatus.COMPLETED, True),
        (JobStatus.COMPLETED_WITH_ERRORS, True),
    ],
)
def test_only_the_completed_statuses_are_terminal(status: JobStatus, terminal: bool) -> None:
    assert status.is_terminal is terminal
