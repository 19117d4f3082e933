"""The HTTP contract, once, for every front door.

`Api.handle` turns a plain `HttpRequest` into an `HttpResponse`; the local server and
the API Gateway handlers only translate to and from these two classes. Errors become
statuses in one table here, and every error body has the same shape:
`{"error": <message>, "code": <stable code>, "field": <when one is at fault>}`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from toons import __version__, auth, paging
from toons.config import AuthSettings
from toons.errors import (
    Conflict,
    InvalidInput,
    LimitExceeded,
    NotFound,
    StoreConflict,
    Throttled,
    ToonsError,
    Unauthorized,
)
from toons.service import ToonService

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[ToonsError], int] = {
    InvalidInput: 400,
    Unauthorized: 401,
    NotFound: 404,
    Conflict: 409,
    LimitExceeded: 413,
    StoreConflict: 503,
    Throttled: 503,
}
SUBMITTED = "Job submitted successfully"


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A request as any front door sees it; header names are lower-case."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A JSON answer."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        """The body as UTF-8 JSON."""
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()

    def all_headers(self) -> dict[str, str]:
        """The response headers, content type included."""
        return {"Content-Type": "application/json; charset=utf-8", **self.headers}


def error_response(error: ToonsError) -> HttpResponse:
    """The answer for a deliberate error, by the status table."""
    body = {"error": error.message, "code": error.code}
    if error.field:
        body["field"] = error.field
    status = next(s for kind, s in STATUS_BY_ERROR.items() if isinstance(error, kind))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    return HttpResponse(status, body, headers)


Handler = Callable[[HttpRequest, str, dict[str, str]], HttpResponse]


class Api:
    """Routes, authentication and answers, on top of a `ToonService`."""

    def __init__(self, service: ToonService, auth_settings: AuthSettings) -> None:
        self.service = service
        self.auth = auth_settings
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("POST", re.compile(r"/submit-job"), self._submit),
            ("GET", re.compile(r"/jobs"), self._list_jobs),
            ("GET", re.compile(r"/jobs/(?P<jobId>[^/]+)"), self._job_status),
            ("GET", re.compile(r"/results"), self._results),
        ]

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request; never raises."""
        try:
            return self._dispatch(request)
        except ToonsError as error:
            return error_response(error)
        except Exception:
            log.exception("request failed", extra={"method": request.method, "path": request.path})
            return HttpResponse(500, {"error": "Internal error", "code": "INTERNAL"})

    def _dispatch(self, request: HttpRequest) -> HttpResponse:
        path = request.path.rstrip("/") or "/"
        if path == "/health" and request.method == "GET":
            return HttpResponse(200, {"status": "ok", "version": __version__})

        matches = [(m, p.fullmatch(path), h) for m, p, h in self.routes if p.fullmatch(path)]
        if not matches:
            raise NotFound("ROUTE_NOT_FOUND", f"No route for {request.method} {path}")
        for method, match, handler in matches:
            if method == request.method:
                owner = auth.authenticate(request.headers.get("authorization"), self.auth)
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                return handler(request, owner, params)
        allowed = ", ".join(sorted({m for m, _, _ in matches}))
        return HttpResponse(
            405,
            {
                "error": f"Method {request.method} is not allowed on {path}",
                "code": "METHOD_NOT_ALLOWED",
            },
            {"Allow": allowed},
        )

    def _submit(self, request: HttpRequest, owner: str, _: dict[str, str]) -> HttpResponse:
        receipt = self.service.submit_job(owner, request.body)
        body = {
            "message": SUBMITTED,
            "jobId": receipt.key.job_id,
            "toonsCount": receipt.toons_count,
            "status": "Processing",
        }
        headers = {"Idempotent-Replay": "true"} if receipt.replayed else {}
        return HttpResponse(202, body, headers)

    def _job_status(self, _: HttpRequest, owner: str, params: dict[str, str]) -> HttpResponse:
        return HttpResponse(200, self.service.job(owner, params["jobId"]).status_view())

    def _results(self, request: HttpRequest, owner: str, _: dict[str, str]) -> HttpResponse:
        query = request.query
        job, page = self.service.results(
            owner, query.get("jobId"), query.get("limit"), query.get("nextToken")
        )
        return HttpResponse(
            200,
            {
                "jobId": job.key.job_id,
                "jobStatus": str(job.status),
                "totalToons": job.total,
                "resultsCount": len(page.items),
                "results": [result.to_dict() for result in page.items],
                "nextToken": paging.encode(page.next_position),
            },
        )

    def _list_jobs(self, request: HttpRequest, owner: str, _: dict[str, str]) -> HttpResponse:
        page = self.service.jobs(owner, request.query.get("limit"), request.query.get("nextToken"))
        return HttpResponse(
            200,
            {
                "jobs": [summary.to_dict() for summary in page.items],
                "count": len(page.items),
                "nextToken": paging.encode(page.next_position),
            },
        )
