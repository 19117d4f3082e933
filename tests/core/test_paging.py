"""Page tokens and page sizes: round trips, and a clean 400 for anything else."""

from __future__ import annotations

import base64
import json

import pytest

from toons import paging
from toons.config import Limits
from toons.errors import InvalidInput

RESULTS = {"index": int}
JOBS = {"createdAt": str, "jobId": str}
DEFAULTS = Limits()


def token_of(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def bad_token(token: str, shape: dict[str, type] = RESULTS) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        paging.decode(token, shape)
    return caught.value


def bad_limit(raw: str, limits: Limits = DEFAULTS) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        paging.page_size(raw, limits)
    return caught.value


@pytest.mark.parametrize(
    ("position", "shape"),
    [
        ({"index": 0}, RESULTS),
        ({"index": 9_999}, RESULTS),
        ({"createdAt": "2025-11-27T20:00:00.000Z", "jobId": "JOB-1"}, JOBS),
        ({"createdAt": "ñandú ☃", "jobId": "a:b.c"}, JOBS),
    ],
)
def test_a_position_round_trips_through_its_token(position: dict, shape: dict) -> None:
    assert paging.decode(paging.encode(position), shape) == position


def test_a_token_is_url_safe_without_padding() -> None:
    token = paging.encode({"createdAt": "??>>??", "jobId": "~~~"})

    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_no_position_is_no_token_and_back() -> None:
    assert paging.encode(None) is None
    assert paging.decode(None, RESULTS) is None


def test_a_token_with_its_padding_restored_is_still_accepted() -> None:
    token = paging.encode({"index": 1})

    assert paging.decode(token + "=" * (-len(token) % 4), RESULTS) == {"index": 1}


@pytest.mark.parametrize(
    "token", ["", "!!!!", "%%%", "é", "a", "not a token", "eyJpbmRleCI6", "AAAA", "/w"]
)
def test_a_garbage_token_is_invalid_next_token(token: str) -> None:
    error = bad_token(token)

    assert (error.code, error.field) == ("INVALID_NEXT_TOKEN", "nextToken")
    assert error.message == "Parameter 'nextToken' is not a valid token"


def test_a_tampered_token_is_refused() -> None:
    token = paging.encode({"index": 5})

    assert bad_token(token[:-3] + "zzz").code == "INVALID_NEXT_TOKEN"


def test_an_oversized_token_is_refused_before_decoding() -> None:
    token = token_of({"createdAt": "x" * 3000, "jobId": "J"})

    assert bad_token(token, JOBS).code == "INVALID_NEXT_TOKEN"


def test_a_deeply_nested_token_is_refused() -> None:
    token = base64.urlsafe_b64encode(b"[" * 1500).decode()

    assert bad_token(token).code == "INVALID_NEXT_TOKEN"


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        1,
        "index",
        {},
        {"index": "1"},
        {"index": 1.0},
        {"index": True},
        {"index": None},
        {"index": 1, "extra": 2},
        {"Index": 1},
    ],
)
def test_a_result_token_of_the_wrong_shape_is_refused(value: object) -> None:
    assert bad_token(token_of(value)).code == "INVALID_NEXT_TOKEN"


def test_a_results_token_is_refused_by_the_jobs_listing() -> None:
    assert bad_token(paging.encode({"index": 3}), JOBS).code == "INVALID_NEXT_TOKEN"


def test_a_jobs_token_with_a_number_for_a_date_is_refused() -> None:
    assert bad_token(token_of({"createdAt": 5, "jobId": "J"}), JOBS).code == "INVALID_NEXT_TOKEN"


def test_page_size_defaults_when_absent() -> None:
    assert paging.page_size(None, Limits()) == 100


def test_page_size_default_follows_the_limits() -> None:
    assert paging.page_size(None, Limits(default_page_size=7)) == 7


@pytest.mark.parametrize(("raw", "size"), [("1", 1), ("50", 50), ("1000", 1000), ("007", 7)])
def test_page_size_accepts_whole_numbers_within_bounds(raw: str, size: int) -> None:
    assert paging.page_size(raw, Limits()) == size


@pytest.mark.parametrize(
    "raw", ["0", "1001", "-1", "abc", "", " 5", "5 ", "+5", "1.5", "1e3", "²", "٣", "9" * 5000]
)
def test_page_size_outside_bounds_or_not_a_number_is_invalid_limit(raw: str) -> None:
    error = bad_limit(raw)

    assert (error.code, error.field) == ("INVALID_LIMIT", "limit")
    assert error.message == "Parameter 'limit' must be a whole number from 1 to 1000"


def test_page_size_upper_bound_follows_the_limits() -> None:
    assert bad_limit("11", Limits(max_page_size=10)).message.endswith("from 1 to 10")
