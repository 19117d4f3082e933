"""Property-based fuzzing of request headers other than Authorization, on every backend.

Garbage Content-Type, Accept, forwarding and tracing headers, made-up header names and
values up to 60 KB, on every route with a valid token: the answer is never a 5xx and
every 4xx carries the contract's `{"error", "code"}` body. Body framing headers
(Content-Length, Transfer-Encoding) are left to the HTTP edge tests.

Past what the standard library's HTTP server accepts (a header line over 64 KiB, more
than 100 headers, a request line over 64 KiB), `toons local` answers with an HTML page
instead of the contract's JSON error: those tests are expected to fail until the local
server shapes those answers too.
"""

from __future__ import annotations

import http.client
import json
import uuid
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import assert_well_formed
from toons.bench.sample import sample_toons

FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
KNOWN_NAMES = [
    "Content-Type",
    "content-type",
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Accept-Charset",
    "User-Agent",
    "Cookie",
    "Origin",
    "Referer",
    "Host",
    "Connection",
    "Expect",
    "Range",
    "If-None-Match",
    "Cache-Control",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Real-IP",
    "X-Amzn-Trace-Id",
    "X-Request-Id",
    "X-HTTP-Method-Override",
    "X-User-Id",
    "Idempotent-Replay",
    "Forwarded",
]
FRAMING = {"content-length", "transfer-encoding", "authorization"}

header_names = st.sampled_from(KNOWN_NAMES) | st.from_regex(
    r"[A-Za-z][A-Za-z0-9-]{0,30}", fullmatch=True
)
# Any Latin-1 text without line breaks (what a header value can carry on the wire).
latin1 = st.characters(min_codepoint=0, max_codepoint=0xFF, exclude_characters="\r\n")
header_values = st.one_of(
    st.text(latin1, max_size=200),
    st.sampled_from(
        [
            "application/xml",
            "text/plain; charset=utf-16",
            "multipart/form-data; boundary=--",
            "application/json; charset=ebcdic",
            "*/*;q=-1",
            "100-continue",
            "close",
            "bytes=0-0,-1",
            "' OR 1=1 --",
            "${jndi:ldap://x/a}",
            "../../../../etc/passwd",
        ]
    ),
    st.builds(lambda c, n: c * n, st.sampled_from("aZ0;,= "), st.integers(1_000, 60_000)),
)
headers = st.dictionaries(
    header_names.filter(lambda n: n.lower() not in FRAMING), header_values, max_size=8
)
routes = st.sampled_from(["submit", "status", "results", "list"])


def _request(client, route: str, sent: dict[str, str]):
    if route == "submit":
        job = {"jobId": f"FUZZ-{uuid.uuid4().hex[:12]}", "toons": sample_toons(1)}
        return client.request("POST", "/submit-job", json.dumps(job).encode(), headers=sent)
    path = {"status": "/jobs/NO-SUCH-JOB", "results": "/results?jobId=X", "list": "/jobs"}[route]
    return client.request("GET", path, headers=sent)


@FUZZ
@given(route=routes, sent=headers)
def test_any_other_headers_never_get_a_5xx_or_a_shapeless_4xx(backend, route, sent):
    client = backend.client("header-fuzzer")

    reply = _request(client, route, sent)

    assert_well_formed(reply)


@FUZZ
@given(content_type=header_values)
def test_any_content_type_on_a_valid_submit_is_accepted_or_refused_cleanly(backend, content_type):
    client = backend.client("content-type-fuzzer")

    reply = _request(client, "submit", {"Content-Type": content_type})

    assert_well_formed(reply)
    assert reply.status in (202, 400, 413, 415), reply.body


def test_a_header_value_just_under_the_line_limit_is_served(backend):
    client = backend.client("big-header")

    reply = _request(client, "list", {"X-Padding": "a" * 60_000})

    assert reply.status == 200


def _raw(url: str, method: str, path: str, header_lines: list[tuple[str, str]]):
    """Send one request with exactly these headers; the status, content type and body."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest(method, path)
        for name, value in header_lines:
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        conn.close()


def _assert_contract_error(status: int, content_type: str, body: bytes) -> None:
    assert 400 <= status < 500
    assert content_type.startswith("application/json"), (status, content_type, body[:80])
    decoded = json.loads(body)
    assert decoded["error"] and decoded["code"]


def test_a_header_line_over_the_local_servers_limit_gets_a_contract_error(local_backend):
    process = local_backend.process
    auth = ("Authorization", f"Bearer {local_backend.token('big-header')}")

    answer = _raw(process.url, "GET", "/jobs", [auth, ("X-Padding", "a" * 70_000)])

    _assert_contract_error(*answer)


def test_more_headers_than_the_local_server_takes_get_a_contract_error(local_backend):
    process = local_backend.process
    auth = ("Authorization", f"Bearer {local_backend.token('many-headers')}")

    answer = _raw(process.url, "GET", "/jobs", [auth, *((f"X-H{n}", "v") for n in range(120))])

    _assert_contract_error(*answer)


def test_a_request_line_over_the_local_servers_limit_gets_a_contract_error(local_backend):
    process = local_backend.process
    auth = ("Authorization", f"Bearer {local_backend.token('long-url')}")

    answer = _raw(process.url, "GET", "/results?jobId=" + "J" * 70_000, [auth])

    _assert_contract_error(*answer)
