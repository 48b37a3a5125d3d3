"""OtlpHttpExporter over a fake pool and a manual clock: outcomes, retries inside the budget,
Retry-After, the deadline, and the bounded response body."""

from __future__ import annotations

import gzip
import time
from dataclasses import dataclass, field, replace
from email.utils import formatdate
from typing import Any, cast

import pytest
import urllib3
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from urllib3.connection import HTTPConnection
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ProtocolError

from otlp_failover.codec import ExportBody, MediaType, status_body
from otlp_failover.exporters.headers import HeaderSource
from otlp_failover.exporters.otlphttp import MAX_RESPONSE_BYTES, USER_AGENT, OtlpHttpExporter
from otlp_failover.failover.outcomes import ExportResult, Outcome
from otlp_failover.settings.chain import OtlpHttpConfig, RetryConfig
from otlp_failover.signals import Signal
from tests.unit.fakes import ManualClock, export_body

REQUEST = ExportTraceServiceRequest()
REQUEST.resource_spans.add().scope_spans.add().spans.add().name = "checkout"
BODY = export_body(Signal.TRACES, REQUEST.SerializeToString())
DEADLINE = 30.0


@dataclass
class FakeResponse:
    """What the exporter reads of a urllib3 response."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    read_error: bool = False
    released: bool = False
    closed: bool = False
    _offset: int = 0

    def read(self, amt: int, decode_content: bool = True) -> bytes:
        assert decode_content
        if self.read_error:
            raise ProtocolError("Connection broken: IncompleteRead")
        chunk = self.body[self._offset : self._offset + amt]
        self._offset += len(chunk)
        return chunk

    def release_conn(self) -> None:
        self.released = True

    def close(self) -> None:
        self.closed = True


Reply = FakeResponse | Exception


@dataclass
class FakePool:
    """Answers ``replies`` in order, the last one again and again; each takes ``latency``."""

    clock: ManualClock
    replies: list[Reply]
    latency: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    responses: list[FakeResponse] = field(default_factory=list)
    cleared: bool = False

    def request(self, method: str, url: str, **kwargs: Any) -> FakeResponse:
        self.requests.append({"method": method, "url": url, "at": self.clock(), **kwargs})
        self.clock.advance(self.latency)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        response = replace(reply)  # a fresh copy: the last reply may be served again
        self.responses.append(response)
        return response

    def clear(self) -> None:
        self.cleared = True


def exporter(
    *replies: Reply,
    latency: float = 0.0,
    budget: float = 2.0,
    enabled: bool = True,
    headers: HeaderSource | None = None,
) -> tuple[OtlpHttpExporter, FakePool, ManualClock]:
    clock = ManualClock()
    pool = FakePool(clock, list(replies), latency)
    config = OtlpHttpConfig(
        name="otlphttp/primary",
        endpoint="https://otlp.example.com/",
        retry=RetryConfig(enabled=enabled, max_elapsed_time=budget),
    )
    client = OtlpHttpExporter(
        config,
        cast(urllib3.PoolManager, pool),
        headers or {"Authorization": "Bearer t0ken"},
        clock=clock,
        sleep=clock.sleep,
    )
    return client, pool, clock


def send(client: OtlpHttpExporter, retry: bool = True) -> ExportResult:
    return client.export(BODY, DEADLINE, retry=retry)


def test_the_request_carries_the_original_bytes_and_headers_to_the_signal_path() -> None:
    client, pool, _ = exporter(FakeResponse(200))
    assert send(client).outcome is Outcome.ACCEPTED
    (request,) = pool.requests
    assert (request["method"], request["url"]) == ("POST", "https://otlp.example.com/v1/traces")
    assert request["body"] == BODY.raw
    assert request["headers"] == {
        "User-Agent": USER_AGENT,
        "Authorization": "Bearer t0ken",
        "Content-Type": "application/x-protobuf",
    }
    assert (request["retries"], request["redirect"], request["preload_content"]) == (
        False,
        False,
        False,
    )


def test_a_gzipped_body_is_forwarded_as_it_came_with_its_encoding() -> None:
    client, pool, _ = exporter(FakeResponse(200))
    raw = gzip.compress(BODY.raw)
    client.export(ExportBody(Signal.TRACES, MediaType.PROTOBUF, "gzip", REQUEST, raw), DEADLINE)
    assert pool.requests[0]["body"] == raw
    assert pool.requests[0]["headers"]["Content-Encoding"] == "gzip"


@pytest.mark.parametrize("status", [408, 429, 502, 503, 504])
def test_a_retryable_status_is_retried_until_accepted(status: int) -> None:
    client, pool, _ = exporter(FakeResponse(status), FakeResponse(200))
    result = send(client)
    assert (result.outcome, result.status, result.attempts) == (Outcome.ACCEPTED, 200, 2)
    assert len(pool.requests) == 2


def test_retry_after_seconds_is_the_wait_before_the_next_attempt() -> None:
    throttled = FakeResponse(429, headers={"Retry-After": "1"})
    client, pool, clock = exporter(throttled, FakeResponse(200))
    assert send(client).accepted
    assert clock.sleeps == [1.0]
    assert [request["at"] for request in pool.requests] == [0.0, 1.0]


@pytest.mark.parametrize("value", ["0", "Thu, 01 Jan 1970 00:00:00 GMT"])
def test_a_retry_after_of_now_is_no_way_round_the_backoff(value: str) -> None:
    client, pool, clock = exporter(FakeResponse(503, headers={"Retry-After": value}))
    result = send(client)
    assert result.outcome is Outcome.FAILED
    assert all(wait >= 0.1 for wait in clock.sleeps)  # at least half the first backoff
    assert len(pool.requests) <= 10  # not one request per millisecond of the 2 s budget


def test_a_retry_after_beyond_the_budget_ends_the_retries_at_once() -> None:
    later = formatdate(time.time() + 60, usegmt=True)
    client, _, clock = exporter(FakeResponse(503, headers={"Retry-After": later}))
    result = send(client)
    assert (result.outcome, result.attempts, clock.sleeps) == (Outcome.FAILED, 1, [])
    assert result.retry_after is not None and 55 < result.retry_after <= 60


def test_the_budget_ends_the_retries() -> None:
    client, _, clock = exporter(FakeResponse(503, headers={"Retry-After": "1"}), budget=2.5)
    result = send(client)
    assert (result.outcome, result.status, result.attempts) == (Outcome.FAILED, 503, 3)
    assert clock.sleeps == [1.0, 1.0] and clock() == 2.0


def test_the_deadline_ends_the_retries_before_the_budget() -> None:
    client, pool, clock = exporter(FakeResponse(503, headers={"Retry-After": "1"}), budget=60)
    result = client.export(BODY, 1.5)
    assert (result.attempts, len(pool.requests), clock.sleeps) == (2, 2, [1.0])


def test_an_attempt_never_runs_past_the_deadline() -> None:
    client, pool, _ = exporter(FakeResponse(200))
    client.export(BODY, 3.0)
    assert pool.requests[0]["timeout"].total == 3.0  # not the 5 s configured


def test_a_deadline_already_reached_sends_nothing() -> None:
    client, pool, _ = exporter(FakeResponse(200))
    result = client.export(BODY, 0.01)
    assert (result.outcome, result.reason, pool.requests) == (
        Outcome.FAILED,
        "deadline reached",
        [],
    )


def test_the_backoff_doubles_with_jitter_when_no_retry_after_is_given() -> None:
    client, _, clock = exporter(FakeResponse(503), budget=10)
    send(client)
    assert len(clock.sleeps) >= 4
    for attempt, wait in enumerate(clock.sleeps[:4]):
        nominal = min(0.2 * 2**attempt, 2.0)
        assert 0.5 * nominal <= wait <= 1.5 * nominal


def test_retry_false_makes_one_attempt() -> None:
    client, pool, clock = exporter(FakeResponse(503), FakeResponse(200))
    result = send(client, retry=False)
    assert (result.outcome, result.attempts, len(pool.requests), clock.sleeps) == (
        Outcome.FAILED,
        1,
        1,
        [],
    )


def test_retry_on_failure_disabled_makes_one_attempt() -> None:
    client, pool, _ = exporter(FakeResponse(503), FakeResponse(200), enabled=False)
    assert send(client).attempts == 1 and len(pool.requests) == 1


def test_400_is_rejected_with_the_backends_message_and_not_retried() -> None:
    answer = status_body(400, "span id is 3 bytes", MediaType.JSON)
    reply = FakeResponse(400, answer, {"Content-Type": "application/json"})
    client, pool, _ = exporter(reply, FakeResponse(200))
    result = send(client)
    assert (result.outcome, result.too_large, len(pool.requests)) == (Outcome.REJECTED, False, 1)
    assert result.reason == "HTTP 400: span id is 3 bytes"
    assert result.body == answer and result.content_type == "application/json"


def test_413_is_rejected_as_too_large() -> None:
    client, pool, _ = exporter(FakeResponse(413), FakeResponse(200))
    result = send(client)
    assert (result.outcome, result.too_large, len(pool.requests)) == (Outcome.REJECTED, True, 1)


@pytest.mark.parametrize("status", [401, 403, 404, 500])
def test_a_misconfiguration_fails_over_without_retrying(status: int) -> None:
    client, pool, _ = exporter(FakeResponse(status), FakeResponse(200))
    result = send(client)
    assert (result.outcome, result.status, len(pool.requests)) == (Outcome.FAILED, status, 1)


def test_a_connection_error_fails_and_is_retried() -> None:
    reset = ProtocolError("Connection aborted.", ConnectionResetError(104, "reset by peer"))
    client, pool, _ = exporter(reset, FakeResponse(200))
    result = send(client)
    assert (result.outcome, result.attempts, len(pool.requests)) == (Outcome.ACCEPTED, 2, 2)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")),
            "connection error (ConnectionResetError)",
        ),
        (  # a subclass of ConnectTimeoutError in urllib3, yet no timeout
            NewConnectionError(HTTPConnection("otlp.example.com"), "Connection refused"),
            "connection error (NewConnectionError)",
        ),
        (ConnectTimeoutError("connect timed out"), "no answer within 5.0s"),
    ],
)
def test_connection_errors_that_persist_fail_after_retries(error: Exception, reason: str) -> None:
    client, pool, _ = exporter(error)
    result = send(client)
    assert (result.outcome, result.status, result.reason) == (Outcome.FAILED, None, reason)
    assert result.attempts == len(pool.requests) > 1


def test_a_small_answer_is_read_whole_and_its_connection_reused() -> None:
    client, pool, _ = exporter(FakeResponse(200, b"x" * MAX_RESPONSE_BYTES))
    assert len(send(client).body) == MAX_RESPONSE_BYTES
    assert pool.responses[0].released and not pool.responses[0].closed


def test_a_huge_answer_is_cut_never_passed_on_as_if_whole_and_its_connection_closed() -> None:
    client, pool, _ = exporter(FakeResponse(200, b"x" * (MAX_RESPONSE_BYTES * 3)))
    result = send(client)
    assert (result.outcome, result.body) == (Outcome.ACCEPTED, b"")
    assert pool.responses[0].closed and not pool.responses[0].released


def test_an_answer_that_breaks_off_keeps_its_status_and_closes_the_connection() -> None:
    client, pool, _ = exporter(FakeResponse(200, b"partial", read_error=True))
    result = send(client)
    assert (result.outcome, result.body) == (Outcome.ACCEPTED, b"")
    assert pool.responses[0].closed


def test_close_clears_the_pool() -> None:
    client, pool, _ = exporter(FakeResponse(200))
    client.close()
    assert pool.cleared


def test_zero_backoff_settings_still_wait_between_attempts() -> None:
    clock = ManualClock()
    pool = FakePool(clock, [FakeResponse(503, headers={"Retry-After": "0"})])
    config = OtlpHttpConfig(
        name="otlphttp/primary",
        endpoint="https://otlp.example.com/",
        retry=RetryConfig(initial_interval=0.0, max_interval=0.0, max_elapsed_time=2.0),
    )
    client = OtlpHttpExporter(
        config, cast(urllib3.PoolManager, pool), {}, clock=clock, sleep=clock.sleep
    )
    assert send(client).outcome is Outcome.FAILED
    assert clock.sleeps and min(clock.sleeps) >= 0.05
    assert len(pool.requests) <= 41  # 2 s at 50 ms at least, not thousands


def test_a_deadline_cut_connection_leaves_its_guard_and_is_not_reused() -> None:
    from otlp_failover.exporters.deadline import Guard, WatchedHTTPConnection

    cut, whole = (
        WatchedHTTPConnection("otlp.example.com"),
        WatchedHTTPConnection("otlp.example.com"),
    )
    cut._guard, whole._guard = Guard(0.0), Guard(0.0)
    assert cut._guard is not None
    cut._guard.fire()
    assert not cut.leave_guard()  # the pool closes it instead of keeping it
    guard = whole._guard
    assert whole.leave_guard() and guard is not None
    guard.fire()  # too late: the call is over and the connection may be in use elsewhere
    assert not guard.fired
