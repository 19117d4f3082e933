"""The HTTP contract: routes, statuses, bodies and headers, over the fake ports."""

from __future__ import annotations

import json

import pytest

from tests.core.samples import OTHER_SECRET, SECRET, body, settle, toon
from toons import __version__
from toons.api import Api, HttpRequest, HttpResponse
from toons.auth import mint
from toons.config import AuthSettings
from toons.errors import (
    Conflict,
    InvalidInput,
    LimitExceeded,
    NotFound,
    StoreConflict,
    Throttled,
    Unauthorized,
)
from toons.model import JobKey, JobStatus
from toons.ports import Ports
from toons.service import DeadLetter, ToonService

Headers = dict[str, str]


def get(api: Api, path: str, headers: Headers, **query: str) -> HttpResponse:
    return api.handle(HttpRequest("GET", path, query=query, headers=headers))


def submit(api: Api, raw: bytes, headers: Headers) -> HttpResponse:
    return api.handle(HttpRequest("POST", "/submit-job", headers=headers, body=raw))


# -- routes ------------------------------------------------------------------------------


def test_health_answers_without_a_token(api: Api) -> None:
    response = get(api, "/health", {})

    assert (response.status, response.body) == (200, {"status": "ok", "version": __version__})


def test_submit_answers_202_with_the_contract_body(
    api: Api, alice: Headers, unique_id: str
) -> None:
    response = submit(api, body(unique_id), alice)

    assert response.status == 202
    assert response.body == {
        "message": "Job submitted successfully",
        "jobId": unique_id,
        "toonsCount": 3,
        "status": "Processing",
    }
    assert "Idempotent-Replay" not in response.headers


def test_resubmit_answers_202_with_the_idempotent_replay_header(
    api: Api, alice: Headers, unique_id: str
) -> None:
    first = submit(api, body(unique_id), alice)

    again = submit(api, body(unique_id), alice)

    assert again.status == 202
    assert again.body == first.body
    assert again.headers == {"Idempotent-Replay": "true"}


def test_a_different_body_under_the_same_job_id_is_409(
    api: Api, alice: Headers, unique_id: str
) -> None:
    submit(api, body(unique_id), alice)

    response = submit(api, body(unique_id, [toon("x")]), alice)

    assert response.status == 409
    assert response.body["code"] == "JOB_CONFLICT"
    assert response.body["field"] == "jobId"


@pytest.mark.parametrize("path", ["/", "/nope", "/jobs/a/b", "/submit-job/x", "/result"])
def test_an_unknown_route_is_404(api: Api, alice: Headers, path: str) -> None:
    response = get(api, path, alice)

    assert response.status == 404
    assert response.body == {"error": f"No route for GET {path}", "code": "ROUTE_NOT_FOUND"}


def test_an_unknown_route_is_404_even_without_a_token(api: Api) -> None:
    assert get(api, "/nope", {}).status == 404


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/submit-job", "POST"),
        ("DELETE", "/jobs/JOB-1", "GET"),
        ("POST", "/jobs", "GET"),
        ("PUT", "/results", "GET"),
    ],
)
def test_a_known_route_with_another_method_is_405_with_allow(
    api: Api, alice: Headers, method: str, path: str, allowed: str
) -> None:
    response = api.handle(HttpRequest(method, path, headers=alice))

    assert response.status == 405
    assert response.headers == {"Allow": allowed}
    assert response.body == {
        "error": f"Method {method} is not allowed on {path}",
        "code": "METHOD_NOT_ALLOWED",
    }


def test_a_trailing_slash_reaches_the_same_route(api: Api, alice: Headers) -> None:
    response = get(api, "/jobs/", alice)

    assert (response.status, response.body["jobs"]) == (200, [])


def test_a_percent_encoded_job_id_is_decoded(api: Api, alice: Headers) -> None:
    submit(api, body("JOB:1", [toon("a")]), alice)

    response = get(api, "/jobs/JOB%3A1", alice)

    assert (response.status, response.body["jobId"]) == (200, "JOB:1")


def test_a_job_id_that_decodes_to_a_slash_is_400(api: Api, alice: Headers) -> None:
    response = get(api, "/jobs/a%2Fb", alice)

    assert response.status == 400
    assert response.body["code"] == "INVALID_ID"


# -- authentication ----------------------------------------------------------------------


