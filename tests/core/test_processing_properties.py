"""Properties of processing over any JSON payload: no crash, a pure fingerprint, a round trip."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from tests.core.samples import QUICK, builtin_registry, work_item
from toons.model import Outcome, ToonResult
from toons.processing import fingerprint, process_toon

KINDS = st.sampled_from(["IMAGE", "VIDEO", "TEXT"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
# Payloads that reach the type rules: the fields they read, with any JSON value.
FIELDS = st.sampled_from(
    ["url", "width", "height", "format", "duration", "resolution", "content", "language"]
)
PAYLOADS = st.dictionaries(FIELDS | st.text(max_size=8), JSON, max_size=6)


@QUICK
@given(kind=KINDS, payload=PAYLOADS)
def test_any_json_payload_is_processed_without_raising(kind: str, payload: dict) -> None:
    result = process_toon(work_item(kind, payload), builtin_registry())

    assert result.outcome is Outcome.PROCESSED
    assert result.is_valid is (not result.validation_errors)
    assert result.processed_data["enrichment"]["complexity"] in {"LOW", "MEDIUM", "HIGH"}


@QUICK
@given(kind=KINDS, payload=PAYLOADS)
def test_the_fingerprint_is_deterministic(kind: str, payload: dict) -> None:
    first = process_toon(work_item(kind, payload), builtin_registry())
    again = process_toon(work_item(kind, json.loads(json.dumps(payload))), builtin_registry())

    assert first.fingerprint == again.fingerprint == fingerprint(first.processed_data)


@QUICK
@given(kind=KINDS, payload=PAYLOADS)
def test_a_result_round_trips_through_its_stored_record(kind: str, payload: dict) -> None:
    result = process_toon(work_item(kind, payload), builtin_registry())

    record = json.loads(json.dumps(result.to_record()))
    restored = ToonResult.from_record(record, result.processed_text())

    assert restored == result
    assert restored.to_dict() == result.to_dict()
