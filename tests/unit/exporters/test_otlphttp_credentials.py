"""OtlpHttpExporter and its HeaderSource: a 401/403 re-reads the headers and tries once
more with new ones, inside the budget; headers that cannot be read fail the export, not
the caller."""

from __future__ import annotations

import pytest

from otlp_failover.errors import SecretError
from otlp_failover.exporters.otlphttp import OtlpHttpExporter
from otlp_failover.failover.outcomes import Outcome
from tests.unit.exporters import test_otlphttp_retry as retry_tests
from tests.unit.exporters.test_otlphttp_retry import FakePool, FakeResponse, Reply, send
from tests.unit.fakes import ManualClock
from tests.unit.secret_fakes import ScriptedHeaders

OLD = {"Authorization": "Bearer old-key"}
NEW = {"Authorization": "Bearer new-key"}


def exporter(
    headers: ScriptedHeaders, *replies: Reply, latency: float = 0.0, budget: float = 2.0
) -> tuple[OtlpHttpExporter, FakePool, ManualClock]:
    return retry_tests.exporter(*replies, latency=latency, budget=budget, headers=headers)


def sent(pool: FakePool) -> list[str]:
    return [request["headers"]["Authorization"] for request in pool.requests]


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_re_read_and_the_export_tried_once_more(status: int) -> None:
    headers = ScriptedHeaders(OLD, rotated=NEW)
    client, pool, _ = exporter(headers, FakeResponse(status), FakeResponse(200))
    result = send(client)
    assert (result.outcome, result.status, result.attempts) == (Outcome.ACCEPTED, 200, 2)
    assert sent(pool) == [OLD["Authorization"], NEW["Authorization"]]
    assert headers.refreshes == [OLD]


def test_the_next_export_uses_the_new_headers_from_the_start() -> None:
    headers = ScriptedHeaders(OLD, rotated=NEW)
    client, pool, _ = exporter(headers, FakeResponse(401), FakeResponse(200))
    send(client)
    send(client)
    assert sent(pool)[-1] == NEW["Authorization"] and len(pool.requests) == 3


def test_unchanged_headers_are_not_sent_again() -> None:
    headers = ScriptedHeaders(OLD)
    client, pool, _ = exporter(headers, FakeResponse(401), FakeResponse(200))
    result = send(client)
    assert (result.outcome, result.status, len(pool.requests)) == (Outcome.FAILED, 401, 1)
    assert headers.refreshes == [OLD]


def test_new_headers_refused_too_end_the_export_without_a_loop() -> None:
    headers = ScriptedHeaders(OLD, rotated=NEW)
    client, pool, _ = exporter(headers, FakeResponse(401), FakeResponse(403), FakeResponse(200))
    result = send(client)
    assert (result.outcome, result.status, result.attempts) == (Outcome.FAILED, 403, 2)
    assert len(headers.refreshes) == 1 and len(pool.requests) == 2


def test_a_probe_without_retries_still_tries_the_re_read_headers_once() -> None:
    headers = ScriptedHeaders(OLD, rotated=NEW)
    client, pool, _ = exporter(headers, FakeResponse(401), FakeResponse(200))
    assert send(client, retry=False).outcome is Outcome.ACCEPTED
    assert len(pool.requests) == 2


def test_no_second_try_once_the_budget_is_spent_but_the_headers_are_re_read() -> None:
    headers = ScriptedHeaders(OLD, rotated=NEW)
    client, pool, clock = exporter(headers, FakeResponse(401), latency=2.0, budget=2.0)
    result = send(client)
    assert (result.outcome, result.status, len(pool.requests)) == (Outcome.FAILED, 401, 1)
    assert headers.current() == NEW  # the next export starts with them
    assert clock.now == 2.0


def test_a_retryable_answer_after_the_re_read_is_retried_as_usual() -> None:
    headers = ScriptedHeaders(OLD, rotated=NEW)
    replies = (FakeResponse(401), FakeResponse(503), FakeResponse(200))
    client, pool, _ = exporter(headers, *replies)
    result = send(client)
    assert (result.outcome, result.attempts) == (Outcome.ACCEPTED, 3)
    assert sent(pool) == [OLD["Authorization"], NEW["Authorization"], NEW["Authorization"]]


def test_a_404_is_not_a_credential_problem() -> None:
    headers = ScriptedHeaders(OLD, rotated=NEW)
    client, pool, _ = exporter(headers, FakeResponse(404), FakeResponse(200))
    assert send(client).outcome is Outcome.FAILED
    assert headers.refreshes == [] and len(pool.requests) == 1


def test_headers_that_cannot_be_read_fail_the_export_with_the_reason_and_send_nothing() -> None:
    headers = ScriptedHeaders(OLD)
    headers.error = SecretError("reading secret otlp/primary-AbC123 failed: AccessDeniedException")
    client, pool, _ = exporter(headers, FakeResponse(200))
    result = send(client)
    assert result.outcome is Outcome.FAILED
    assert result.reason == (
        "headers unavailable: reading secret otlp/primary-AbC123 failed: AccessDeniedException"
    )
    assert (result.attempts, pool.requests) == (0, [])


def test_an_unexpected_error_of_the_header_source_never_raises_and_names_only_its_type() -> None:
    headers = ScriptedHeaders(OLD)
    headers.error = RuntimeError("Bearer old-key leaked into a message")
    client, pool, _ = exporter(headers, FakeResponse(200))
    result = send(client)
    assert result.reason == "headers unavailable: unexpected error (RuntimeError)"
    assert pool.requests == []


def test_a_refresh_that_raises_leaves_the_refusal_standing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers = ScriptedHeaders(OLD, rotated=NEW)
    headers.refresh_error = RuntimeError("Bearer new-key")
    client, pool, _ = exporter(headers, FakeResponse(401), FakeResponse(200))
    result = send(client)
    assert (result.outcome, result.status, len(pool.requests)) == (Outcome.FAILED, 401, 1)
    assert "new-key" not in caplog.text