def test_no_authorization_header_is_401_with_the_contract_message(api: Api) -> None:
    response = submit(api, b'{"jobId": "TEST"}', {})

    assert response.status == 401
    assert response.body == {
        "error": "Header Authorization no presente",
        "code": "MISSING_AUTHORIZATION",
    }
    assert response.headers == {"WWW-Authenticate": "Bearer"}


def test_a_token_signed_with_another_key_is_401_invalid(api: Api) -> None:
    headers = {"authorization": f"Bearer {mint('alice', OTHER_SECRET)}"}

    response = get(api, "/jobs", headers)

    assert (response.status, response.body) == (
        401,
        {"error": "Token inválido", "code": "INVALID_TOKEN"},
    )


def test_an_expired_token_is_401_expired(api: Api) -> None:
    headers = {"authorization": f"Bearer {mint('alice', SECRET, ttl_s=-300)}"}

    response = get(api, "/jobs/JOB-1", headers)

    assert (response.status, response.body) == (
        401,
        {"error": "Token expirado", "code": "TOKEN_EXPIRED"},
    )


def test_a_rejected_token_enqueues_nothing(api: Api, ports: Ports, unique_id: str) -> None:
    submit(api, body(unique_id), {"authorization": "Bearer nonsense"})

    assert ports.queue.sends == 0


# -- error bodies ------------------------------------------------------------------------


def test_a_missing_toons_field_is_400_with_the_contract_message(api: Api, alice: Headers) -> None:
    response = submit(api, b'{"jobId": "JOB-002"}', alice)

    assert response.status == 400
    assert response.body == {
        "error": "Campo 'toons' requerido",
        "code": "MISSING_FIELD",
        "field": "toons",
    }


def test_an_error_without_a_field_has_no_field_key(api: Api, alice: Headers) -> None:
    response = submit(api, b"[1, 2]", alice)

    assert response.body == {"error": "Body must be a JSON object", "code": "INVALID_BODY"}


def test_a_body_over_the_limit_is_413(api: Api, alice: Headers) -> None:
    response = submit(api, b" " * (64 * 1024 + 1), alice)

    assert response.status == 413
    assert response.body["code"] == "BODY_TOO_LARGE"
    assert str(64 * 1024) in response.body["error"]


def test_a_payload_over_the_limit_is_413_naming_the_field(api: Api, alice: Headers) -> None:
    response = submit(api, body("J", [toon("a", "TEXT", {"content": "x" * 3000})]), alice)

    assert response.status == 413
    assert (response.body["code"], response.body["field"]) == (
        "TOON_PAYLOAD_TOO_LARGE",
        "toons[0].payload",
    )


def test_someone_elses_job_is_404_job_no_encontrado(
    api: Api, alice: Headers, bob: Headers, unique_id: str
) -> None:
    submit(api, body(unique_id), alice)

    response = get(api, f"/jobs/{unique_id}", bob)

    assert (response.status, response.body) == (
        404,
        {"error": "Job no encontrado", "code": "JOB_NOT_FOUND"},
    )


def test_someone_elses_results_are_404(
    api: Api, alice: Headers, bob: Headers, unique_id: str
) -> None:
    submit(api, body(unique_id), alice)

    assert get(api, "/results", bob, jobId=unique_id).body["code"] == "JOB_NOT_FOUND"


def test_results_without_a_job_id_is_400(api: Api, alice: Headers) -> None:
    response = get(api, "/results", alice)

    assert response.status == 400
    assert response.body == {
        "error": "Campo 'jobId' requerido",
        "code": "MISSING_FIELD",
        "field": "jobId",
    }


@pytest.mark.parametrize(
    ("query", "code"),
    [({"limit": "0"}, "INVALID_LIMIT"), ({"nextToken": "%%%"}, "INVALID_NEXT_TOKEN")],
)
def test_bad_listing_parameters_are_400(
    api: Api, alice: Headers, query: dict[str, str], code: str
) -> None:
    response = get(api, "/jobs", alice, **query)

    assert (response.status, response.body["code"]) == (400, code)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidInput("X", "bad"), 400),
        (Unauthorized("X", "who"), 401),
        (NotFound("X", "gone"), 404),
        (Conflict("X", "clash"), 409),
        (LimitExceeded("X", "big"), 413),
        (StoreConflict(), 503),
        (Throttled(), 503),
    ],
)
def test_a_deliberate_error_inside_a_port_maps_by_the_status_table(
    api: Api, alice: Headers, ports: Ports, monkeypatch: pytest.MonkeyPatch, error, status: int
) -> None:
    def fail(*_: object) -> None:
        raise error

    monkeypatch.setattr(ports.jobs, "get", fail)

    response = get(api, "/jobs/JOB-1", alice)

    assert response.status == status
    assert response.body == {"error": error.message, "code": error.code}


