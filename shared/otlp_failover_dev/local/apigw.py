"""API Gateway HTTP API emulation: HTTP request -> payload-2.0 event -> handler -> HTTP reply.

It enforces what AWS enforces, so the local stack fails where AWS would: a 10 MB request
quota, Lambda's 6 MB invocation payload (the whole event, base64 body included) and the
30 s integration timeout, with API Gateway's own answers for each. Extra local routes
(``GET /metrics``) bypass the handler: they are served by the emulator itself.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, cast
from urllib.parse import urlsplit

from otlp_failover_dev.local._payload import LambdaContext, Reply, build_event, http_reply

__all__ = [
    "HttpApiEmulator",
    "LambdaContext",
    "LocalRequest",
    "LocalResponse",
    "LocalRoute",
    "build_event",
    "http_reply",
]

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's request payload quota
MAX_EVENT_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload (6,291,456 bytes)
INTEGRATION_TIMEOUT = 30.0  # HTTP API's maximum integration timeout
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class LocalRequest:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # names lower-cased
    body: bytes


@dataclass(frozen=True)
class LocalResponse:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


LocalRoute = Callable[[LocalRequest], LocalResponse]


def _message(status: int, message: str) -> Reply:
    body = json.dumps({"message": message}, separators=(",", ":")).encode()  # API GW's bytes
    return status, [("content-type", "application/json")], body


class HttpApiEmulator:
    """An HTTP API with a $default route to ``handler``; ``port=0`` picks a free port."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = INTEGRATION_TIMEOUT,
        function_name: str = "ingest",
        routes: Mapping[str, LocalRoute] | None = None,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        max_event_bytes: int = MAX_EVENT_BYTES,
    ) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.timeout = timeout
        self.function_name = function_name
        self.routes: dict[str, LocalRoute] = dict(routes or {})
        self.max_request_bytes = max_request_bytes
        self.max_event_bytes = max_event_bytes
        self._server: _Server | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def add_route(self, path: str, route: LocalRoute) -> None:
        self.routes[path] = route

    def start(self) -> Self:
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def invoke(self, event: dict[str, Any]) -> Reply:
        """Run the handler as Lambda would, answering as API Gateway does when it fails."""
        if len(json.dumps(event)) > self.max_event_bytes:
            return _message(413, "Request Entity Too Large")
        context = LambdaContext(self.function_name, str(uuid.uuid4()), 0.0)
        outcome: list[Any] = []

        def run() -> None:
            context.deadline = time.monotonic() + self.timeout
            try:
                outcome.append(self.handler(event, context))
            except Exception:
                log.exception("the %s handler raised", self.function_name)

        # A daemon thread: Lambda would kill a timed-out invocation; here it is abandoned.
        worker = threading.Thread(target=run, name=f"lambda-{context.aws_request_id}")
        worker.daemon = True
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            log.error("the %s handler ran over %ss", self.function_name, self.timeout)
            return _message(503, "Service Unavailable")
        if not outcome:
            return _message(500, "Internal Server Error")
        try:
            # Lambda serialises the result as JSON: what does not survive that fails there too.
            text = json.dumps(outcome[0])
            if len(text) > self.max_event_bytes:
                raise ValueError(f"{len(text)} bytes is over Lambda's 6 MB response limit")
            return http_reply(json.loads(text))
        except (TypeError, ValueError) as exc:
            log.error("the %s handler's response is unusable: %s", self.function_name, exc)
            return _message(500, "Internal Server Error")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: HttpApiEmulator) -> None:
        super().__init__(address, _Handler)
        self.api = api

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gives up (its own timeout) is routine; anything else is a bug here.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            log.exception("local HTTP API: error while serving %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "otlp-failover-local-apigw"
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _serve(self) -> None:
        api = cast(_Server, self.server).api
        try:
            body = self._read_body(api.max_request_bytes)
        except ValueError:  # a malformed Content-Length or chunk size
            self.close_connection = True
            return self._reply(*_message(400, "Bad Request"))
        if body is None:
            return self._reply(*_message(413, "Request Entity Too Large"))
        route = api.routes.get(urlsplit(self.path).path)
        if route is not None:
            return self._reply(*self._local(route, body))
        event = build_event(
            self.command,
            self.path,
            list(self.headers.items()),
            body,
            source_ip=self.client_address[0],
        )
        event["headers"].setdefault("x-forwarded-port", str(api.port))
        return self._reply(*api.invoke(event), event["requestContext"]["requestId"])

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def _local(self, route: LocalRoute, body: bytes) -> Reply:
        url = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            response = route(LocalRequest(self.command, url.path, url.query, headers, body))
        except Exception:
            log.exception("local route %s failed", url.path)
            return _message(500, "Internal Server Error")
        extra = [(k, v) for k, v in response.headers.items()]
        return response.status, [("content-type", response.content_type), *extra], response.body

    def _read_body(self, limit: int) -> bytes | None:
        """The request body, or None when it is over ``limit`` (read and dropped, so that
        the client gets the 413 instead of a reset while it is still sending)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(limit)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length <= limit:
            return self.rfile.read(length)
        while length > 0 and (chunk := self.rfile.read(min(length, 1 << 20))):
            length -= len(chunk)
        return None

    def _read_chunked(self, limit: int) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while size := int(self.rfile.readline(1024).split(b";")[0].strip(), 16):
            total += size
            chunk = self.rfile.read(size)
            if total <= limit:
                chunks.append(chunk)
            self.rfile.readline(16)  # the CRLF after each chunk
        while self.rfile.readline(65536).strip():
            pass  # trailers end at an empty line
        return b"".join(chunks) if total <= limit else None

    def _reply(
        self, status: int, headers: list[tuple[str, str]], body: bytes, request_id: str = ""
    ) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if request_id:
            self.send_header("apigw-requestid", request_id)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
