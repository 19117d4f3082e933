"""Property-based fuzzing of every route's input, on every backend.

Whatever arrives (bodies, query strings, path parameters, headers), the answer is never
a 5xx, every 4xx carries the `error`/`code` body, and a rejected job leaves nothing
stored or queued.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import assert_well_formed

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ids = st.one_of(
    st.text(max_size=12), st.from_regex(r"[A-Za-z0-9._:-]{1,12}", fullmatch=True), json_values
)
toons = st.fixed_dictionaries(
    {},
    optional={
        "toonId": ids,
        "type": st.sampled_from(["IMAGE", "VIDEO", "TEXT", "image", "SOUND", ""]) | json_values,
        "payload": json_values,
        "status": json_values,
    },
)
near_valid_jobs = st.fixed_dictionaries(
    {},
    optional={
        "jobId": ids,
        "toons": st.lists(toons, max_size=5) | json_values,
        "userId": json_values,
        "processedToons": json_values,
    },
)


def rejected_job_left_nothing(client, body: object) -> None:
    job_id = body.get("jobId") if isinstance(body, dict) else None
    if isinstance(job_id, str) and job_id:
        assert client.status(job_id).status in (400, 404)


def unique(body: dict) -> dict:
    """Give a fuzzed job an id no earlier example used, keeping its shape."""
    if isinstance(body.get("jobId"), str):
        return {**body, "jobId": f"{body['jobId']}{uuid.uuid4().hex[:8]}"}
    return body


@FUZZ
@given(body=st.binary(max_size=300))
def test_any_bytes_as_a_submit_body(backend, body):
    reply = backend.client().request("POST", "/submit-job", body)

    assert_well_formed(reply)


@FUZZ
@given(body=near_valid_jobs)
def test_near_valid_jobs(backend, body):
    client = backend.client()
    body = unique(body)

    reply = client.request("POST", "/submit-job", json.dumps(body).encode())

    assert_well_formed(reply)
    if reply.status != 202:
        rejected_job_left_nothing(client, body)


@FUZZ
@given(job_id=st.text(min_size=1, max_size=40))
def test_any_path_parameter(backend, job_id):
    reply = backend.client().request("GET", f"/jobs/{quote(job_id, safe='')}")

    assert reply.status in (400, 404)
    assert_well_formed(reply)


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["jobId", "limit", "nextToken", "other"]), st.text(max_size=30), max_size=4
    )
)
def test_any_results_query(backend, params):
    reply = backend.client().request("GET", "/results?" + urlencode(params))

    assert_well_formed(reply)


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["limit", "nextToken"]), st.text(max_size=30), max_size=2
    )
)
def test_any_job_list_query(backend, params):
    reply = backend.client().request("GET", "/jobs?" + urlencode(params))

    assert_well_formed(reply)


@FUZZ
@given(header=st.text(max_size=60).filter(lambda h: "\n" not in h and "\r" not in h))
def test_any_authorization_header(backend, header):
    client = backend.client(subject=None)

    reply = client.request(
        "GET",
        "/jobs",
        headers={"Authorization": header.encode("latin-1", "replace").decode("latin-1")},
    )

    assert reply.status == 401
    assert_well_formed(reply)
