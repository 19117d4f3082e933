"""Bad input and bad credentials: a clear 4xx with the contract's strings and codes.

Nothing is stored for a rejected job.
"""

from __future__ import annotations

import json
import time

import jwt
import pytest

from toons.bench.sample import sample_job


def test_unknown_job_is_not_found(backend):
    reply = backend.client().status("JOB-NOEXISTE")

    assert reply.status == 404
    assert reply.body == {"error": "Job no encontrado", "code": "JOB_NOT_FOUND"}


def test_submit_without_authorization_is_refused(backend):
    reply = backend.client(subject=None).submit({"jobId": "TEST"})

    assert reply.status == 401
    assert reply.body["error"] == "Header Authorization no presente"
    assert reply.body["code"] == "MISSING_AUTHORIZATION"


def test_submit_without_toons_names_the_field(backend):
    reply = backend.client().submit({"jobId": "JOB-002"})

    assert reply.status == 400
    assert reply.body == {
        "error": "Campo 'toons' requerido",
        "code": "MISSING_FIELD",
        "field": "toons",
    }


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", ""])
def test_garbage_tokens_are_invalid(backend, token):
    reply = backend.client(token=token or " ").status("ANY")

    assert reply.status == 401
    assert reply.body["error"] == "Token inválido"


def test_token_signed_with_another_key_is_invalid(backend):
    token = jwt.encode(
        {"sub": "user123", "exp": time.time() + 60},
        "another-key-that-is-long-enough-for-hs256",
        algorithm="HS256",
    )

    reply = backend.client(token=token).status("ANY")

    assert (reply.status, reply.body["code"]) == (401, "INVALID_TOKEN")


def test_expired_token_is_refused_as_expired(backend):
    token = jwt.encode(
        {"sub": "user123", "exp": time.time() - 3600}, backend.secret, algorithm="HS256"
    )

    reply = backend.client(token=token).status("ANY")

    assert reply.status == 401
    assert reply.body == {"error": "Token expirado", "code": "TOKEN_EXPIRED"}


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (b"{not json", "INVALID_JSON", None),
        (b"[]", "INVALID_BODY", None),
        (b'{"jobId": 7, "toons": []}', "INVALID_FIELD", "jobId"),
        (
            b'{"jobId": "bad id!", "toons": [{"toonId": "T", "type": "TEXT"}]}',
            "INVALID_ID",
            "jobId",
        ),
        (b'{"jobId": "J", "toons": "many"}', "INVALID_FIELD", "toons"),
        (b'{"jobId": "J", "toons": []}', "INVALID_FIELD", "toons"),
        (
            b'{"jobId": "J", "toons": [{"toonId": "", "type": "TEXT"}]}',
            "INVALID_ID",
            "toons[0].toonId",
        ),
        (b'{"jobId": "J", "toons": [{"type": "TEXT"}]}', "MISSING_FIELD", "toons[0].toonId"),
        (
            b'{"jobId": "J", "toons": [{"toonId": "T", "type": "AUDIO"}]}',
            "UNKNOWN_TOON_TYPE",
            "toons[0].type",
        ),
        (
            b'{"jobId": "J", "toons": [{"toonId": "T", "type": "TEXT", "payload": [1]}]}',
            "INVALID_FIELD",
            "toons[0].payload",
        ),
        (
            b'{"jobId": "J", "toons": [{"toonId": "T", "type": "TEXT"}, '
            b'{"toonId": "T", "type": "TEXT"}]}',
            "DUPLICATE_TOON_ID",
            "toons[1].toonId",
        ),
    ],
)
def test_bad_submissions_get_a_400_naming_what_is_wrong(backend, body, code, field):
    reply = backend.client().request("POST", "/submit-job", body)

    assert reply.status == 400
    assert reply.body["code"] == code
    assert reply.body.get("field") == field
    assert reply.body["error"]


def test_a_rejected_job_leaves_nothing_behind(backend, unique_id):
    client = backend.client()
    body = {
        "jobId": unique_id,
        "toons": [{"toonId": "T1", "type": "TEXT"}, {"toonId": "T1", "type": "TEXT"}],
    }

    assert client.submit(body).status == 400
    assert client.status(unique_id).status == 404
    assert client.results(unique_id).status == 404


def test_too_many_toons_is_refused_with_the_limit(backend, unique_id):
    reply = backend.client().submit(sample_job(unique_id, 10_001))

    assert reply.status == 400
    assert reply.body["code"] == "TOO_MANY_TOONS"
    assert "10000" in reply.body["error"]


def test_an_oversized_payload_is_refused_with_the_limit(backend, unique_id):
    toon = {"toonId": "BIG", "type": "TEXT", "payload": {"content": "x" * 70_000}}

    reply = backend.client().submit({"jobId": unique_id, "toons": [toon]})

    assert reply.status == 413
    assert reply.body["code"] == "TOON_PAYLOAD_TOO_LARGE"
    assert "65536" in reply.body["error"]


def test_an_oversized_body_is_refused_with_the_limit(backend, unique_id):
    toons = [
        {"toonId": f"T{n}", "type": "TEXT", "payload": {"content": "y" * 60_000}}
        for n in range(110)
    ]

    reply = backend.client().request(
        "POST", "/submit-job", json.dumps({"jobId": unique_id, "toons": toons}).encode()
    )

    assert reply.status == 413
    assert reply.body["code"] == "BODY_TOO_LARGE"
    assert "6291456" in reply.body["error"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"limit": "0"}, "INVALID_LIMIT"),
        ({"limit": "1001"}, "INVALID_LIMIT"),
        ({"limit": "ten"}, "INVALID_LIMIT"),
        ({"nextToken": "%%%"}, "INVALID_NEXT_TOKEN"),
    ],
)
def test_bad_paging_parameters_get_a_400(backend, unique_id, query, code):
    client = backend.client()
    client.submit(sample_job(unique_id, 1))

    reply = client.results(unique_id, **query)

    assert (reply.status, reply.body["code"]) == (400, code)


def test_results_without_job_id_name_the_parameter(backend):
    reply = backend.client().request("GET", "/results")

    assert reply.status == 400
    assert reply.body["field"] == "jobId"


def test_unknown_route_and_wrong_method(backend):
    client = backend.client()

    missing = client.request("GET", "/nothing-here")
    wrong = client.request("DELETE", "/submit-job")

    if backend.name == "aws":  # API Gateway answers both itself, before any function
        assert (missing.status, missing.body["code"]) == (404, "ROUTE_NOT_FOUND")
        assert (wrong.status, wrong.body["code"]) == (404, "ROUTE_NOT_FOUND")
        return
    assert (missing.status, missing.body["code"]) == (404, "ROUTE_NOT_FOUND")
    assert (wrong.status, wrong.body["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert wrong.headers["allow"] == "POST"