def test_an_unexpected_exception_inside_a_port_is_500_internal(
    api: Api, alice: Headers, ports: Ports, unique_id: str
) -> None:
    ports.queue.crashes_left = 1

    response = submit(api, body(unique_id), alice)

    assert response.status == 500
    assert response.body == {"error": "Internal error", "code": "INTERNAL"}


def test_a_resubmit_after_a_500_fans_the_job_out(
    api: Api, alice: Headers, ports: Ports, unique_id: str
) -> None:
    ports.queue.crashes_left = 1
    submit(api, body(unique_id), alice)

    response = submit(api, body(unique_id), alice)

    assert (response.status, response.headers) == (202, {"Idempotent-Replay": "true"})
    assert len(ports.queue.items) == 3
    assert get(api, f"/jobs/{unique_id}", alice).body["status"] == "Processing"


# -- status ------------------------------------------------------------------------------


def test_job_status_has_the_contract_fields(api: Api, alice: Headers, unique_id: str) -> None:
    submit(api, body(unique_id), alice)

    response = get(api, f"/jobs/{unique_id}", alice)

    assert response.status == 200
    assert response.body == {
        "jobId": unique_id,
        "status": "Processing",
        "totalToons": 3,
        "processedToons": 0,
        "failedToons": 0,
        "userId": "alice",
        "run": 1,
        "metadata": {
            "createdAt": "2025-11-27T20:00:01.000Z",
            "updatedAt": "2025-11-27T20:00:02.000Z",
        },
        "progress": {"percentage": 0.0, "completed": False},
    }


def test_progress_percentage_is_rounded_to_two_decimals(
    api: Api, alice: Headers, service: ToonService, ports: Ports, unique_id: str
) -> None:
    submit(api, body(unique_id), alice)
    service.process_batch(ports.queue.take()[:1])
    settle(service, ports)

    status = get(api, f"/jobs/{unique_id}", alice).body

    assert (status["processedToons"], status["status"]) == (1, "Processing")
    assert status["progress"] == {"percentage": 33.33, "completed": False}


def test_status_counts_failed_toons_and_completes_with_errors(
    api: Api, alice: Headers, service: ToonService, ports: Ports, unique_id: str
) -> None:
    submit(api, body(unique_id), alice)
    first, second, third = ports.queue.take()
    service.process_batch([first, third])
    service.record_failures([DeadLetter(second, "boom", attempts=5)])
    settle(service, ports)

    status = get(api, f"/jobs/{unique_id}", alice).body

    assert (status["processedToons"], status["failedToons"]) == (2, 1)
    assert status["status"] == str(JobStatus.COMPLETED_WITH_ERRORS)
    assert status["progress"] == {"percentage": 100.0, "completed": True}


# -- results -----------------------------------------------------------------------------


def test_results_show_each_processed_toon(
    api: Api, alice: Headers, service: ToonService, ports: Ports, unique_id: str
) -> None:
    submit(api, body(unique_id), alice)
    settle(service, ports)

    response = get(api, "/results", alice, jobId=unique_id)

    assert response.status == 200
    assert {k: response.body[k] for k in ("jobId", "jobStatus", "totalToons", "resultsCount")} == {
        "jobId": unique_id,
        "jobStatus": "Completed",
        "totalToons": 3,
        "resultsCount": 3,
    }
    assert response.body["nextToken"] is None
    first = response.body["results"][0]
    assert first["toonId"] == "TOON-001"
    assert (first["type"], first["status"], first["isValid"]) == ("IMAGE", "PROCESSED", True)
    assert first["processedData"]["enrichment"]["complexity"] == "LOW"
    assert len(first["fingerprint"]) == 64


