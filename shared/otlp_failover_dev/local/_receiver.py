"""The HTTP side of the local backend: read, decode and answer as a real OTLP receiver would.

Bodies are decoded by the gateway's own codec, so the backend and the gateway agree on
what is a valid export (400, 413, 415 alike).
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import sys
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast

from otlp_failover.codec import (
    MediaType,
    check_ids,
    decode_export,
    export_response_body,
    status_body,
)
from otlp_failover.errors import RequestError
from otlp_failover.signals import Signal

if TYPE_CHECKING:
    from otlp_failover_dev.local.backend import Mode, OtlpBackend

log = logging.getLogger("otlp_failover_dev.local.backend")


@dataclass(frozen=True)
class ReceivedExport:
    signal: Signal
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes  # as received: still gzipped if it came gzipped
    content_type: str
    content_encoding: str
    message: Any  # the decoded Export*ServiceRequest
    items: int  # spans, data points or log records


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True  # a hanging request must not hold up stop()

    def __init__(self, address: tuple[str, int], backend: OtlpBackend) -> None:
        super().__init__(address, _Handler)
        self.backend = backend

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or drop connections are what this server is for: not errors.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            log.exception("local backend: error while serving %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as OTLP exporters use it
    server_version = "otlp-failover-local-backend"
    timeout = 60  # idle keep-alive connections do not pin a thread forever

    @property
    def backend(self) -> OtlpBackend:
        return cast(ReceiverServer, self.server).backend

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/control":
            self._json(200, self.backend.stats())
        else:
            self._error(404, f"no route for GET {self.path}")

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        if path == "/control":
            return self._command()
        self.backend.note_request()
        body = self._misbehave(self.backend.active_mode)
        if body is not None and self._authorized():
            self._accept(path, body)
        return None

    def _authorized(self) -> bool:
        """The demanded credentials are there; otherwise a 401 has answered."""
        if self.backend.credentials_ok({k.lower(): v for k, v in self.headers.items()}):
            return True
        self.backend.note_unauthorized()
        self._error(401, "missing or wrong credentials")
        return False

    def _misbehave(self, mode: Mode) -> bytes | None:
        """The body when the request is to be served; None once ``mode`` has answered it."""
        if mode.name in ("refuse", "reset"):
            self._abort()  # a refusing backend's open keep-alive connections die too
            return None
        if mode.name == "hang":
            self.backend.stopping.wait(mode.wait)
            self._abort()
            return None
        body = self._body()
        if body is None or self._answered_instead(mode):
            return None
        return body

    def _answered_instead(self, mode: Mode) -> bool:
        """Modes that answer (or never finish answering) a request that was read whole."""
        if mode.name == "slow" and self.backend.stopping.wait(mode.wait):
            self._abort()
            return True
        if mode.name == "drip":
            self._drip(mode)
            return True
        if mode.name in ("status", "throttle", "garbage"):
            status = {"status": mode.status, "throttle": 429}.get(mode.name, 503)
            retry_after = {"throttle": str(mode.retry_after), "garbage": mode.retry_after_text}
            message = f"backend told to {mode.name} ({status})"
            self._error(status, message, retry_after.get(mode.name))
            return True
        return False

    def _drip(self, mode: Mode) -> None:
        """A status line, then a header that never ends, one byte per ``period``."""
        self.close_connection = True
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
            self.wfile.flush()
            ends = time.monotonic() + mode.wait
            while time.monotonic() < ends and not self.backend.stopping.wait(mode.period):
                self.wfile.write(b"z")
                self.wfile.flush()
        except OSError:
            return  # the client gave up: what a deadline is for

    def _accept(self, path: str, body: bytes) -> None:
        signal = Signal.from_path(path)
        if signal is None:
            return self._error(404, f"no route for POST {path}")
        content_type = self.headers.get("Content-Type", "")
        encoding = self.headers.get("Content-Encoding", "")
        limit = self.backend.max_decompressed_bytes
        try:
            decoded = decode_export(
                signal, body, content_type, encoding, max_decompressed_bytes=limit
            )
            check_ids(decoded)  # as a collector does: ids of the wrong length are a 400
        except RequestError as exc:
            return self._error(exc.status, exc.message)
        marker = self.backend.active_mode.reject_containing
        if marker and marker.encode() in decoded.message.SerializeToString():
            return self._error(400, f"payload holds {marker!r}, which this backend refuses")
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.backend.note_export(
            ReceivedExport(
                signal,
                path,
                headers,
                body,
                content_type,
                encoding,
                decoded.message,
                decoded.item_count,
            )
        )
        media = self._media()
        return self._send(200, export_response_body(signal, media, self._partial(signal)), media)

    def _partial(self, signal: Signal) -> Any:
        mode = self.backend.active_mode
        if not mode.partial_rejected and not mode.partial_message:
            return None
        partial = signal.response_class().partial_success
        rejected = {"traces": "rejected_spans", "metrics": "rejected_data_points"}
        setattr(partial, rejected.get(signal.value, "rejected_log_records"), mode.partial_rejected)
        partial.error_message = mode.partial_message
        return partial

    def _command(self) -> None:
        try:
            raw = json.loads(self._body() or b"{}")
            if raw.pop("clear", False):
                self.backend.clear()
            if "require_headers" in raw:
                self.backend.require_headers(raw.pop("require_headers") or {})
            if "mode" in raw:
                self.backend.set_mode(raw.pop("mode"), **raw)
        except (ValueError, TypeError, AttributeError) as exc:
            return self._json(400, {"error": str(exc)})
        return self._json(200, self.backend.stats())

    def _body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True  # the unread chunks must not pass for a next request
            self._error(411, "send a Content-Length")
            return None
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _media(self) -> MediaType:
        """Answers are in the request's content type; protobuf when it is neither."""
        media = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        return MediaType.JSON if media == MediaType.JSON else MediaType.PROTOBUF

    def _error(self, status: int, message: str, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        media = self._media()
        self._send(status, status_body(status, message, media), media, headers)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value).encode(), MediaType.JSON)

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _abort(self) -> None:
        # SO_LINGER 0 makes close() send a TCP RST: the client sees "connection reset by
        # peer", as when a backend process dies or a load balancer drops the connection.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True
