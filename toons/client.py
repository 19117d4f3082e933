"""A small HTTP client for the toon API, for operators' commands, benchmarks and tests."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit


@dataclass(frozen=True, slots=True)
class Reply:
    """A status, decoded JSON body and headers."""

    status: int
    body: Any
    headers: dict[str, str]


class Client:
    """Calls one toon API with one bearer token, over a kept-alive connection."""

    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = 60) -> None:
        url = urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.prefix = url.path.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """Send one request; reconnects once if a kept-alive connection was dropped."""
        sent = {"Content-Type": "application/json", **(headers or {})}
        if self.token and "Authorization" not in sent:
            sent["Authorization"] = f"Bearer {self.token}"
        for attempt in (1, 2):
            try:
                return self._send(method, self.prefix + path, body, sent)
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Reply:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        self._conn.request(method, path, body=body, headers=headers)
        response = self._conn.getresponse()
        raw = response.read()
        decoded = json.loads(raw) if raw else None
        return Reply(response.status, decoded, {k.lower(): v for k, v in response.getheaders()})

    def close(self) -> None:
        """Drop the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def submit(self, job: dict[str, Any] | bytes) -> Reply:
        """POST /submit-job."""
        body = job if isinstance(job, bytes) else json.dumps(job).encode()
        return self.request("POST", "/submit-job", body)

    def status(self, job_id: str) -> Reply:
        """GET /jobs/{jobId}."""
        return self.request("GET", f"/jobs/{quote(job_id, safe='')}")

    def results(self, job_id: str, **params: Any) -> Reply:
        """GET /results?jobId=... (plus limit, nextToken)."""
        return self.request("GET", "/results?" + urlencode({"jobId": job_id, **params}))

    def jobs(self, **params: Any) -> Reply:
        """GET /jobs (limit, nextToken)."""
        return self.request("GET", "/jobs" + (f"?{urlencode(params)}" if params else ""))

    def all_results(self, job_id: str, page_size: int = 1000) -> list[dict[str, Any]]:
        """Every result of a job, following nextToken."""
        results, token = [], None
        while True:
            params = {"limit": page_size, **({"nextToken": token} if token else {})}
            reply = self.results(job_id, **params)
            if reply.status != 200:
                raise RuntimeError(f"GET /results answered {reply.status}: {reply.body}")
            results += reply.body["results"]
            token = reply.body["nextToken"]
            if not token:
                return results

    def wait(
        self,
        job_id: str,
        timeout_s: float = 120,
        poll_s: float = 0.01,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        settled: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """Poll a job until it is terminal (or `settled` says so); returns its last status."""
        settled = settled or (lambda body: body["progress"]["completed"])
        deadline = time.monotonic() + timeout_s
        while True:
            reply = self.status(job_id)
            if reply.status != 200:
                raise RuntimeError(f"GET /jobs/{job_id} answered {reply.status}: {reply.body}")
            if on_progress:
                on_progress(reply.body)
            if settled(reply.body):
                return reply.body
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} not settled after {timeout_s}s: {reply.body}")
            self._pause(poll_s)

    def _pause(self, seconds: float) -> None:
        """Wait between polls (a driver of an in-process backend works instead)."""
        time.sleep(seconds)
