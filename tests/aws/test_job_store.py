"""The DynamoDB job store keeps the JobStore contract: create, read, conditional writes."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from toons import tally
from toons.errors import StoreConflict
from toons.model import JobStatus

LATER = "2025-01-01T00:00:05.000Z"


def test_create_stores_job_and_toons_and_answers_none(jobs, make_job, make_toons):
    job, toons = make_job(3), make_toons(3)

    assert jobs.create(job, toons) is None

    assert jobs.get(job.key) == job
    assert jobs.toons(job.key) == toons


def test_create_of_existing_key_returns_stored_job(jobs, stored_job, make_job, make_toons):
    job, _ = stored_job(3)

    again = make_job(3, key=job.key, created_at=LATER)

    assert jobs.create(again, make_toons(3)) == job
    assert jobs.get(job.key) == job


def test_conflicting_body_never_overwrites_the_stored_toons(jobs, stored_job, make_job, make_toons):
    job, toons = stored_job(3)
    other = make_job(5, key=job.key, request_digest="digest-b")

    assert jobs.create(other, make_toons(5, tag="other")) == job

    assert jobs.toons(job.key) == toons


def test_create_that_loses_the_race_returns_the_winner(jobs, make_job, make_toons, monkeypatch):
    winner, winner_toons = make_job(3), make_toons(3)
    jobs.create(winner, winner_toons)
    loser = make_job(4, key=winner.key, request_digest="digest-b")
    # The loser read before the winner wrote: its first read finds nothing.
    reads = iter([None])
    real_get = jobs.get
    monkeypatch.setattr(jobs, "get", lambda key: next(reads, None) or real_get(key))

    assert jobs.create(loser, make_toons(4, tag="loser")) == winner

    assert real_get(winner.key) == winner
    assert jobs.toons(winner.key) == winner_toons


def test_get_of_missing_job_is_none(jobs, new_key):
    assert jobs.get(new_key()) is None


def test_toons_of_missing_job_is_empty(jobs, new_key):
    assert jobs.toons(new_key()) == []


def test_toons_larger_than_one_chunk_are_split_and_read_back_in_order(
    jobs, session, names, make_job, make_toons
):
    job, toons = make_job(40), make_toons(40, size=20_000)  # about 800 KB of JSON

    jobs.create(job, list(reversed(toons)))

    parts = session.client("dynamodb").query(
        TableName=names.toons_table,
        KeyConditionExpression="jobKey = :k",
        ExpressionAttributeValues={":k": {"S": str(job.key)}},
        ProjectionExpression="part",
    )["Items"]
    assert len(parts) >= 3
    assert jobs.toons(job.key) == toons


def test_bitmaps_of_a_10000_toon_job_round_trip(jobs, stored_job):
    job, _ = stored_job(10_000)
    rng = random.Random(7)
    processed = tally.mask((i for i in range(10_000) if rng.random() < 0.6), 10_000)
    failed = tally.mask((i for i in range(10_000) if rng.random() < 0.2), 10_000) & ~processed
    updated = job.bump(processed_bits=processed, failed_bits=failed, updated_at=LATER)

    jobs.save(updated, expected_version=job.version)

    stored = jobs.get(job.key)
    assert stored == updated
    assert (stored.processed, stored.failed) == (processed.bit_count(), failed.bit_count())


def test_finish_fan_out_moves_pending_to_processing(jobs, stored_job):
    job, _ = stored_job()

    jobs.finish_fan_out(job.key, LATER)

    assert jobs.get(job.key) == job.bump(status=JobStatus.PROCESSING, updated_at=LATER)


@pytest.mark.parametrize("status", [JobStatus.PROCESSING, JobStatus.COMPLETED])
def test_finish_fan_out_changes_nothing_unless_pending(jobs, stored_job, status):
    job, _ = stored_job()
    moved = job.bump(status=status)
    jobs.save(moved, expected_version=job.version)

    jobs.finish_fan_out(job.key, LATER)

    assert jobs.get(job.key) == moved


def test_finish_fan_out_of_missing_job_creates_nothing(jobs, new_key):
    key = new_key()

    jobs.finish_fan_out(key, LATER)

    assert jobs.get(key) is None


def test_save_at_expected_version_replaces_job(jobs, stored_job):
    job, _ = stored_job()
    updated = job.bump(processed_bits=0b101, updated_at=LATER)

    jobs.save(updated, expected_version=job.version)

    assert jobs.get(job.key) == updated


def test_save_at_stale_version_raises_store_conflict(jobs, stored_job):
    job, _ = stored_job()
    jobs.save(job.bump(processed_bits=0b1), expected_version=job.version)

    with pytest.raises(StoreConflict):
        jobs.save(job.bump(processed_bits=0b10), expected_version=job.version)

    assert jobs.get(job.key).processed_bits == 0b1


def test_save_of_missing_job_raises_store_conflict(jobs, make_job):
    job = make_job()

    with pytest.raises(StoreConflict):
        jobs.save(job.bump(), expected_version=job.version)


def test_project_writes_the_summary_as_a_list_row(jobs, make_job):
    summary = make_job(3).summary()

    jobs.project(summary)

    assert jobs.list_jobs(summary.key.owner, 10, None).items == [summary]


def test_project_ignores_an_older_or_equal_version(jobs, make_job):
    job = make_job(3)
    newest = job.bump(status=JobStatus.PROCESSING).bump(processed_bits=0b1)
    jobs.project(newest.summary())

    jobs.project(job.summary())
    jobs.project(replace(newest.summary(), processed=0))

    assert jobs.list_jobs(job.key.owner, 10, None).items == [newest.summary()]


def _project_jobs(jobs, make_job, new_key, owner, count):
    summaries = []
    for i in range(count):
        # Two jobs share each creation time, so ties are broken by jobId.
        created = f"2025-01-01T00:00:{i // 2:02d}.000Z"
        summary = make_job(1, key=new_key(owner), created_at=created).summary()
        jobs.project(summary)
        summaries.append(summary)
    return sorted(summaries, key=lambda s: (s.created_at, s.key.job_id), reverse=True)


def test_list_jobs_is_newest_first(jobs, make_job, new_key):
    expected = _project_jobs(jobs, make_job, new_key, "newest-first", 5)

    page = jobs.list_jobs("newest-first", 10, None)

    assert page.items == expected
    assert page.next_position is None


@pytest.mark.parametrize("limit", [1, 3, 7, 8])
def test_list_jobs_pages_have_no_gaps_repeats_or_empty_last_page(jobs, make_job, new_key, limit):
    owner = f"pager-{limit}"
    expected = _project_jobs(jobs, make_job, new_key, owner, 7)

    pages, after = [], None
    while True:
        page = jobs.list_jobs(owner, limit, after)
        pages.append(page.items)
        if page.next_position is None:
            break
        after = page.next_position

    assert [s for items in pages for s in items] == expected
    assert all(pages)
    assert len(pages) == -(-7 // limit)


def test_list_jobs_shows_only_the_owners_jobs(jobs, make_job, new_key):
    _project_jobs(jobs, make_job, new_key, "someone-else", 2)

    assert jobs.list_jobs("nobody-here", 10, None).items == []


def test_list_jobs_after_a_position_no_row_can_have_is_empty(jobs, make_job, new_key):
    _project_jobs(jobs, make_job, new_key, "forger", 2)

    page = jobs.list_jobs("forger", 10, {"createdAt": "z" * 2000, "jobId": "x"})

    assert page.items == []
    assert page.next_position is None


def test_open_jobs_come_from_the_sparse_index_of_jobs_not_yet_terminal(jobs, make_job):
    old_open = make_job(status=JobStatus.PROCESSING, updated_at="2026-01-01T00:00:00.000Z")
    old_done = make_job(status=JobStatus.COMPLETED, updated_at="2026-01-01T00:00:00.000Z")
    new_open = make_job(status=JobStatus.PENDING, updated_at="2026-06-01T00:00:00.000Z")
    for job in (old_open, old_done, new_open):
        jobs.create(job, [])

    assert jobs.open_jobs(updated_before="2026-03-01T00:00:00.000Z") == [old_open.key]


def test_a_job_leaves_the_open_index_when_it_ends(jobs, make_job):
    job = make_job(status=JobStatus.PROCESSING, updated_at="2026-01-01T00:00:00.000Z")
    jobs.create(job, [])

    jobs.save(job.bump(status=JobStatus.COMPLETED), job.version)

    assert jobs.open_jobs(updated_before="2100-01-01T00:00:00.000Z") == []
