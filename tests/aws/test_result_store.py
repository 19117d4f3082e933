"""The DynamoDB result store keeps one result per (job, toon), by `ToonResult.supersedes`."""

from __future__ import annotations

import itertools
import zlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toons.model import JobKey, Outcome, WorkItem

_property_keys = itertools.count(1)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    first=st.tuples(st.integers(1, 3), st.sampled_from(Outcome)),
    second=st.tuples(st.integers(1, 3), st.sampled_from(Outcome)),
)
def test_stored_result_is_the_one_supersedes_picks(results, make_result, first, second):
    key = JobKey("prop", f"JOB-PROP-{next(_property_keys):05d}")
    a = make_result(key, 0, first[1], run=first[0], processed_at="2025-01-01T00:00:01.000Z")
    b = make_result(key, 0, second[1], run=second[0], processed_at="2025-01-01T00:00:02.000Z")

    results.put([a])
    results.put([b])

    expected = b if b.supersedes(a) else a
    assert results.list(key, 10, None).items == [expected]


def test_results_round_trip_with_processed_data_and_failure_reason(results, make_result, new_key):
    key = new_key()
    processed = make_result(key, 0)
    failed = make_result(key, 1, Outcome.FAILED)

    results.put([processed, failed])

    stored = results.list(key, 10, None).items
    assert stored == [processed, failed]
    assert stored[1].error == "RuntimeError: boom" and stored[1].attempts == 5


def test_results_keep_the_canonical_processed_text_compressed(
    results, make_result, new_key, session
):
    key = new_key()
    result = make_result(key, 0, processed_json='{"n":0,"toonId":"T-00000"}')

    results.put([result])

    item = session.client("dynamodb").get_item(
        TableName=results.names.results_table,
        Key={"jobKey": {"S": str(key)}, "index": {"N": "0"}},
    )["Item"]
    text = zlib.decompress(item["result"]["B"]).decode()
    assert text.endswith('\n{"n":0,"toonId":"T-00000"}')


def test_results_page_in_toon_order_without_gaps_or_empty_last_page(results, make_result, new_key):
    key = new_key()
    stored = [make_result(key, i) for i in range(25)]
    results.put(list(reversed(stored)))

    pages, after = [], None
    while True:
        page = results.list(key, 10, after)
        pages.append([r.index for r in page.items])
        if page.next_position is None:
            break
        after = page.next_position

    assert pages == [list(range(10)), list(range(10, 20)), list(range(20, 25))]


def test_a_page_that_ends_the_results_has_no_next_position(results, make_result, new_key):
    key = new_key()
    results.put([make_result(key, i) for i in range(10)])

    first = results.list(key, 5, None)
    last = results.list(key, 5, first.next_position)

    assert first.next_position == {"index": 4}
    assert [r.index for r in last.items] == [5, 6, 7, 8, 9]
    assert last.next_position is None


def test_results_of_another_job_are_not_listed(results, make_result, new_key):
    results.put([make_result(new_key(), 0)])

    assert results.list(new_key(), 10, None).items == []


def test_failure_note_is_read_back(notes, stored_job, make_items):
    job, toons = stored_job(2)
    item = make_items(job, toons)[1]

    notes.record(item, "ValueError: bad", 2)

    assert notes.get(item) == ("ValueError: bad", 2)


def test_latest_failure_note_replaces_the_earlier_one(notes, stored_job, make_items):
    job, toons = stored_job(1)
    item = make_items(job, toons)[0]
    notes.record(item, "first", 1)

    notes.record(item, "second", 2)

    assert notes.get(item) == ("second", 2)


def test_missing_failure_note_is_none(notes, stored_job, make_items):
    job, toons = stored_job(1)

    assert notes.get(make_items(job, toons)[0]) is None


def test_failure_notes_are_kept_per_run(notes, stored_job, make_items):
    job, toons = stored_job(1)
    item = make_items(job, toons)[0]
    notes.record(item, "run one", 5)

    assert notes.get(WorkItem(item.key, item.run + 1, item.toon)) is None


def test_failure_notes_do_not_show_among_the_jobs_toons(jobs, notes, stored_job, make_items):
    job, toons = stored_job(3)
    for item in make_items(job, toons):
        notes.record(item, "boom", 1)

    assert jobs.toons(job.key) == toons
