"""Fuzzing the OTLP/HTTP exporter with hostile backend answers.

A raw TCP server on 127.0.0.1 answers each request the exporter sends with bytes hypothesis
chose: a status line (valid, garbage, latin-1, huge numbers, no reason, HTTP/0.9, none),
header bytes (garbage, odd Retry-After and Content-Length values, broken chunking,
duplicates, obs-fold, NUL bytes, over-long lines), a body (google.rpc.Status good and
broken, huge, gzip claimed and not), cut anywhere (FIN, RST, or a stall) and maybe dripped
a few bytes at a time. Whatever arrives, ``export`` (retries on, a short deadline) returns
an ACCEPTED, REJECTED or FAILED result by its deadline, with a Retry-After inside
[0, MAX_RETRY_AFTER] and a short reason: it never raises. ``FUZZ_EXAMPLES`` sets the budget
(``make fuzz`` raises it; CI runs the default); the regression seeds run first, every time.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otlp_failover.codec import ExportBody, MediaType
from otlp_failover.exporters.otlphttp import (
    MAX_RESPONSE_BYTES,
    MAX_RETRY_AFTER,
    OtlpHttpExporter,
    new_pool,
)
from otlp_failover.failover.outcomes import ExportResult, Outcome
from otlp_failover.settings.chain import OtlpHttpConfig, RetryConfig
from otlp_failover.signals import Signal
from tests.fuzz.hostile_answers import answers
from tests.fuzz.hostile_backend import Answer, HostileBackend

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
# One pytest test runs every example: give it time in proportion to its budget.
pytestmark = pytest.mark.timeout(60 + EXAMPLES // 2)

SLACK = 2.0  # seconds past the deadline a loaded machine may take to return
MAX_REASON = 520  # "HTTP 400: " and at most 500 characters of the backend's message
# The exporter's own retries: short, so a retryable answer costs a fraction of a second.
RETRY = RetryConfig(enabled=True, initial_interval=0.02, max_interval=0.08, max_elapsed_time=0.15)
EXPORTER_LOGGER = "otlp_failover.exporters.otlphttp"
STATUS_CLASS = re.compile(r"HTTP (\d)\d\d.*")  # for the statistics: "HTTP 4xx"

TestFunc = TypeVar("TestFunc", bound=Callable[..., Any])


class UnexpectedErrors(logging.Handler):
    """The errors the exporter's last-resort ``except`` caught (and logged): not failures,
    but each is a case the exporter did not foresee, reported as a hypothesis event."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "unexpected error" in record.getMessage():
            self.seen.append(record.getMessage())


@pytest.fixture
def hostile_backend() -> Iterator[HostileBackend]:
    server = HostileBackend(lifetime=120 + EXAMPLES * 2)
    server.start()
    try:
        yield server
    finally:
        alive = server.stop()
    assert not alive, f"server threads outlived the test: {alive}"


@pytest.fixture
def unexpected_errors() -> Iterator[UnexpectedErrors]:
    """Collects the exporter's last-resort errors; quiets urllib3, whose warnings about
    each malformed header block would pile up in pytest's log capture (megabytes per run)."""
    handler = UnexpectedErrors()
    logger, urllib3_logger = logging.getLogger(EXPORTER_LOGGER), logging.getLogger("urllib3")
    level = urllib3_logger.level
    logger.addHandler(handler)
    urllib3_logger.setLevel(logging.ERROR)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        urllib3_logger.setLevel(level)


# --- the exporter against it ------------------------------------------------------------


def export_body() -> ExportBody:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add(name="fuzz")
    span.trace_id, span.span_id = b"\x07" * 16, b"\x08" * 8
    raw = bytes(request.SerializeToString())
    return ExportBody(Signal.TRACES, MediaType.PROTOBUF, None, request, raw)


def export_to(
    server: HostileBackend, plan: Sequence[Answer], timeout: float, deadline: float
) -> tuple[ExportResult, float]:
    """One export (retries on) to the server answering by ``plan``; the result and the
    seconds it took. An exception out of ``export`` is the bug this fuzzer hunts."""
    server.serve(plan)
    config = OtlpHttpConfig(name="otlphttp/fuzz", endpoint=server.url, timeout=timeout, retry=RETRY)
    exporter = OtlpHttpExporter(config, new_pool())
    try:
        started = time.monotonic()
        result = exporter.export(export_body(), started + deadline, retry=True)
        took = time.monotonic() - started
    finally:
        exporter.close()
        alive = server.settle()
    assert not alive, f"a connection handler outlived its bound: {alive}"
    return result, took


