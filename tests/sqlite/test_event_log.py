"""SqliteEventLog: idempotent publishing, ordered reads, completions from columns, cursors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from toons.model import Completion, JobKey, JobStatus, JobStatusChanged, Outcome, ToonEvent

AT = "2025-01-01T00:00:00.000Z"


@pytest.fixture
def key(new_key) -> JobKey:
    return new_key()


def toon_event(key: JobKey, index: int, outcome: Outcome = Outcome.PROCESSED) -> ToonEvent:
    failed = outcome is Outcome.FAILED
    return ToonEvent(
        key=key,
        run=1,
        index=index,
        toon_id=f"T-{index:05d}",
        outcome=outcome,
        at=AT,
        fingerprint=None if failed else f"{index:064x}",
        duration_ms=0.25,
        is_valid=not failed,
        processor_version="1.0",
        reason="RuntimeError: boom" if failed else None,
    )


def status_changed(key: JobKey, to: JobStatus, before: JobStatus | None = None):
    return JobStatusChanged(key, 1, before, to, 0, 0, 3, 1, AT)


def test_publishing_the_same_event_twice_stores_one_row(events, key):
    event = toon_event(key, 0)

    events.publish([event])
    events.publish([event])

    assert [e for _, e in events.read(0, 10)] == [event]


def test_a_duplicate_within_one_batch_is_stored_once(events, key):
    event = toon_event(key, 0)

    events.publish([event, event, toon_event(key, 1)])

    assert [e.index for _, e in events.read(0, 10)] == [0, 1]


def test_a_redelivered_fact_with_another_timestamp_keeps_the_first_row(events, key):
    first = toon_event(key, 0)
    redelivered = replace(first, at="2025-01-02T00:00:00.000Z", duration_ms=9.0)

    events.publish([first])
    events.publish([redelivered])

    assert [e for _, e in events.read(0, 10)] == [first]


def test_status_changes_are_idempotent_by_event_id(events, key):
    events.publish([status_changed(key, JobStatus.PENDING)])
    events.publish([status_changed(key, JobStatus.PENDING)])

    assert len(events.read(0, 10)) == 1


def test_publish_of_nothing_writes_nothing(events):
    events.publish([])

    assert events.read(0, 10) == []


def test_read_returns_events_in_publish_order_with_rising_positions(events, key):
    published = [
        status_changed(key, JobStatus.PENDING),
        toon_event(key, 2),
        toon_event(key, 0, Outcome.FAILED),
        status_changed(key, JobStatus.PROCESSING, JobStatus.PENDING),
    ]
    for event in published:
        events.publish([event])

    read = events.read(0, 10)

    assert [e for _, e in read] == published
    assert [seq for seq, _ in read] == sorted({seq for seq, _ in read})


def test_read_starts_after_the_given_position_and_stops_at_the_limit(events, key):
    events.publish([toon_event(key, index) for index in range(6)])
    positions = [seq for seq, _ in events.read(0, 10)]

    read = events.read(positions[1], 3)

    assert [seq for seq, _ in read] == positions[2:5]


def test_read_filters_by_type(events, key):
    events.publish(
        [
            status_changed(key, JobStatus.PENDING),
            toon_event(key, 0),
            toon_event(key, 1, Outcome.FAILED),
            toon_event(key, 2),
        ]
    )

    failed = events.read(0, 10, types=["ToonFailed"])
    changes = events.read(0, 10, types=[JobStatusChanged.TYPE])
    toons = events.read(0, 10, types=list(ToonEvent.TYPES))

    assert [e.index for _, e in failed] == [1]
    assert [e.to_status for _, e in changes] == [JobStatus.PENDING]
    assert [e.index for _, e in toons] == [0, 1, 2]


def test_completions_come_from_toon_events_only(events, key):
    events.publish(
        [
            status_changed(key, JobStatus.PENDING),
            toon_event(key, 0),
            status_changed(key, JobStatus.PROCESSING, JobStatus.PENDING),
            toon_event(key, 1, Outcome.FAILED),
        ]
    )

    completions = events.completions(0, 10)

    assert [c for _, c in completions] == [
        Completion(key, 1, 0, Outcome.PROCESSED),
        Completion(key, 1, 1, Outcome.FAILED),
    ]


def test_completions_carry_the_positions_of_their_events(events, key):
    events.publish([status_changed(key, JobStatus.PENDING), toon_event(key, 0)])
    toon_positions = [seq for seq, _ in events.read(0, 10, types=list(ToonEvent.TYPES))]

    assert [seq for seq, _ in events.completions(0, 10)] == toon_positions


def test_completions_start_after_the_given_position_and_stop_at_the_limit(events, key):
    events.publish([toon_event(key, index) for index in range(5)])
    positions = [seq for seq, _ in events.completions(0, 10)]

    later = events.completions(positions[0], 2)

    assert [c.index for _, c in later] == [1, 2]


def test_completions_match_the_events_read_back(events, key):
    published = [toon_event(key, 0), toon_event(key, 1, Outcome.FAILED)]
    events.publish(published)

    assert [c for _, c in events.completions(0, 10)] == [e.completion() for e in published]


def test_a_consumer_without_a_saved_position_starts_at_zero(events):
    assert events.position("aggregator") == 0


def test_advance_saves_a_consumers_position(events):
    events.advance("aggregator", 5)
    events.advance("aggregator", 9)

    assert events.position("aggregator") == 9


def test_positions_of_different_consumers_are_independent(events):
    events.advance("aggregator", 5)
    events.advance("replay", 2)

    assert (events.position("aggregator"), events.position("replay")) == (5, 2)
