"""SqliteJobStore: jobs and their toons, conditional saves, the change feed, the job list."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from toons.errors import StoreConflict
from toons.model import JobKey, JobStatus, Toon

LATER = "2025-01-01T00:00:01.000Z"


def test_create_stores_the_job_and_its_toons_and_returns_none(jobs, make_job, make_toons):
    job, toons = make_job(4), make_toons(4)

    assert jobs.create(job, toons) is None

    assert jobs.get(job.key) == job
    assert jobs.toons(job.key) == toons


def test_create_of_an_existing_key_returns_the_stored_job_and_writes_nothing(
    jobs, make_job, make_toons
):
    job, toons = make_job(3), make_toons(3)
    jobs.create(job, toons)
    again = make_job(5, key=job.key, request_digest="other digest")

    assert jobs.create(again, make_toons(5)) == job

    assert jobs.get(job.key) == job
    assert jobs.toons(job.key) == toons
    assert len(jobs.changes(100)) == 1


def test_get_of_a_missing_job_is_none(jobs, new_key):
    assert jobs.get(new_key()) is None


def test_get_of_another_owners_job_id_is_none(jobs, stored_job):
    job, _ = stored_job()

    assert jobs.get(JobKey("mallory", job.key.job_id)) is None


def test_toons_come_back_in_index_order_whatever_the_insert_order(jobs, make_job, make_toons):
    job, toons = make_job(12), make_toons(12)

    jobs.create(job, list(reversed(toons)))

    assert [t.index for t in jobs.toons(job.key)] == list(range(12))
    assert jobs.toons(job.key) == toons


def test_toons_keep_their_type_and_payload(jobs, make_job):
    job = make_job(2)
    toons = [
        Toon("img", "IMAGE", {"url": "https://x.test/a.png", "width": 10, "tags": ["a"]}, 0),
        Toon("txt", "TEXT", {"content": "ñandú \u00e9", "nested": {"n": None}}, 1),
    ]

    jobs.create(job, toons)

    assert jobs.toons(job.key) == toons


def test_finish_fan_out_moves_a_pending_job_to_processing(jobs, stored_job):
    job, _ = stored_job()

    jobs.finish_fan_out(job.key, LATER)

    stored = jobs.get(job.key)
    assert stored.status is JobStatus.PROCESSING
    assert stored.updated_at == LATER
    assert stored.version == job.version + 1


@pytest.mark.parametrize(
    "status", [JobStatus.PROCESSING, JobStatus.COMPLETED, JobStatus.COMPLETED_WITH_ERRORS]
)
def test_finish_fan_out_changes_nothing_outside_pending(jobs, stored_job, status):
    job, _ = stored_job(status=status)

    jobs.finish_fan_out(job.key, LATER)

    assert jobs.get(job.key) == job
    assert len(jobs.changes(100)) == 1


def test_finish_fan_out_of_a_missing_job_writes_nothing(jobs, new_key):
    jobs.finish_fan_out(new_key(), LATER)

    assert jobs.changes(100) == []


def test_save_with_the_stored_version_replaces_the_job(jobs, stored_job):
    job, _ = stored_job(4)
    updated = job.bump(status=JobStatus.PROCESSING, processed_bits=0b0101, updated_at=LATER)

    jobs.save(updated, expected_version=job.version)

    assert jobs.get(job.key) == updated


def test_save_with_a_stale_version_raises_and_changes_nothing(jobs, stored_job):
    job, _ = stored_job(4)
    first = job.bump(processed_bits=0b0001)
    jobs.save(first, expected_version=job.version)
    feed = jobs.changes(100)

    with pytest.raises(StoreConflict):
        jobs.save(job.bump(processed_bits=0b0010), expected_version=job.version)

    assert jobs.get(job.key) == first
    assert jobs.changes(100) == feed


def test_save_of_a_missing_job_raises_store_conflict(jobs, make_job):
    with pytest.raises(StoreConflict):
        jobs.save(make_job(), expected_version=1)


def test_bitmaps_of_a_ten_thousand_toon_job_round_trip(jobs, stored_job):
    total = 10_000
    job, _ = stored_job(total)
    rng = random.Random(7)
    processed = (rng.getrandbits(total) | 1 << (total - 1)) & ~1
    failed = ((1 << total) - 1) & ~processed
    updated = job.bump(processed_bits=processed, failed_bits=failed)

    jobs.save(updated, expected_version=job.version)

    stored = jobs.get(job.key)
    assert stored.processed_bits == processed
    assert stored.failed_bits == failed
    assert stored.processed + stored.failed == total


def test_full_bitmaps_of_a_ten_thousand_toon_job_round_trip(jobs, stored_job):
    total = 10_000
    job, _ = stored_job(total)
    everything = (1 << total) - 1

    jobs.save(job.bump(processed_bits=everything), expected_version=job.version)

    assert jobs.get(job.key).processed == total


def test_create_appends_a_change_with_no_old_image(jobs, stored_job):
    job, _ = stored_job()

    [(_, change)] = jobs.changes(100)

    assert change.old is None
    assert change.new == job.summary()


def test_every_write_appends_one_change_with_old_and_new_images(jobs, stored_job):
    job, _ = stored_job(4)
    jobs.finish_fan_out(job.key, LATER)
    processing = jobs.get(job.key)
    counted = processing.bump(processed_bits=0b1111, status=JobStatus.COMPLETED)
    jobs.save(counted, expected_version=processing.version)

    feed = jobs.changes(100)

    assert [(c.old, c.new) for _, c in feed] == [
        (None, job.summary()),
        (job.summary(), processing.summary()),
        (processing.summary(), counted.summary()),
    ]
    assert [seq for seq, _ in feed] == sorted(seq for seq, _ in feed)


def test_changes_returns_the_oldest_records_up_to_the_limit(jobs, stored_job):
    created = [stored_job()[0] for _ in range(5)]

    feed = jobs.changes(3)

    assert [c.new.key for _, c in feed] == [job.key for job in created[:3]]


def test_consume_changes_drops_records_up_to_the_given_sequence(jobs, stored_job):
    for _ in range(4):
        stored_job()
    feed = jobs.changes(100)

    jobs.consume_changes(feed[1][0])

    assert jobs.changes(100) == feed[2:]


def test_pending_lists_only_pending_jobs(jobs, stored_job):
    pending = [stored_job()[0].key for _ in range(3)]
    stored_job(status=JobStatus.PROCESSING)
    stored_job(status=JobStatus.COMPLETED)
    fanned_out, _ = stored_job()
    jobs.finish_fan_out(fanned_out.key, LATER)

    assert sorted(jobs.pending()) == sorted(pending)


def test_project_makes_the_job_visible_in_its_owners_list(jobs, make_job):
    job = make_job()

    jobs.project(job.summary())

    assert jobs.list_jobs(job.key.owner, 10, None).items == [job.summary()]


def test_project_replaces_an_older_version(jobs, make_job):
    job = make_job(4)
    newer = job.bump(status=JobStatus.PROCESSING, processed_bits=0b11)
    jobs.project(job.summary())

    jobs.project(newer.summary())

    assert jobs.list_jobs(job.key.owner, 10, None).items == [newer.summary()]


def test_project_ignores_a_stale_version_after_a_newer_one(jobs, make_job):
    job = make_job(4)
    newer = job.bump(status=JobStatus.PROCESSING).bump(status=JobStatus.COMPLETED)
    jobs.project(newer.summary())

    jobs.project(job.summary())
    jobs.project(job.bump(status=JobStatus.PROCESSING).summary())

    assert jobs.list_jobs(job.key.owner, 10, None).items == [newer.summary()]


def test_list_jobs_shows_only_the_owners_jobs(jobs, make_job, new_key):
    alice = [make_job(key=new_key("alice")) for _ in range(3)]
    bob = [make_job(key=new_key("bob")) for _ in range(2)]
    for job in alice + bob:
        jobs.project(job.summary())

    listed = jobs.list_jobs("bob", 10, None).items

    assert sorted(s.key for s in listed) == sorted(job.key for job in bob)


def test_list_jobs_of_an_owner_without_jobs_is_empty(jobs, make_job):
    jobs.project(make_job().summary())

    page = jobs.list_jobs("nobody", 10, None)

    assert (page.items, page.next_position) == ([], None)


def test_list_jobs_is_newest_first(jobs, make_job):
    stamps = ["2025-03-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z", "2025-02-01T00:00:00.000Z"]
    created = [make_job(created_at=stamp) for stamp in stamps]
    for job in created:
        jobs.project(job.summary())

    listed = jobs.list_jobs("alice", 10, None).items

    assert [s.created_at for s in listed] == sorted(stamps, reverse=True)


def test_list_jobs_pages_of_seven_over_250_jobs_have_no_gaps_or_repeats(jobs, make_job, new_key):
    # Three jobs share each creation time, so the job id has to break ties between pages.
    created = [
        make_job(created_at=f"2025-01-01T00:{i // 3 // 60:02d}:{i // 3 % 60:02d}.000Z")
        for i in range(250)
    ]
    for job in created + [make_job(key=new_key("bob")) for _ in range(20)]:
        jobs.project(job.summary())

    pages, position = [], None
    while True:
        page = jobs.list_jobs("alice", 7, position)
        pages.append(page.items)
        if page.next_position is None:
            break
        position = page.next_position

    listed = [s.key for items in pages for s in items]
    newest_first = sorted(created, key=lambda j: (j.created_at, j.key.job_id), reverse=True)
    assert listed == [job.key for job in newest_first]
    assert [len(items) for items in pages] == [7] * 35 + [5]


def test_list_jobs_ends_without_an_empty_page_when_the_count_fills_the_last_page(jobs, make_job):
    for job in [make_job() for _ in range(14)]:
        jobs.project(job.summary())

    first = jobs.list_jobs("alice", 7, None)
    second = jobs.list_jobs("alice", 7, first.next_position)

    assert len(first.items) == len(second.items) == 7
    assert second.next_position is None


def test_list_jobs_rows_carry_the_projected_counts(jobs, make_job):
    job = make_job(5, status=JobStatus.COMPLETED_WITH_ERRORS, processed_bits=0b111)
    job = replace(job, failed_bits=0b11000, run=2, version=9)

    jobs.project(job.summary())

    [listed] = jobs.list_jobs("alice", 1, None).items
    assert listed == job.summary()
    assert (listed.processed, listed.failed, listed.version) == (3, 2, 9)


def test_open_jobs_lists_only_jobs_not_yet_terminal_and_older_than_the_cutoff(jobs, make_job):
    old_open = make_job(status=JobStatus.PROCESSING, updated_at="2026-01-01T00:00:00.000Z")
    old_done = make_job(status=JobStatus.COMPLETED, updated_at="2026-01-01T00:00:00.000Z")
    new_open = make_job(status=JobStatus.PENDING, updated_at="2026-06-01T00:00:00.000Z")
    for job in (old_open, old_done, new_open):
        jobs.create(job, [])

    assert jobs.open_jobs(updated_before="2026-03-01T00:00:00.000Z") == [old_open.key]
