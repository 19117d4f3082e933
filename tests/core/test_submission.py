"""Checking a submitted job: every refusal with its code, field and message, and the digest."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.core.samples import QUICK, SEED_TOONS, body, builtin_registry, toon
from toons.config import Limits
from toons.errors import InvalidInput, LimitExceeded, ToonsError
from toons.submission import JobRequest, parse_submission

LIMITS = Limits(max_body_bytes=4096, max_toons=3, max_payload_bytes=256, max_id_length=16)


def parse(raw: bytes | str, limits: Limits = LIMITS) -> JobRequest:
    data = raw.encode() if isinstance(raw, str) else raw
    return parse_submission(data, limits, builtin_registry())


def refusal(raw: bytes | str, limits: Limits = LIMITS) -> ToonsError:
    with pytest.raises((InvalidInput, LimitExceeded)) as caught:
        parse(raw, limits)
    return caught.value


def document(**fields: Any) -> str:
    return json.dumps(fields)


# -- what a good body gives ----------------------------------------------------------------


def test_the_seed_request_is_accepted_with_its_three_toons() -> None:
    request = parse(body("JOB-TEST-001"))

    assert request.job_id == "JOB-TEST-001"
    assert [(t.toon_id, t.type) for t in request.toons] == [
        ("TOON-001", "IMAGE"),
        ("TOON-002", "VIDEO"),
        ("TOON-003", "TEXT"),
    ]
    assert request.toons[0].payload == SEED_TOONS[0]["payload"]


def test_indexes_are_assigned_in_order() -> None:
    request = parse(body("J", [toon("c"), toon("a"), toon("b")]))

    assert [(t.index, t.toon_id) for t in request.toons] == [(0, "c"), (1, "a"), (2, "b")]


@pytest.mark.parametrize("kind", ["image", "Image", " IMAGE ", "iMAGE"])
def test_type_is_normalised_to_upper_case(kind: str) -> None:
    assert parse(body("J", [toon("t", kind, {})])).toons[0].type == "IMAGE"


def test_a_missing_or_null_payload_is_an_empty_object() -> None:
    raw = document(
        jobId="J", toons=[{"toonId": "a", "type": "TEXT"}, {**toon("b"), "payload": None}]
    )

    assert [t.payload for t in parse(raw).toons] == [{}, {}]


def test_fields_a_client_must_not_set_are_ignored() -> None:
    raw = body(
        "J",
        [{**toon("a"), "status": "FAILED", "index": 9}],
        status="Completed",
        userId="mallory",
        processedToons=99,
        totalToons=1000,
        createdAt="1999-01-01T00:00:00Z",
    )
    request = parse(raw)

    assert request == parse(body("J", [toon("a")]))
    assert request.toons[0].index == 0


def test_ids_may_use_letters_digits_dot_underscore_colon_and_dash() -> None:
    assert parse(body("a.B_1:z-9", [toon("Z")])).job_id == "a.B_1:z-9"


def test_ids_at_the_length_limit_are_accepted() -> None:
    assert parse(body("J" * 16, [toon("T" * 16)])).toons[0].toon_id == "T" * 16


def test_exactly_max_toons_are_accepted() -> None:
    assert len(parse(body("J", [toon(f"t{i}") for i in range(3)])).toons) == 3


def test_a_payload_at_the_size_limit_is_accepted() -> None:
    filler = "x" * (256 - len('{"content":""}'))

    assert parse(body("J", [toon("a", "TEXT", {"content": filler})])).toons[0].payload


def test_a_body_at_the_size_limit_is_accepted() -> None:
    raw = body("J", [toon("a")])
    padded = raw[:-1] + b" " * (LIMITS.max_body_bytes - len(raw)) + b"}"

    assert len(padded) == LIMITS.max_body_bytes
    assert parse(padded).job_id == "J"


# -- the digest ----------------------------------------------------------------------------


def test_digest_ignores_whitespace_and_key_order() -> None:
    compact = json.dumps(
        {"jobId": "J", "toons": [{"toonId": "a", "type": "IMAGE", "payload": {"w": 1, "u": "x"}}]},
        separators=(",", ":"),
    )
    spaced = json.dumps(
        {"toons": [{"payload": {"u": "x", "w": 1}, "type": "IMAGE", "toonId": "a"}], "jobId": "J"},
        indent=4,
    )

    assert parse(compact).digest == parse(spaced).digest


def test_digest_ignores_the_case_of_the_type_and_ignored_fields() -> None:
    plain = body("J", [toon("a", "TEXT")])
    dressed = body("J", [{**toon("a", "text"), "status": "x"}], userId="someone")

    assert parse(plain).digest == parse(dressed).digest


@pytest.mark.parametrize(
    "other",
    [
        body("K", [toon("a", "TEXT", {"content": "a"})]),
        body("J", [toon("b", "TEXT", {"content": "a"})]),
        body("J", [toon("a", "IMAGE", {"content": "a"})]),
        body("J", [toon("a", "TEXT", {"content": "b"})]),
        body("J", [toon("a", "TEXT", {"content": "a", "x": 1})]),
        body("J", [toon("a", "TEXT", {"content": "a"}), toon("c")]),
    ],
)
def test_digest_differs_for_different_content(other: bytes) -> None:
    assert parse(body("J", [toon("a", "TEXT", {"content": "a"})])).digest != parse(other).digest


def test_digest_differs_when_toons_change_order() -> None:
    assert (
        parse(body("J", [toon("a"), toon("b")])).digest
        != parse(body("J", [toon("b"), toon("a")])).digest
    )


def test_digest_does_not_confuse_where_one_field_ends_and_the_next_begins() -> None:
    one = body("J", [toon("ab", "TEXT", {"content": "c"})])
    two = body("Ja", [toon("b", "TEXT", {"content": "c"})])

    assert parse(one).digest != parse(two).digest


# -- the body ------------------------------------------------------------------------------


def test_missing_toons_uses_the_contract_message() -> None:
    error = refusal(document(jobId="JOB-002"))

    assert isinstance(error, InvalidInput)
    assert (error.code, error.field, error.message) == (
        "MISSING_FIELD",
        "toons",
        "Campo 'toons' requerido",
    )


def test_null_toons_is_missing() -> None:
    assert refusal(document(jobId="J", toons=None)).message == "Campo 'toons' requerido"


def test_missing_job_id_uses_the_contract_message() -> None:
    error = refusal(document(toons=[toon("a")]))

    assert (error.code, error.field, error.message) == (
        "MISSING_FIELD",
        "jobId",
        "Campo 'jobId' requerido",
    )


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "{",
        "{'jobId': 'J'}",
        '{"jobId": "J",}',
        b"\xff\xfe{}",
        '{"jobId": "J", "toons": [NaN]}',
        '{"jobId": "J", "toons": [Infinity]}',
        '{"jobId": "J", "toons": [-Infinity]}',
        '{"jobId": "J", "toons": [1e400]}',
        '{"jobId": "J", "toons": [-1e400]}',
    ],
)
def test_invalid_json_is_refused(raw: bytes | str) -> None:
    error = refusal(raw)

    assert isinstance(error, InvalidInput)
    assert error.code == "INVALID_JSON"
    assert error.message.startswith("Body is not valid JSON")


def test_deeply_nested_json_is_invalid_json_not_a_recursion_error() -> None:
    raw = '{"jobId": "J", "toons": ' + "[" * 100_000 + "]" * 100_000 + "}"

    error = refusal(raw, Limits(max_body_bytes=1_000_000))

    assert error.code == "INVALID_JSON"
    assert "nested too deeply" in error.message


@pytest.mark.parametrize("raw", ["[]", '"text"', "42", "null", "true", '[{"jobId": "J"}]'])
def test_a_body_that_is_not_an_object_is_refused(raw: str) -> None:
    error = refusal(raw)

    assert (error.code, error.field) == ("INVALID_BODY", None)
    assert error.message == "Body must be a JSON object"


def test_a_body_over_max_body_bytes_is_a_limit_exceeded() -> None:
    error = refusal(b" " * 4097)

    assert isinstance(error, LimitExceeded)
    assert error.code == "BODY_TOO_LARGE"
    assert "4096" in error.message


# -- the toons list ------------------------------------------------------------------------


@pytest.mark.parametrize("value", [{}, "toons", 3, True])
def test_toons_that_is_not_a_list_is_refused(value: Any) -> None:
    error = refusal(document(jobId="J", toons=value))

    assert (error.code, error.field) == ("INVALID_FIELD", "toons")
    assert error.message == "Field 'toons' must be a list"


def test_an_empty_toons_list_is_refused() -> None:
    error = refusal(document(jobId="J", toons=[]))

    assert (error.code, error.field) == ("INVALID_FIELD", "toons")
    assert error.message == "Field 'toons' must hold at least one toon"


def test_more_than_max_toons_is_refused_with_the_limit_in_the_message() -> None:
    error = refusal(body("J", [toon(f"t{i}") for i in range(4)]))

    assert isinstance(error, InvalidInput)
    assert (error.code, error.field) == ("TOO_MANY_TOONS", "toons")
    assert error.message == "A job holds at most 3 toons; this one has 4"


@pytest.mark.parametrize("value", ["a", 1, None, ["toonId", "a"]])
def test_a_toon_that_is_not_an_object_is_refused(value: Any) -> None:
    error = refusal(document(jobId="J", toons=[toon("a"), value]))

    assert (error.code, error.field) == ("INVALID_FIELD", "toons[1]")
    assert error.message == "Field 'toons[1]' must be a JSON object"


# -- ids ---------------------------------------------------------------------------------------


def test_a_missing_toon_id_names_the_toon() -> None:
    error = refusal(document(jobId="J", toons=[{"type": "TEXT", "payload": {}}]))

    assert (error.code, error.field) == ("MISSING_FIELD", "toons[0].toonId")
    assert error.message == "Campo 'toons[0].toonId' requerido"


@pytest.mark.parametrize("value", [7, 1.5, True, ["a"], {"id": "a"}])
def test_a_toon_id_that_is_not_a_string_is_refused(value: Any) -> None:
    error = refusal(document(jobId="J", toons=[{**toon("a"), "toonId": value}]))

    assert (error.code, error.field) == ("INVALID_FIELD", "toons[0].toonId")
    assert error.message == "Field 'toons[0].toonId' must be a string"


def test_a_job_id_that_is_not_a_string_is_refused() -> None:
    error = refusal(document(jobId=12, toons=[toon("a")]))

    assert (error.code, error.field) == ("INVALID_FIELD", "jobId")


@pytest.mark.parametrize(
    "value", ["", " ", "a b", "a/b", "a?b", "a%2F", "ñ", "a\n", "\u0661", "a\x00", "é"]
)
def test_an_id_with_characters_outside_the_alphabet_is_invalid_id(value: str) -> None:
    error = refusal(document(jobId="J", toons=[{**toon("a"), "toonId": value}]))

    assert (error.code, error.field) == ("INVALID_ID", "toons[0].toonId")
    assert error.message == (
        "Field 'toons[0].toonId' must be 1 to 16 characters "
        "from A-Z, a-z, 0-9, '.', '_', ':' and '-'"
    )


def test_a_job_id_with_a_slash_is_invalid_id() -> None:
    error = refusal(body("a/b", [toon("a")]))

    assert (error.code, error.field) == ("INVALID_ID", "jobId")


def test_an_id_over_the_length_limit_is_invalid_id() -> None:
    error = refusal(body("J" * 17, [toon("a")]))

    assert (error.code, error.field) == ("INVALID_ID", "jobId")
    assert "1 to 16 characters" in error.message


def test_an_id_over_128_characters_is_refused_by_default() -> None:
    error = refusal(body("J", [toon("T" * 129)]), Limits())

    assert (error.code, error.field) == ("INVALID_ID", "toons[0].toonId")
    assert "1 to 128 characters" in error.message


def test_an_id_of_128_characters_is_accepted_by_default() -> None:
    assert parse(body("J" * 128, [toon("a")]), Limits()).job_id == "J" * 128


def test_duplicate_toon_ids_name_both_positions() -> None:
    error = refusal(body("J", [toon("a"), toon("b"), toon("a")]))

    assert (error.code, error.field) == ("DUPLICATE_TOON_ID", "toons[2].toonId")
    assert error.message == "Field 'toons[2].toonId' repeats 'a' from toons[0]"


def test_toon_ids_differing_only_in_case_are_distinct() -> None:
    assert len(parse(body("J", [toon("a"), toon("A")])).toons) == 2


# -- type and payload ----------------------------------------------------------------------


def test_a_missing_type_is_refused() -> None:
    error = refusal(document(jobId="J", toons=[{"toonId": "a", "payload": {}}]))

    assert (error.code, error.field) == ("MISSING_FIELD", "toons[0].type")


@pytest.mark.parametrize("value", [1, ["IMAGE"], {"name": "IMAGE"}, False])
def test_a_type_that_is_not_a_string_is_refused(value: Any) -> None:
    error = refusal(document(jobId="J", toons=[{**toon("a"), "type": value}]))

    assert (error.code, error.field) == ("INVALID_FIELD", "toons[0].type")


def test_an_unknown_type_lists_the_known_types() -> None:
    error = refusal(body("J", [toon("a"), toon("b", "AUDIO")]))

    assert (error.code, error.field) == ("UNKNOWN_TOON_TYPE", "toons[1].type")
    assert error.message == "Field 'toons[1].type' is 'AUDIO', not one of: IMAGE, TEXT, VIDEO"


@pytest.mark.parametrize("value", [[], "payload", 1, True])
def test_a_payload_that_is_not_an_object_is_refused(value: Any) -> None:
    error = refusal(document(jobId="J", toons=[{**toon("a"), "payload": value}]))

    assert (error.code, error.field) == ("INVALID_FIELD", "toons[0].payload")
    assert error.message == "Field 'toons[0].payload' must be a JSON object"


def test_a_payload_over_max_payload_bytes_is_a_limit_exceeded() -> None:
    error = refusal(body("J", [toon("a", "TEXT", {"content": "x" * 300})]))

    assert isinstance(error, LimitExceeded)
    assert (error.code, error.field) == ("TOON_PAYLOAD_TOO_LARGE", "toons[0].payload")
    assert error.message == "Field 'toons[0].payload' is 314 bytes; the limit is 256 bytes"


def test_payload_size_is_measured_in_canonical_form_not_as_sent() -> None:
    payload = {"content": "x" * 200}
    spaced = json.dumps({"jobId": "J", "toons": [toon("a", "TEXT", payload)]}, indent=40)

    assert parse(spaced).toons[0].payload == payload


@pytest.mark.parametrize(
    "escaped", [r'{"content": "a\ud800"}', r'{"\udfff": 1}', r'{"x": ["\ud83d"]}']
)
def test_a_payload_with_a_lone_surrogate_is_refused_not_a_crash(escaped: str) -> None:
    raw = '{"jobId": "J", "toons": [{"toonId": "a", "type": "TEXT", "payload": ' + escaped + "}]}"

    error = refusal(raw)

    assert (error.code, error.field) == ("INVALID_FIELD", "toons[0].payload")
    assert error.message == "Field 'toons[0].payload' holds text that is not valid Unicode"


PAIR = r'{"c": "\ud83d\ude00"}'


def test_a_payload_with_an_escaped_surrogate_pair_is_accepted() -> None:
    raw = '{"jobId": "J", "toons": [{"toonId": "a", "type": "TEXT", "payload": ' + PAIR + "}]}"

    assert parse(raw).toons[0].payload == {"c": "\U0001f600"}


def test_the_first_bad_toon_is_reported() -> None:
    error = refusal(body("J", [toon("a"), toon("b", "AUDIO"), toon("a")]))

    assert error.field == "toons[1].type"


# -- anything else -------------------------------------------------------------------------

# Text that may hold lone surrogates, which JSON can carry as "\\udXXX" escapes.
TEXTS = st.text(st.characters(exclude_categories=[]), max_size=12) | st.just("\ud800")
SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
)
JSON = st.recursive(
    SCALARS | TEXTS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXTS, inner, max_size=4),
    max_leaves=16,
)


def mostly(good: st.SearchStrategy, junk: st.SearchStrategy = JSON) -> st.SearchStrategy:
    """Usually a well-formed value, sometimes any JSON, so that every rule gets reached."""
    return st.sampled_from([True] * 7 + [False]).flatmap(lambda ok: good if ok else junk)


IDS = st.from_regex(r"[A-Za-z0-9._:-]{1,20}", fullmatch=True)
KINDS = st.sampled_from(["IMAGE", "video", " Text ", "AUDIO"])
TOONS = st.lists(
    mostly(
        st.fixed_dictionaries(
            {"toonId": mostly(IDS), "type": mostly(KINDS)},
            optional={"payload": mostly(st.dictionaries(TEXTS, JSON, max_size=4))},
        )
    ),
    min_size=1,
    max_size=3,
)
SUBMISSIONS = st.fixed_dictionaries({"jobId": mostly(IDS), "toons": mostly(TOONS)})


@QUICK
@given(raw=st.binary(max_size=300))
def test_any_bytes_parse_or_raise_only_invalid_input_or_limit_exceeded(raw: bytes) -> None:
    with contextlib.suppress(InvalidInput, LimitExceeded):
        parse(raw)


@settings(QUICK, max_examples=200)
@given(data=mostly(SUBMISSIONS), ascii_only=st.booleans())
def test_any_json_document_parses_or_raises_only_invalid_input_or_limit_exceeded(
    data: Any, ascii_only: bool
) -> None:
    raw = json.dumps(data, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        request = parse(raw)
    except (InvalidInput, LimitExceeded):
        return
    assert 1 <= len(request.toons) <= LIMITS.max_toons
    assert [t.index for t in request.toons] == list(range(len(request.toons)))
