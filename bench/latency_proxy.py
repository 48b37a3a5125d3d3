"""A latency proxy: forwards every HTTP request to one upstream after a fixed delay.

moto answers in well under a millisecond of network time; S3 across a region's network
answers tens of milliseconds later. Put in front of moto (boto3 finds it through
``AWS_ENDPOINT_URL_S3``), it makes the drain's reads wait as they wait on AWS, so a bench
can tell a drain bound by latency from one bound by CPU. It is the chaos fault proxy's
kind (``otlp_failover_dev.chaos.proxy``, whose header rules it shares through
``otlp_failover_dev.http_relay``) cut down to that one job, with one keep-alive
upstream connection per client connection, so the emulator is not handed a new connection
per request (which would add CPU of its own to what is measured).

Run as ``python -m bench.latency_proxy UPSTREAM_URL DELAY_MS``: it prints ``port <n>`` and
serves until stdin closes. It runs in its own process, so its CPU is not the measured one's.
"""

from __future__ import annotations

import http.client
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any, cast
from urllib.parse import urlsplit

from otlp_failover_dev.http_relay import RelayServer, end_to_end, send_reply

UPSTREAM_TIMEOUT = 60.0


class LatencyProxy(RelayServer):
    """Serves on ``127.0.0.1`` (port 0: any free one); ``sleep`` is how the delay is spent."""

    def __init__(
        self,
        upstream: str,
        delay_seconds: float,
        port: int = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        target = urlsplit(upstream)
        if target.scheme != "http" or not target.hostname or not target.port:
            raise ValueError(f"the upstream must be http://host:port, not {upstream!r}")
        if delay_seconds < 0:
            raise ValueError(f"the delay must not be negative ({delay_seconds})")
        self.upstream_host, self.upstream_port = target.hostname, target.port
        self.upstream_netloc = target.netloc
        self.delay = delay_seconds
        self.sleep = sleep
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as boto3's pool uses it
    timeout = 120
    _upstream: http.client.HTTPConnection | None = None

    def setup(self) -> None:
        super().setup()
        _no_delay(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a line per AWS call would bury the bench's own output."""

    def _serve(self) -> None:
        proxy = cast(LatencyProxy, self.server)
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            # boto3 sends S3 requests with a Content-Length; nothing else comes here.
            self.close_connection = True
            return self._send(411, [("Content-Type", "text/plain")], b"Content-Length required")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        proxy.sleep(proxy.delay)
        try:
            status, headers, data = self._forward(proxy, body)
        except OSError as exc:
            self.close_connection = True
            return self._send(502, [("Content-Type", "text/plain")], f"upstream: {exc}".encode())
        return self._send(status, headers, data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

    def _forward(
        self, proxy: LatencyProxy, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = dict(end_to_end(self.headers.items()))
        headers["Host"] = proxy.upstream_netloc
        for attempt in (1, 2):  # the kept connection may have been closed by the upstream
            connection = self._connection(proxy, fresh=attempt == 2)
            try:
                connection.request(self.command, self.path, body=body or None, headers=headers)
                reply = connection.getresponse()
                data = reply.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                if attempt == 2:
                    raise
                continue
            kept = end_to_end(reply.getheaders())
            return reply.status, kept, data
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _connection(self, proxy: LatencyProxy, fresh: bool) -> http.client.HTTPConnection:
        if fresh or self._upstream is None:
            if self._upstream is not None:
                self._upstream.close()
            self._upstream = http.client.HTTPConnection(
                proxy.upstream_host, proxy.upstream_port, timeout=UPSTREAM_TIMEOUT
            )
            self._upstream.connect()
            _no_delay(self._upstream.sock)
        return self._upstream

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        send_reply(self, status, headers, body)

    def finish(self) -> None:
        super().finish()
        if self._upstream is not None:
            self._upstream.close()


def _no_delay(sock: socket.socket) -> None:
    """Small writes go out at once: with Nagle's algorithm a response written as headers
    then body waits for the peer's delayed ACK, about 40 ms more on every request."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def main() -> None:
    upstream, delay_ms = sys.argv[1], float(sys.argv[2])
    proxy = LatencyProxy(upstream, delay_ms / 1000)
    threading.Thread(target=proxy.serve_forever, daemon=True, name="latency-proxy").start()
    sys.stdout.write(f"port {proxy.server_address[1]}\n")
    sys.stdout.flush()
    sys.stdin.read()  # serve until the parent closes our stdin
    proxy.shutdown()
    proxy.server_close()


if __name__ == "__main__":
    main()
