"""The OpenTelemetry SDK set up as a service would, pointed at the gateway.

An ``SdkClient`` holds the three providers a service has (traces, metrics, logs), each
with the real OTLP/HTTP exporter of one protocol and a simple (synchronous) processor, so
each ``span``/``log``/``metric`` call is one export whose result the test sees. Beside the
real exporter it keeps the SDK's own view of every item (an in-memory exporter or reader on
the same provider), every export's result (True for SUCCESS), and the exact requests the
exporter put on the wire (``tests.e2e.wire``).

With ``endpoint=None`` the exporters configure themselves from ``OTEL_EXPORTER_OTLP_*``.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.common.http import Compression as JsonCompression
from opentelemetry.exporter.otlp.json.http import OTLPMetricExporter as JsonMetricExporter
from opentelemetry.exporter.otlp.json.http import OTLPSpanExporter as JsonSpanExporter
from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter as JsonLogExporter
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    LogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    InMemoryMetricReader,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from otlp_failover.signals import Signal
from tests.e2e import items
from tests.e2e.wire import RecordingSession, RecordingTransport, Sent

PROTOCOLS = ("protobuf", "protobuf+gzip", "json")
# One data point per export: a delta counter point exists only in the collection after the
# measurement (cumulative would resend every earlier point in every export).
DELTA = {Counter: AggregationTemporality.DELTA, Histogram: AggregationTemporality.DELTA}
SAMPLED = TraceFlags(TraceFlags.SAMPLED)
NEVER_MS = 3_600_000.0  # the metric reader exports when the test flushes it, not on a timer


class _SpanResults(SpanExporter):
    def __init__(self, inner: SpanExporter, results: list[bool]) -> None:
        self.inner, self.results = inner, results

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self.inner.export(spans)
        self.results.append(result is SpanExportResult.SUCCESS)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()


class _LogResults(LogRecordExporter):
    def __init__(self, inner: LogRecordExporter, results: list[bool]) -> None:
        self.inner, self.results = inner, results

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        result = self.inner.export(batch)
        self.results.append(result is LogRecordExportResult.SUCCESS)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


class _MetricResults(MetricExporter):
    def __init__(self, inner: MetricExporter, results: list[bool]) -> None:
        super().__init__(preferred_temporality=DELTA)
        self.inner, self.results = inner, results

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        result = self.inner.export(metrics_data, timeout_millis=timeout_millis)
        self.results.append(result is MetricExportResult.SUCCESS)
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self.inner.shutdown()


def _remote_parent() -> Context:
    """A context whose span came from another service: random ids, sampled."""
    parent = SpanContext(
        random.getrandbits(128), random.getrandbits(64), is_remote=True, trace_flags=SAMPLED
    )
    return trace.set_span_in_context(NonRecordingSpan(parent))


def _url(endpoint: str | None, signal: Signal) -> str | None:
    return endpoint.rstrip("/") + signal.path if endpoint else None


def exporters(
    protocol: str, endpoint: str | None, headers: Mapping[str, str] | None, sent: list[Sent]
) -> tuple[SpanExporter, MetricExporter, LogRecordExporter]:
    """The three exporters of ``protocol``, as a user would construct them.

    Without ``endpoint`` only the session or transport is passed: endpoint, headers and
    compression come from ``OTEL_EXPORTER_OTLP_*``, as a zero-code setup has them.
    """
    gzip = protocol.endswith("gzip")
    common: dict[str, Any] = {}
    if protocol.startswith("json"):
        if endpoint:
            compression = JsonCompression.GZIP if gzip else JsonCompression.NONE
            common = {"headers": headers, "compression": compression}
        return (
            JsonSpanExporter(
                _url(endpoint, Signal.TRACES), **common, _transport=RecordingTransport(sent)
            ),
            JsonMetricExporter(
                _url(endpoint, Signal.METRICS),
                **common,
                preferred_temporality=DELTA,
                _transport=RecordingTransport(sent),
            ),
            JsonLogExporter(
                _url(endpoint, Signal.LOGS), **common, _transport=RecordingTransport(sent)
            ),
        )
    if endpoint:
        common = {
            "headers": headers,
            "compression": Compression.Gzip if gzip else Compression.NoCompression,
        }
    return (
        OTLPSpanExporter(_url(endpoint, Signal.TRACES), **common, session=RecordingSession(sent)),
        OTLPMetricExporter(
            _url(endpoint, Signal.METRICS),
            **common,
            preferred_temporality=DELTA,
            session=RecordingSession(sent),
        ),
        OTLPLogExporter(_url(endpoint, Signal.LOGS), **common, session=RecordingSession(sent)),
    )


class SdkClient:
    def __init__(
        self, protocol: str, endpoint: str | None, headers: Mapping[str, str] | None = None
    ) -> None:
        self.protocol = protocol
        self.sent: list[Sent] = []
        self.results: dict[Signal, list[bool]] = {signal: [] for signal in Signal}
        span_exporter, metric_exporter, log_exporter = exporters(
            protocol, endpoint, headers, self.sent
        )
        resource = Resource.create(
            {"service.name": "e2e", "service.instance.id": str(uuid.uuid4())}
        )

        self.spans_seen = InMemorySpanExporter()
        self.tracer_provider = TracerProvider(resource=resource)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans_seen))
        self.tracer_provider.add_span_processor(
            SimpleSpanProcessor(_SpanResults(span_exporter, self.results[Signal.TRACES]))
        )
        self.tracer = self.tracer_provider.get_tracer("e2e.tracer", "1.0")

        self.logs_seen = InMemoryLogRecordExporter()
        self.logger_provider = LoggerProvider(resource=resource)
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.logs_seen))
        self.logger_provider.add_log_record_processor(
            SimpleLogRecordProcessor(_LogResults(log_exporter, self.results[Signal.LOGS]))
        )
        self.logger = self.logger_provider.get_logger("e2e.logger")

        self.metrics_seen = InMemoryMetricReader(preferred_temporality=DELTA)
        self._metric_batches: list[MetricsData | None] = []
        self._reader = PeriodicExportingMetricReader(
            _MetricResults(metric_exporter, self.results[Signal.METRICS]),
            export_interval_millis=NEVER_MS,
        )
        self.meter_provider = MeterProvider(
            resource=resource, metric_readers=[self._reader, self.metrics_seen]
        )
        meter = self.meter_provider.get_meter("e2e.meter")
        self.counter = meter.create_counter("e2e.items", unit="1", description="items")
        self.histogram = meter.create_histogram("e2e.latency", unit="ms")

    # ---- one export each; True when the exporter reported SUCCESS -----------------------

    def span(self, name: str, **attributes: Any) -> bool:
        with self.tracer.start_as_current_span(
            name, context=_remote_parent(), attributes=attributes
        ):
            pass
        return self.results[Signal.TRACES][-1]

    def log(self, body: str, **attributes: Any) -> bool:
        self.logger.emit(
            body=body,
            severity_number=SeverityNumber.WARN,
            attributes=attributes,
            context=_remote_parent(),  # the record carries this trace and span id
        )
        return self.results[Signal.LOGS][-1]

    def metric(self, item: str, value: int = 1) -> bool:
        self.counter.add(value, {"item": item, "e2e.kind": "counter"})
        self.histogram.record(value * 12.5, {"item": item})
        before = len(self.results[Signal.METRICS])
        self._reader.force_flush()
        self._metric_batches.append(self.metrics_seen.get_metrics_data())
        assert len(self.results[Signal.METRICS]) == before + 1, "one export per flush"
        return self.results[Signal.METRICS][-1]

    def send(self, signal: Signal, name: str) -> bool:
        if signal is Signal.TRACES:
            return self.span(name, **{"e2e.item": name})
        if signal is Signal.LOGS:
            return self.log(name, **{"e2e.item": name})
        return self.metric(name)

    # ---- what the SDK recorded and sent --------------------------------------------------

    def sdk_items(self, signal: Signal) -> list[items.Item]:
        if signal is Signal.TRACES:
            return items.sdk_spans(self.spans_seen.get_finished_spans())
        if signal is Signal.LOGS:
            return items.sdk_logs(self.logs_seen.get_finished_logs())
        return items.sdk_points(self._metric_batches)

    def sent_to(self, signal: Signal) -> list[Sent]:
        return [sent for sent in self.sent if sent.url.endswith(signal.path)]

    def close(self) -> None:
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()
        self.meter_provider.shutdown()
