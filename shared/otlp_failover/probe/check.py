"""The recovery check: what the probe sends a level, and what its answer means.

A probe success says that the backend took an OTLP export request of the signal, nothing
more. With ``probe_request: empty`` (the default) that request is empty: no data reaches
the backend, but a collector whose own downstream is dead still answers it 200, because
an empty request never reaches its queue. ``canary`` sends one small, well-named item
(a span, a gauge point or a log record of the service ``otlp-failover-probe``), which goes
through the backend's pipeline like real data and lands in it.

The answer, exporter by exporter (a level is up only when all of its exporters are):

    2xx                  up: it took the request
    400, 413             up: it parsed the request and judged it; traffic would be judged
                         the same way, and refusing to recover would strand the signal
    401, 403, 404, ...   down: a misconfiguration, which the export path fails over on too
    408, 429, 5xx, none  down
"""

from __future__ import annotations

import secrets
from typing import Any

from otlp_failover.codec import ExportBody, MediaType
from otlp_failover.failover.outcomes import ExportResult, Outcome
from otlp_failover.signals import Signal

CANARY_SERVICE = "otlp-failover-probe"
CANARY_NAME = "otlp-failover.probe"


def is_up(result: ExportResult) -> bool:
    """Whether one exporter's answer to a probe says it is up (see the table above)."""
    return result.outcome in (Outcome.ACCEPTED, Outcome.REJECTED)


def probe_request(signal: Signal, kind: str, now_ns: int) -> ExportBody:
    """The probe's request of ``signal``: ``empty`` or ``canary`` (stamped ``now_ns``)."""
    message = signal.request_class()
    if kind == "canary":
        _CANARIES[signal](message, now_ns)
    return ExportBody(
        signal=signal,
        media_type=MediaType.PROTOBUF,
        encoding=None,
        message=message,
        raw=message.SerializeToString(),  # empty: zero bytes
    )


def _resource(resource: Any) -> None:
    attribute = resource.attributes.add()
    attribute.key = "service.name"
    attribute.value.string_value = CANARY_SERVICE


def _span(request: Any, now_ns: int) -> None:
    scope_spans = request.resource_spans.add()
    _resource(scope_spans.resource)
    span = scope_spans.scope_spans.add().spans.add()
    span.trace_id = secrets.token_bytes(16)
    span.span_id = secrets.token_bytes(8)
    span.name = CANARY_NAME
    span.kind = 1  # SPAN_KIND_INTERNAL
    span.start_time_unix_nano = span.end_time_unix_nano = now_ns


def _gauge(request: Any, now_ns: int) -> None:
    resource_metrics = request.resource_metrics.add()
    _resource(resource_metrics.resource)
    metric = resource_metrics.scope_metrics.add().metrics.add()
    metric.name = CANARY_NAME
    point = metric.gauge.data_points.add()
    point.as_int = 1
    point.time_unix_nano = now_ns


def _log(request: Any, now_ns: int) -> None:
    resource_logs = request.resource_logs.add()
    _resource(resource_logs.resource)
    record = resource_logs.scope_logs.add().log_records.add()
    record.time_unix_nano = record.observed_time_unix_nano = now_ns
    record.severity_number = 9  # SEVERITY_NUMBER_INFO
    record.body.string_value = CANARY_NAME


_CANARIES = {Signal.TRACES: _span, Signal.METRICS: _gauge, Signal.LOGS: _log}