def test_a_failed_result_shows_its_reason_and_attempts(
    api: Api, alice: Headers, service: ToonService, ports: Ports, unique_id: str
) -> None:
    submit(api, body(unique_id, [toon("a")]), alice)
    (item,) = ports.queue.take()
    service.record_failures([DeadLetter(item, "TimeoutError: slow", attempts=5)])

    (result,) = get(api, "/results", alice, jobId=unique_id).body["results"]

    assert (result["status"], result["fingerprint"], result["processedData"]) == (
        "FAILED",
        None,
        None,
    )
    assert result["error"] == {"reason": "TimeoutError: slow", "attempts": 5}


def test_results_are_paged_with_next_token(
    api: Api, alice: Headers, service: ToonService, ports: Ports, unique_id: str
) -> None:
    submit(api, body(unique_id), alice)
    settle(service, ports)

    first = get(api, "/results", alice, jobId=unique_id, limit="2").body
    second = get(api, "/results", alice, jobId=unique_id, limit="2", nextToken=first["nextToken"])

    assert [r["toonId"] for r in first["results"]] == ["TOON-001", "TOON-002"]
    assert first["resultsCount"] == 2
    assert [r["toonId"] for r in second.body["results"]] == ["TOON-003"]
    assert second.body["nextToken"] is None


def test_results_before_any_processing_are_empty(api: Api, alice: Headers, unique_id: str) -> None:
    submit(api, body(unique_id), alice)

    response = get(api, "/results", alice, jobId=unique_id)

    assert (response.body["resultsCount"], response.body["jobStatus"]) == (0, "Processing")


# -- job list ----------------------------------------------------------------------------


def test_jobs_are_listed_newest_first_and_paged(
    api: Api, alice: Headers, service: ToonService, ports: Ports
) -> None:
    for job_id in ("JOB-A", "JOB-B", "JOB-C"):
        submit(api, body(job_id, [toon("a")]), alice)
    settle(service, ports)

    first = get(api, "/jobs", alice, limit="2").body
    second = get(api, "/jobs", alice, limit="2", nextToken=first["nextToken"]).body

    assert [job["jobId"] for job in first["jobs"]] == ["JOB-C", "JOB-B"]
    assert first["count"] == 2
    assert [job["jobId"] for job in second["jobs"]] == ["JOB-A"]
    assert second["nextToken"] is None


def test_job_list_rows_have_the_contract_fields(
    api: Api, alice: Headers, service: ToonService, ports: Ports, unique_id: str
) -> None:
    submit(api, body(unique_id), alice)
    settle(service, ports)

    (row,) = get(api, "/jobs", alice).body["jobs"]

    assert set(row) == {
        "jobId",
        "status",
        "totalToons",
        "processedToons",
        "failedToons",
        "run",
        "createdAt",
        "updatedAt",
    }
    assert (row["status"], row["processedToons"]) == ("Completed", 3)


def test_a_user_lists_only_their_own_jobs(
    api: Api, alice: Headers, bob: Headers, service: ToonService, ports: Ports, unique_id: str
) -> None:
    submit(api, body(unique_id), alice)
    settle(service, ports)

    assert get(api, "/jobs", bob).body == {"jobs": [], "count": 0, "nextToken": None}


# -- the wire form -----------------------------------------------------------------------


def test_a_response_encodes_as_utf8_json_with_its_content_type(api: Api) -> None:
    response = get(api, "/jobs/NOPE", {"authorization": "Bearer x"})

    assert json.loads(response.encoded()) == {"error": "Token inválido", "code": "INVALID_TOKEN"}
    assert "inválido".encode() in response.encoded()
    assert response.all_headers() == {
        "Content-Type": "application/json; charset=utf-8",
        "WWW-Authenticate": "Bearer",
    }


def test_a_request_owned_by_the_token_subject_stores_under_that_user(
    api: Api, alice: Headers, ports: Ports, unique_id: str
) -> None:
    submit(api, body(unique_id, [toon("a")], userId="mallory"), alice)

    assert ports.jobs.get(JobKey("alice", unique_id)) is not None
    assert ports.jobs.get(JobKey("mallory", unique_id)) is None


def test_an_api_without_a_secret_fails_closed_with_500(
    service: ToonService, alice: Headers
) -> None:
    response = Api(service, AuthSettings()).handle(HttpRequest("GET", "/jobs", headers=alice))

    assert response.status == 500
