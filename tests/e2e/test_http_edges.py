"""HTTP details of the local front door that only a raw socket can show."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit


def exchange(url: str, raw: bytes, read_timeout_s: float = 10) -> tuple[int, dict]:
    """Send raw bytes, return the status and JSON body of the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=read_timeout_s) as sock:
        sock.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    return int(head.split()[1]), json.loads(body)


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def test_an_oversized_body_is_refused_before_it_is_sent(local):
    local.start()
    request = (
        f"POST /submit-job HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {local.token()}\r\n"
        "Content-Length: 99999999\r\nExpect: 100-continue\r\n\r\n"
    ).encode()

    status, body = exchange(local.url, request)

    assert (status, body["code"]) == (413, "BODY_TOO_LARGE")


def test_a_chunked_body_is_refused_with_a_clear_code(local):
    local.start()
    request = (
        f"POST /submit-job HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {local.token()}\r\n"
        "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    ).encode()

    status, body = exchange(local.url, request)

    assert (status, body["code"]) == (400, "LENGTH_REQUIRED")


def test_a_malformed_content_length_is_refused(local):
    local.start()
    request = (
        f"POST /submit-job HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {local.token()}\r\n"
        "Content-Length: twelve\r\n\r\n"
    ).encode()

    status, body = exchange(local.url, request)

    assert (status, body["code"]) == (400, "INVALID_CONTENT_LENGTH")
