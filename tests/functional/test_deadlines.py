"""Absolute deadlines against a real backend that drips its answer one byte at a time.

Without the watchdog each byte arrives inside urllib3's per-read timeout, so a dripping
status line or header block holds an export for as long as the backend likes.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from otlp_failover.codec import ExportBody, MediaType
from otlp_failover.exporters.otlphttp import OtlpHttpExporter, new_pool
from otlp_failover.failover.outcomes import Outcome
from otlp_failover.settings.chain import OtlpHttpConfig, RetryConfig
from otlp_failover.signals import Signal

DRIP_SECONDS = 0.1  # one byte this often: each read succeeds well inside the timeout
TIMEOUT = 1.0
SERVER_GIVES_UP = 20.0  # the dripping server stops by itself, whatever the client does


@dataclass
class DripServer:
    """Answers every request by sending ``head`` whole, then ``drip`` one byte at a time."""

    head: bytes
    drip: bytes
    listener: socket.socket = field(default_factory=socket.socket)
    connections: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        host, port = self.listener.getsockname()
        return f"http://{host}:{port}"

    def start(self) -> None:
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.listener.settimeout(0.2)
        threading.Thread(target=self._serve, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self.listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        ends = time.monotonic() + SERVER_GIVES_UP
        with conn:
            conn.settimeout(1.0)
            try:
                conn.recv(65536)  # the request (small): its content is not needed here
                conn.sendall(self.head)
                for byte in self.drip:
                    if self._stop.is_set() or time.monotonic() > ends:
                        return
                    conn.sendall(bytes([byte]))
                    time.sleep(DRIP_SECONDS)
            except OSError:
                return  # the client cut the connection: what the deadline is for


def drip_server(head: bytes, drip: bytes) -> Iterator[DripServer]:
    server = DripServer(head, drip)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def dripping_headers() -> Iterator[DripServer]:
    yield from drip_server(b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"z" * 10_000 + b"\r\n\r\n")


@pytest.fixture
def dripping_body() -> Iterator[DripServer]:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 9000\r\n\r\n"
    )
    yield from drip_server(head, b"\x00" * 9000)


def exporter(url: str, retry: bool = False) -> OtlpHttpExporter:
    config = OtlpHttpConfig(
        name="otlphttp/primary",
        endpoint=url,
        timeout=TIMEOUT,
        retry=RetryConfig(enabled=retry, max_elapsed_time=2.5),
    )
    return OtlpHttpExporter(config, new_pool())


def body() -> ExportBody:
    request = Signal.TRACES.request_class()
    return ExportBody(Signal.TRACES, MediaType.PROTOBUF, None, request, b"")


def test_a_dripping_header_block_is_cut_at_the_attempt_timeout(
    dripping_headers: DripServer,
) -> None:
    started = time.monotonic()
    result = exporter(dripping_headers.url).export(body(), time.monotonic() + 10)
    took = time.monotonic() - started
    assert (result.outcome, result.reason) == (Outcome.FAILED, f"no answer within {TIMEOUT}s")
    # The drip would last 1,000 s; the cut comes at the timeout (slack for a loaded machine).
    assert took < TIMEOUT + 2


def test_the_call_deadline_wins_over_a_longer_timeout(dripping_headers: DripServer) -> None:
    started = time.monotonic()
    result = exporter(dripping_headers.url).export(body(), time.monotonic() + 0.5)
    assert result.outcome is Outcome.FAILED
    assert time.monotonic() - started < 0.5 + 2


def test_retries_of_a_dripping_backend_stay_inside_the_retry_budget(
    dripping_headers: DripServer,
) -> None:
    started = time.monotonic()
    result = exporter(dripping_headers.url, retry=True).export(body(), time.monotonic() + 10)
    assert result.outcome is Outcome.FAILED and result.attempts >= 2
    assert time.monotonic() - started < 2.5 + TIMEOUT + 2  # budget, one more attempt, slack


def test_a_status_that_arrived_counts_even_when_the_body_drips_past_the_deadline(
    dripping_body: DripServer,
) -> None:
    result = exporter(dripping_body.url).export(body(), time.monotonic() + 10)
    # 200 means the backend took the export; the body (partial success) is not passed on.
    assert (result.outcome, result.status, result.body) == (Outcome.ACCEPTED, 200, b"")


def test_a_cut_connection_is_never_reused(dripping_headers: DripServer) -> None:
    client = exporter(dripping_headers.url)
    for _ in range(2):
        client.export(body(), time.monotonic() + 10)
    assert dripping_headers.connections == 2  # a fresh connection each time
