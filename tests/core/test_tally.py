"""Exact counting: bitmaps of outcomes per toon index, whatever is duplicated or replayed."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from tests.core.samples import QUICK
from toons import tally
from toons.model import Completion, Job, JobKey, JobStatus, Outcome

KEY = JobKey("user-1", "JOB-1")
NOW = "2025-11-27T20:00:10.000Z"
P, F = Outcome.PROCESSED, Outcome.FAILED


def job(total: int = 3, status: JobStatus = JobStatus.PROCESSING, run: int = 1) -> Job:
    return Job(KEY, status, total, "t0", "t0", "digest", run=run)


def done(index: int, outcome: Outcome = P, run: int = 1, key: JobKey = KEY) -> Completion:
    return Completion(key, run, index, outcome)


def counted(start: Job, *batches: list[Completion]) -> Job:
    current = start
    for batch in batches:
        current = tally.apply(current, batch, NOW) or current
    return current


def test_a_new_completion_is_counted_and_bumps_the_version() -> None:
    updated = tally.apply(job(), [done(0)], NOW)

    assert (updated.processed, updated.failed) == (1, 0)
    assert updated.version == 2
    assert updated.updated_at == NOW


def test_duplicates_in_one_batch_count_once() -> None:
    updated = tally.apply(job(), [done(1), done(1), done(1)], NOW)

    assert updated.processed == 1


def test_a_replayed_completion_adds_nothing() -> None:
    once = tally.apply(job(), [done(0)], NOW)

    assert tally.apply(once, [done(0)], NOW) is None


def test_an_empty_batch_adds_nothing() -> None:
    assert tally.apply(job(), [], NOW) is None


def test_processed_wins_over_failed_in_the_same_batch() -> None:
    updated = tally.apply(job(), [done(0, F), done(0, P)], NOW)

    assert (updated.processed, updated.failed) == (1, 0)


def test_a_failed_toon_later_processed_moves_from_failed_to_processed() -> None:
    failed = tally.apply(job(), [done(0, F)], NOW)
    recovered = tally.apply(failed, [done(0, P)], NOW)

    assert (failed.processed, failed.failed) == (0, 1)
    assert (recovered.processed, recovered.failed) == (1, 0)


def test_failed_after_processed_is_ignored() -> None:
    processed = tally.apply(job(), [done(0, P)], NOW)

    assert tally.apply(processed, [done(0, F)], NOW) is None


def test_completions_of_another_run_are_ignored() -> None:
    assert tally.apply(job(run=2), [done(0, run=1), done(1, run=3)], NOW) is None


def test_completions_of_another_job_are_ignored() -> None:
    others = [done(0, key=JobKey("user-2", "JOB-1")), done(0, key=JobKey("user-1", "JOB-2"))]

    assert tally.apply(job(), others, NOW) is None


def test_indexes_outside_the_job_are_ignored() -> None:
    assert tally.apply(job(total=3), [done(-1), done(3), done(99)], NOW) is None


def test_a_mixed_batch_counts_only_its_own_new_toons() -> None:
    batch = [done(0), done(0), done(1, F), done(5), done(2, run=2), done(2, key=JobKey("x", "y"))]

    updated = tally.apply(job(total=3), batch, NOW)

    assert (updated.processed, updated.failed) == (1, 1)


def test_job_is_completed_when_every_toon_is_processed() -> None:
    assert counted(job(), [done(0), done(1)], [done(2)]).status is JobStatus.COMPLETED


def test_job_is_completed_with_errors_when_any_toon_failed() -> None:
    finished = counted(job(), [done(0), done(1, F), done(2)])

    assert finished.status is JobStatus.COMPLETED_WITH_ERRORS


def test_job_with_errors_becomes_completed_when_the_failed_toon_is_processed() -> None:
    finished = counted(job(), [done(0), done(1, F), done(2)], [done(1)])

    assert finished.status is JobStatus.COMPLETED


def test_job_stays_processing_until_the_last_toon() -> None:
    assert counted(job(), [done(0), done(1, F)]).status is JobStatus.PROCESSING


def test_pending_job_stays_pending_until_the_end() -> None:
    assert counted(job(status=JobStatus.PENDING), [done(0), done(1)]).status is JobStatus.PENDING


def test_pending_job_reaches_a_terminal_status_at_the_end() -> None:
    finished = counted(job(status=JobStatus.PENDING), [done(0), done(1), done(2, F)])

    assert finished.status is JobStatus.COMPLETED_WITH_ERRORS


def test_mask_sets_the_bits_of_indexes_inside_the_job() -> None:
    assert tally.mask([0, 2, 2, 9, -1], total=3) == 0b101


def test_bitmap_round_trips_through_bytes() -> None:
    bits = tally.mask(range(0, 1000, 3), total=1000)

    raw = tally.to_bytes(bits, 1000)

    assert len(raw) == 125
    assert tally.from_bytes(raw) == bits


def test_bitmap_bytes_are_little_endian_one_bit_per_toon() -> None:
    assert tally.to_bytes(tally.mask([0, 9], total=10), 10) == bytes([0b1, 0b10])


def test_a_missing_bitmap_reads_as_empty() -> None:
    assert tally.from_bytes(None) == 0
    assert tally.from_bytes(b"") == 0


@QUICK
@given(
    total=st.integers(1, 40),
    events=st.lists(
        st.tuples(
            st.integers(-2, 42),
            st.sampled_from([P, F]),
            st.sampled_from([1, 1, 1, 2]),
            st.sampled_from([KEY, KEY, JobKey("user-2", "JOB-1")]),
        ),
        max_size=120,
    ),
    cuts=st.lists(st.integers(0, 120), max_size=8),
)
def test_counts_equal_set_semantics_for_any_batches_of_completions(
    total: int, events: list, cuts: list[int]
) -> None:
    completions = [done(index, outcome, run, key) for index, outcome, run, key in events]
    bounds = sorted({0, len(completions), *(c for c in cuts if c <= len(completions))})
    batches = [completions[a:b] for a, b in itertools.pairwise(bounds)]

    final, writes = job(total), 0
    for batch in batches:
        updated = tally.apply(final, batch, NOW)
        if updated is not None:
            assert updated.processed + updated.failed >= final.processed + final.failed
            final, writes = updated, writes + 1

    mine = [c for c in completions if c.key == KEY and c.run == 1 and 0 <= c.index < total]
    processed = {c.index for c in mine if c.outcome is P}
    failed = {c.index for c in mine if c.outcome is F} - processed
    assert final.processed_bits == tally.mask(processed, total)
    assert final.failed_bits == tally.mask(failed, total)
    assert final.processed + final.failed <= total
    assert final.version == 1 + writes <= 1 + len(batches)
    assert final.status.is_terminal is (len(processed) + len(failed) == total)
