"""SqliteResultStore: one result per (job, toon), listed in toon order, superseded by rule."""

from __future__ import annotations

import itertools
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toons.model import JobKey, Outcome, ToonResult
from toons.processing import canonical_json

_property_jobs = itertools.count(1)


def test_put_then_list_returns_the_results_in_toon_order(results, new_key, make_result):
    key = new_key()
    stored = [make_result(key, index) for index in (4, 0, 3, 1, 2)]

    results.put(stored)

    assert results.list(key, 10, None).items == sorted(stored, key=lambda r: r.index)


def test_put_of_nothing_writes_nothing(results, new_key):
    results.put([])

    assert results.list(new_key(), 10, None).items == []


def test_list_shows_only_the_jobs_results(results, new_key, make_result):
    mine, other = new_key(), new_key()
    results.put([make_result(mine, 0), make_result(other, 0), make_result(other, 1)])

    assert [r.key for r in results.list(mine, 10, None).items] == [mine]


def test_list_pages_by_the_returned_position_without_gaps_or_repeats(results, new_key, make_result):
    key = new_key()
    results.put([make_result(key, index) for index in range(25)])

    pages, position = [], None
    while True:
        page = results.list(key, 7, position)
        pages.append([r.index for r in page.items])
        if page.next_position is None:
            break
        position = page.next_position

    assert pages == [list(range(0, 7)), list(range(7, 14)), list(range(14, 21)), [21, 22, 23, 24]]


def test_list_of_a_full_last_page_has_no_next_position(results, new_key, make_result):
    key = new_key()
    results.put([make_result(key, index) for index in range(14)])

    second = results.list(key, 7, results.list(key, 7, None).next_position)

    assert ([r.index for r in second.items], second.next_position) == (list(range(7, 14)), None)


def test_failed_results_keep_their_reason_and_attempts(results, new_key, make_result):
    key = new_key()
    failed = make_result(key, 0, Outcome.FAILED, error="UnknownToonType: GHOST", attempts=3)

    results.put([failed])

    [stored] = results.list(key, 10, None).items
    assert stored == failed
    assert stored.to_dict()["error"] == {"reason": "UnknownToonType: GHOST", "attempts": 3}


def test_processed_data_is_stored_as_the_canonical_json_when_given(
    db, results, new_key, make_result
):
    key = new_key()
    data = {"toonId": "T-00000", "payload": {"b": 1, "a": "é"}, "metadata": {"z": [1, 2]}}
    canonical = canonical_json(data).decode()
    result = make_result(key, 0, processed_data=data, processed_json=canonical)

    results.put([result])

    (text,) = db.connection().execute("SELECT processed FROM results").fetchone()
    assert text == canonical
    assert results.list(key, 10, None).items[0].processed_data == data


def test_processed_data_round_trips_without_canonical_json(results, new_key, make_result):
    key = new_key()
    data = {"toonId": "T-00000", "payload": {"list": [1, 2.5, None, True], "s": "ñ"}}

    results.put([make_result(key, 0, processed_data=data, processed_json=None)])

    assert results.list(key, 10, None).items[0].processed_data == data


def test_missing_processed_data_comes_back_as_none(results, new_key, make_result):
    key = new_key()

    results.put([make_result(key, 0, Outcome.FAILED)])

    assert results.list(key, 10, None).items[0].processed_data is None


def test_a_redelivered_result_does_not_replace_the_first(results, new_key, make_result):
    key = new_key()
    first = make_result(key, 0, fingerprint="a" * 64)

    results.put([first])
    results.put([make_result(key, 0, fingerprint="b" * 64)])

    assert results.list(key, 10, None).items == [first]


def test_a_processed_result_replaces_a_failed_one_of_the_same_run(results, new_key, make_result):
    key = new_key()
    processed = make_result(key, 0)

    results.put([make_result(key, 0, Outcome.FAILED)])
    results.put([processed])

    assert results.list(key, 10, None).items == [processed]


def test_a_failed_result_does_not_replace_a_processed_one(results, new_key, make_result):
    key = new_key()
    processed = make_result(key, 0)

    results.put([processed])
    results.put([make_result(key, 0, Outcome.FAILED)])

    assert results.list(key, 10, None).items == [processed]


def test_a_result_of_a_newer_run_replaces_the_older(results, new_key, make_result):
    key = new_key()
    newer = make_result(key, 0, Outcome.FAILED, run=2)

    results.put([make_result(key, 0)])
    results.put([newer])

    assert results.list(key, 10, None).items == [newer]


# -- the superseding rule, as a property ---------------------------------------------

_json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
_common = {
    "key": st.just(JobKey("prop", "JOB-PROP")),
    "index": st.just(3),
    "toon_id": st.just("T-00003"),
    "type": st.just("TEXT"),
    "run": st.integers(1, 3),
    "processed_at": st.sampled_from(
        ["2025-01-01T00:00:00.000Z", "2025-01-01T00:00:01.000Z", "2025-06-30T23:59:59.999Z"]
    ),
    "duration_ms": st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
}
_processed = st.builds(
    ToonResult,
    outcome=st.just(Outcome.PROCESSED),
    fingerprint=st.text("0123456789abcdef", min_size=64, max_size=64),
    is_valid=st.booleans(),
    validation_errors=st.lists(st.text(max_size=10), max_size=2).map(tuple),
    processed_data=st.dictionaries(st.text(max_size=5), _json, max_size=4),
    **_common,
)
_failed = st.builds(
    ToonResult,
    outcome=st.just(Outcome.FAILED),
    error=st.none() | st.text(max_size=20),
    attempts=st.integers(0, 10),
    **_common,
)
_results = _processed | _failed


# One database serves every example: each example writes under job keys of its own.
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=_results, second=_results)
def test_the_stored_result_is_the_one_supersedes_selects_in_either_order(results, first, second):
    for earlier, later in ((first, second), (second, first)):
        key = JobKey("prop", f"JOB-PROP-{next(_property_jobs):06d}")
        earlier, later = replace(earlier, key=key), replace(later, key=key)

        results.put([earlier])
        results.put([later])

        expected = later if later.supersedes(earlier) else earlier
        assert results.list(key, 10, None).items == [expected]
