"""The client's ledger: the OpenTelemetry SDK's OTLP/HTTP exporters, built as a user builds
them, each wrapped so that what every export carried and how it ended is written down.

After each export the wrapper puts the export's item names (``otlp_failover_dev.items``)
in ``acknowledged`` when the exporter returned SUCCESS (the gateway answered 200) and in
``refused`` otherwise, and appends the result to ``results``. Given a ``sent`` list, the
exporters also keep every request they put on the wire (``otlp_failover_dev.wire``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.exporter.otlp.common.http import Compression as JsonCompression
from opentelemetry.exporter.otlp.json.http import OTLPMetricExporter as JsonMetricExporter
from opentelemetry.exporter.otlp.json.http import OTLPSpanExporter as JsonSpanExporter
from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter as JsonLogExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics import Counter, Histogram
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricExportResult,
    MetricsData,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from otlp_failover.signals import Signal
from otlp_failover_dev import items
from otlp_failover_dev.wire import RecordingSession, RecordingTransport, Sent

# Delta: each collection carries only the points measured since the last one, so every
# item is exported once (cumulative would resend every earlier point each time).
DELTA: dict[type, AggregationTemporality] = {
    Counter: AggregationTemporality.DELTA,
    Histogram: AggregationTemporality.DELTA,
}


@dataclass
class Ledger:
    """What became of one signal's items at the client."""

    sent: int = 0
    acknowledged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    results: list[bool] = field(default_factory=list)  # one per export: True for SUCCESS
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, names: Iterable[str], success: bool) -> None:
        with self.lock:
            (self.acknowledged if success else self.refused).extend(names)
            self.results.append(success)

    def lost(self, delivered: Iterable[str]) -> set[str]:
        """Acknowledged names that are not among ``delivered``."""
        with self.lock:
            acknowledged = set(self.acknowledged)
        return acknowledged - set(delivered)


class SpanLedger(SpanExporter):
    def __init__(self, inner: SpanExporter, ledger: Ledger) -> None:
        self.inner, self.ledger = inner, ledger

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self.inner.export(spans)
        self.ledger.record(items.span_names(spans), result is SpanExportResult.SUCCESS)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


class LogLedger(LogRecordExporter):
    def __init__(self, inner: LogRecordExporter, ledger: Ledger) -> None:
        self.inner, self.ledger = inner, ledger

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        result = self.inner.export(batch)
        self.ledger.record(items.log_names(batch), result is LogRecordExportResult.SUCCESS)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()  # type: ignore[no-untyped-call]  # unannotated in the SDK

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


class MetricLedger(MetricExporter):
    def __init__(self, inner: MetricExporter, ledger: Ledger) -> None:
        super().__init__(preferred_temporality=DELTA)
        self.inner, self.ledger = inner, ledger

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        result = self.inner.export(metrics_data, timeout_millis=timeout_millis)
        names = items.point_names(metrics_data)
        self.ledger.record(names, result is MetricExportResult.SUCCESS)
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.inner.shutdown()


def _url(endpoint: str | None, signal: Signal) -> str | None:
    return endpoint.rstrip("/") + signal.path if endpoint else None


def exporters(
    protocol: str,
    endpoint: str | None,
    headers: Mapping[str, str] | None = None,
    sent: list[Sent] | None = None,
) -> tuple[SpanExporter, MetricExporter, LogRecordExporter]:
    """The SDK's three OTLP/HTTP exporters of ``protocol`` ("protobuf" or "json", either
    with "+gzip"), as a user would construct them.

    Without ``endpoint`` nothing but the wire seam is passed: endpoint, headers and
    compression come from ``OTEL_EXPORTER_OTLP_*``, as a zero-code setup has them. Without
    "+gzip" the compression is the SDK's default. With ``sent`` every request is kept there.
    """
    json, gzip = protocol.startswith("json"), protocol.endswith("+gzip")

    def options() -> dict[str, Any]:
        given: dict[str, Any] = {}
        if endpoint:
            given["headers"] = headers
            if gzip:
                given["compression"] = JsonCompression.GZIP if json else Compression.Gzip
        # The protobuf exporters take a requests session; the JSON ones only a transport.
        if sent is not None and json:
            given["_transport"] = RecordingTransport(sent)
        elif sent is not None:
            given["session"] = RecordingSession(sent)
        return given

    if json:
        return (
            JsonSpanExporter(_url(endpoint, Signal.TRACES), **options()),
            JsonMetricExporter(
                _url(endpoint, Signal.METRICS), preferred_temporality=DELTA, **options()
            ),
            JsonLogExporter(_url(endpoint, Signal.LOGS), **options()),
        )
    return (
        OTLPSpanExporter(_url(endpoint, Signal.TRACES), **options()),
        OTLPMetricExporter(
            _url(endpoint, Signal.METRICS), preferred_temporality=DELTA, **options()
        ),
        OTLPLogExporter(_url(endpoint, Signal.LOGS), **options()),
    )
