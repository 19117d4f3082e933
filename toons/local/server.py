"""The local HTTP front door: a threaded standard-library server in front of `Api`."""

from __future__ import annotations

import logging
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from toons.api import Api, HttpRequest, HttpResponse, error_response
from toons.errors import InvalidInput, LimitExceeded

log = logging.getLogger(__name__)

# A refused body up to this size is read and dropped so that the client, still sending,
# can read the 413; past it the connection is simply closed.
DISCARD_LIMIT = 64 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    server_version = "toons"
    protocol_version = "HTTP/1.1"
    api: Api

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _serve(self) -> None:
        body = self._body()
        if isinstance(body, HttpResponse):
            self._send(body, close=True)
            return
        url = urlsplit(self.path)
        request = HttpRequest(
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        self._send(self.api.handle(request))

    def handle_expect_100(self) -> bool:
        """Refuse an oversized body before the client sends it (curl asks first)."""
        refusal = self._refusal()
        if refusal is None:
            return super().handle_expect_100()
        self._send(refusal, close=True)
        return False

    def _refusal(self) -> HttpResponse | None:
        """The answer when Content-Length is unusable or over the limit, else None."""
        raw = self.headers.get("Content-Length", "0").strip() or "0"
        limit = self.api.service.limits.max_body_bytes
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            error = InvalidInput("LENGTH_REQUIRED", "Send the body with a Content-Length header")
            return error_response(error)
        if not raw.isascii() or not raw.isdigit():
            error = InvalidInput("INVALID_CONTENT_LENGTH", "Header Content-Length is not valid")
            return error_response(error)
        if int(raw) > limit:
            error = LimitExceeded(
                "BODY_TOO_LARGE", f"Body is larger than the limit of {limit} bytes"
            )
            return error_response(error)
        return None

    def _body(self) -> bytes | HttpResponse:
        """The request body, or the answer when its length is unusable or too large."""
        refusal = self._refusal()
        if refusal is None:
            return self.rfile.read(int(self.headers.get("Content-Length", "0").strip() or "0"))
        if refusal.status == 413:
            self._discard(int(self.headers["Content-Length"]))
        return refusal

    def _discard(self, length: int) -> None:
        """Read and drop a refused body, up to a bound, so the client reads our answer."""
        remaining = min(length, DISCARD_LIMIT)
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                return
            remaining -= len(chunk)

    def _send(self, response: HttpResponse, close: bool = False) -> None:
        payload = response.encoded()
        self.send_response(response.status)
        for name, value in response.all_headers().items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if getattr(self, "command", None) != "HEAD":
            self.wfile.write(payload)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own refusals, in the contract's JSON error shape.

        They are: an oversized header or request line, an unknown method, a malformed
        request line.
        """
        status = HTTPStatus(code)
        body = {"error": message or status.phrase, "code": status.name}
        self._send(HttpResponse(code, body), close=True)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("http request", extra={"client": self.client_address[0], "line": format % args})


class LocalServer(ThreadingHTTPServer):
    """A `ThreadingHTTPServer` answering through one `Api`."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, api: Api) -> None:
        handler = type("Handler", (_Handler,), {"api": api})
        super().__init__((host, port), handler)

    @property
    def url(self) -> str:
        """The base URL clients use."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"
