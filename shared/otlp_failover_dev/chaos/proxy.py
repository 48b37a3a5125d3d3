"""A fault proxy: an HTTP reverse proxy on 127.0.0.1 that forwards to one upstream, or fails
on command the way a cloud service fails, at the network level.

The chaos runs put one in front of moto's server for S3 and one for DynamoDB (boto3 finds
them through ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL_DYNAMODB``), so the gateway's own
clients, retries and error handling meet the fault rather than a patched function.

    forward   pass the request to the upstream and its answer back
    refuse    the listening socket is closed: connections are refused (open ones are reset)
    reset     the request is read, then the connection is reset
    answer    a canned response: a service's throttling or unavailable error
    hang      no answer until the fault is lifted or the proxy stops; then a reset

A fault may be limited to some methods (S3 writes are PUTs); other requests are forwarded.
``serialize`` forwards one request at a time: moto evaluates a DynamoDB condition and then
applies the update without a lock, so two racing conditional writes can both succeed, which
DynamoDB never allows on one item. Serialized, moto keeps DynamoDB's promise.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Self, cast
from urllib.parse import urlsplit

from otlp_failover_dev.http_relay import RelayServer, end_to_end, send_reply

KINDS = ("forward", "refuse", "reset", "answer", "hang")
UPSTREAM_TIMEOUT = 30.0
HANG_LIMIT = 3600.0


@dataclass(frozen=True)
class Fault:
    kind: str = "forward"
    status: int = 503  # for "answer"
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    methods: frozenset[str] = frozenset()  # empty: every method

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {', '.join(KINDS)}")

    def applies(self, method: str) -> bool:
        return self.kind != "forward" and (not self.methods or method in self.methods)


FORWARD = Fault()


class FaultProxy:
    """Start with ``start()`` or ``with``; ``upstream`` may be set after the start (the
    proxy's URL has to be in the environment before moto's port is known)."""

    def __init__(
        self,
        name: str,
        host: str = "127.0.0.1",
        upstream: str | None = None,
        *,
        serialize: bool = False,
    ) -> None:
        self.name = name
        self.serialize = serialize
        self._forwarding = threading.Lock()  # held per forwarded request when serializing
        self.host = host
        self.port = 0
        self.upstream = upstream
        self.fault = FORWARD
        self.seen: Counter[str] = Counter()  # requests by operation (X-Amz-Target or method)
        self.faulted = 0  # requests the fault answered, reset or held
        self._lifted = threading.Event()  # set when the current fault ends: hanging requests go
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._stopped = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        self._server = self._listen()
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._lifted.set()
            self._close()

    def __enter__(self) -> Self:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set(self, fault: Fault) -> None:
        """Apply ``fault`` from now on (``FORWARD`` heals)."""
        with self._lock:
            self._lifted.set()
            self._lifted = threading.Event()
            self.fault = fault
            if fault.kind == "refuse":
                self._close()
            elif self._server is None and self.port and not self._stopped:
                self._server = self._listen()

    def heal(self) -> None:
        self.set(FORWARD)

    def admit(self, method: str, operation: str) -> tuple[Fault | None, threading.Event]:
        """Count one request; the fault it meets (None: forward it) and the event that
        ends that fault (a hanging request waits for it)."""
        with self._lock:
            faulted = self.fault.applies(method)
            self.seen[operation] += 1
            self.faulted += faulted
            return (self.fault if faulted else None), self._lifted

    def turn(self) -> AbstractContextManager[object]:
        """Held while one request is forwarded: one at a time when serializing."""
        return self._forwarding if self.serialize else nullcontext()

    def _listen(self) -> _Server:
        server = _Server((self.host, self.port), self)
        threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"proxy-{self.name}",
            daemon=True,
        ).start()
        return server

    def _close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _Server(RelayServer):
    def __init__(self, address: tuple[str, int], proxy: FaultProxy) -> None:
        super().__init__(address, _Handler)
        self.proxy = proxy


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as boto3's pool uses it
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a proxy line per AWS call would bury the run's own output."""

    def _serve(self) -> None:
        proxy = cast(_Server, self.server).proxy
        target = self.headers.get("X-Amz-Target", "")
        fault, lifted = proxy.admit(self.command, target.rsplit(".", 1)[-1] or self.command)
        if fault is not None and fault.kind == "refuse":  # a keep-alive connection from before
            return self._abort()
        body = self._body()
        if fault is None:
            with proxy.turn():
                return self._forward(proxy.upstream, body)
        if fault.kind == "answer":
            return self._send(fault.status, list(fault.headers), fault.body)
        if fault.kind == "hang":
            lifted.wait(HANG_LIMIT)
        return self._abort()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _serve

    def _forward(self, upstream: str | None, body: bytes) -> None:
        if upstream is None:
            return self._send(502, [("Content-Type", "text/plain")], b"no upstream yet")
        target = urlsplit(upstream)
        headers = dict(end_to_end(self.headers.items()))
        headers["Host"] = target.netloc
        connection = http.client.HTTPConnection(
            target.hostname or "127.0.0.1",
            target.port,
            timeout=UPSTREAM_TIMEOUT,
        )
        try:
            connection.request(self.command, self.path, body=body or None, headers=headers)
            reply = connection.getresponse()
            data = reply.read()
        except OSError:  # the upstream failed: the client sees what it would see from AWS
            return self._abort()
        finally:
            connection.close()
        kept = end_to_end(reply.getheaders())
        return self._send(reply.status, kept, data)

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline(16)  # the CRLF after each chunk
            while self.rfile.readline(65536).strip():
                pass  # trailers end at an empty line
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        send_reply(self, status, headers, body)

    def _abort(self) -> None:
        # SO_LINGER 0: close() sends a TCP RST, as when a load balancer drops a connection.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True