def check(result: ExportResult, took: float, deadline: float) -> None:
    assert isinstance(result, ExportResult)
    assert result.outcome in (Outcome.ACCEPTED, Outcome.REJECTED, Outcome.FAILED)
    assert took < deadline + SLACK, f"returned {took - deadline:.2f}s past its deadline"
    if result.retry_after is not None:
        assert 0 <= result.retry_after <= MAX_RETRY_AFTER, result.retry_after
    assert isinstance(result.reason, str) and 0 < len(result.reason) <= MAX_REASON
    assert result.attempts >= 1
    assert len(result.body) <= MAX_RESPONSE_BYTES
    if result.outcome is Outcome.ACCEPTED:
        assert result.status is not None and 200 <= result.status < 300, result.status
    if result.outcome is Outcome.REJECTED:
        assert result.status in (400, 413), result.status


def ok(head: bytes, body: bytes = b"") -> bytes:
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


# Regression seeds: hand-written hostile answers, each run first by the fuzz target and
# checked for its own expected result by test_regression_seeds.
SEEDS: dict[str, tuple[Answer, Outcome, int | None, float | None]] = {
    "retry-after-superscript-two": (
        Answer(ok(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: \xb2\r\n")),
        Outcome.FAILED,
        503,
        None,
    ),
    "retry-after-400-nines": (
        Answer(ok(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: " + b"9" * 400 + b"\r\n")),
        Outcome.FAILED,
        429,
        float(MAX_RETRY_AFTER),
    ),
    "header-drip": (
        Answer(ok(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"z" * 200 + b"\r\n"), chunk=1, pause=0.001),
        Outcome.ACCEPTED,
        200,
        None,
    ),
    "body-drip": (
        Answer(
            ok(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n", b"\0" * 2000),
            chunk=3,
            pause=0.002,
        ),
        Outcome.ACCEPTED,
        200,
        None,
    ),
    "no-status-line": (Answer(b""), Outcome.FAILED, None, None),
    "http-0.9": (Answer(b"<html>hello</html>"), Outcome.FAILED, None, None),
    "gzip-claimed-not-gzip": (
        Answer(ok(b"HTTP/1.1 400 Bad Request\r\nContent-Encoding: gzip\r\n", b"not gzip")),
        Outcome.REJECTED,
        400,
        None,
    ),
}
TIMEOUT, DEADLINE = 0.5, 1.5  # the seeds' attempt timeout and deadline, in seconds


def with_seeds(test: TestFunc) -> TestFunc:
    for answer, *_ in SEEDS.values():
        test = example(plan=[answer], timeout=TIMEOUT, deadline=DEADLINE)(test)
    return test


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(
    plan=st.lists(answers(), min_size=1, max_size=3),
    timeout=st.sampled_from([0.2, 0.4]),
    deadline=st.sampled_from([0.3, 0.8, 1.5]),
)
@with_seeds
def test_whatever_a_backend_sends_export_returns_by_its_deadline(
    hostile_backend: HostileBackend,
    unexpected_errors: UnexpectedErrors,
    plan: list[Answer],
    timeout: float,
    deadline: float,
) -> None:
    result, took = export_to(hostile_backend, plan, timeout, deadline)
    event(result.outcome.value + ": " + STATUS_CLASS.sub(r"HTTP \1xx", result.reason))
    event(f"attempts: {result.attempts}" if result.attempts < 5 else "attempts: 5 or more")
    if result.attempts > 20:  # a Retry-After of 0 (or a past date) is retried at once
        event("attempts: more than 20")
    if result.retry_after is not None:
        event(f"retry_after: {min(result.retry_after, 2):.0f}")
    if took > deadline + 0.1:
        event("returned more than 0.1 s past its deadline")
    for message in unexpected_errors.seen:
        event(f"caught by the last resort: {message}")
    unexpected_errors.seen.clear()
    check(result, took, deadline)


@pytest.mark.parametrize("name", list(SEEDS))
def test_regression_seeds(hostile_backend: HostileBackend, name: str) -> None:
    answer, outcome, status, retry_after = SEEDS[name]
    result, took = export_to(hostile_backend, [answer], TIMEOUT, DEADLINE)
    check(result, took, DEADLINE)
    assert (result.outcome, result.status, result.retry_after) == (outcome, status, retry_after)


NEGATIVE_CHUNK = b"Transfer-Encoding: chunked\r\n\r\n-5\r\nabcde\r\n0\r\n\r\n"


@pytest.mark.parametrize(("status", "outcome"), [(200, Outcome.ACCEPTED), (400, Outcome.REJECTED)])
def test_a_broken_chunk_size_keeps_the_status_that_arrived(
    hostile_backend: HostileBackend, status: int, outcome: Outcome
) -> None:
    # otlphttp.py: "A status and headers read whole count, even if the body is cut later".
    answer = Answer(b"HTTP/1.1 %d Whatever\r\n" % status + NEGATIVE_CHUNK)
    result, took = export_to(hostile_backend, [answer], TIMEOUT, DEADLINE)
    check(result, took, DEADLINE)
    assert (result.outcome, result.status, result.attempts) == (outcome, status, 1)
