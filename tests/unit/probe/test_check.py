"""The recovery check: the probe's request (empty or one canary item) and what an answer means."""

from __future__ import annotations

import pytest

from otlp_failover.failover.outcomes import ExportResult, Outcome
from otlp_failover.probe.check import CANARY_NAME, CANARY_SERVICE, is_up, probe_request
from otlp_failover.signals import Signal

NOW_NS = 1_800_000_000_000_000_000


@pytest.mark.parametrize("signal", list(Signal))
def test_the_empty_probe_is_zero_bytes_of_protobuf(signal: Signal) -> None:
    body = probe_request(signal, "empty", NOW_NS)
    assert (body.signal, body.raw, body.media_type.value) == (
        signal,
        b"",
        "application/x-protobuf",
    )


@pytest.mark.parametrize("signal", list(Signal))
def test_the_canary_is_one_named_item_of_the_probe_service_stamped_now(signal: Signal) -> None:
    body = probe_request(signal, "canary", NOW_NS)
    decoded = signal.request_class.FromString(body.raw)
    (resource,) = getattr(decoded, f"resource_{'spans' if signal is Signal.TRACES else signal}")
    (attribute,) = resource.resource.attributes
    assert (attribute.key, attribute.value.string_value) == ("service.name", CANARY_SERVICE)
    if signal is Signal.TRACES:
        (span,) = resource.scope_spans[0].spans
        assert (span.name, span.end_time_unix_nano) == (CANARY_NAME, NOW_NS)
        assert len(span.trace_id) == 16 and len(span.span_id) == 8
    elif signal is Signal.METRICS:
        (metric,) = resource.scope_metrics[0].metrics
        assert (metric.name, metric.gauge.data_points[0].time_unix_nano) == (CANARY_NAME, NOW_NS)
    else:
        (record,) = resource.scope_logs[0].log_records
        assert (record.body.string_value, record.time_unix_nano) == (CANARY_NAME, NOW_NS)


def test_each_canary_span_has_ids_of_its_own() -> None:
    first, second = (probe_request(Signal.TRACES, "canary", NOW_NS) for _ in range(2))
    assert first.raw != second.raw


@pytest.mark.parametrize(
    ("outcome", "up"),
    [(Outcome.ACCEPTED, True), (Outcome.REJECTED, True), (Outcome.FAILED, False)],
)
def test_a_backend_that_judged_the_request_is_up(outcome: Outcome, up: bool) -> None:
    assert is_up(ExportResult(outcome, "otlphttp/primary")) is up
