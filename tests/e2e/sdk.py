"""The OpenTelemetry SDK set up as a service would, pointed at the gateway.

An ``SdkClient`` holds the three providers a service has (traces, metrics, logs), each
with the real OTLP/HTTP exporter of one protocol and a simple (synchronous) processor, so
each ``span``/``log``/``metric`` call is one export whose result the test sees. Beside the
real exporter it keeps the SDK's own view of every item (an in-memory exporter or reader on
the same provider), a ledger per signal with every export's result
(``otlp_failover_dev.ledger``), and the exact requests the exporter put on the wire
(``otlp_failover_dev.wire``).

With ``endpoint=None`` the exporters configure themselves from ``OTEL_EXPORTER_OTLP_*``.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    InMemoryMetricReader,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from otlp_failover.signals import Signal
from otlp_failover_dev.items import ITEM_ATTRIBUTE
from otlp_failover_dev.ledger import DELTA, Ledger, LogLedger, MetricLedger, SpanLedger, exporters
from otlp_failover_dev.wire import Sent
from tests.e2e import fields

PROTOCOLS = ("protobuf", "protobuf+gzip", "json")
SAMPLED = TraceFlags(TraceFlags.SAMPLED)
NEVER_MS = 3_600_000.0  # the metric reader exports when the test flushes it, not on a timer


def _remote_parent() -> Context:
    """A context whose span came from another service: random ids, sampled."""
    parent = SpanContext(
        random.getrandbits(128), random.getrandbits(64), is_remote=True, trace_flags=SAMPLED
    )
    return trace.set_span_in_context(NonRecordingSpan(parent))


class SdkClient:
    def __init__(
        self, protocol: str, endpoint: str | None, headers: Mapping[str, str] | None = None
    ) -> None:
        self.protocol = protocol
        self.sent: list[Sent] = []
        self.ledgers = {signal: Ledger() for signal in Signal}
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
            SimpleSpanProcessor(SpanLedger(span_exporter, self.ledgers[Signal.TRACES]))
        )
        self.tracer = self.tracer_provider.get_tracer("e2e.tracer", "1.0")

        self.logs_seen = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
        self.logger_provider = LoggerProvider(resource=resource)
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.logs_seen))
        self.logger_provider.add_log_record_processor(
            SimpleLogRecordProcessor(LogLedger(log_exporter, self.ledgers[Signal.LOGS]))
        )
        self.logger = self.logger_provider.get_logger("e2e.logger")

        self.metrics_seen = InMemoryMetricReader(preferred_temporality=DELTA)
        self._metric_batches: list[MetricsData | None] = []
        self._reader = PeriodicExportingMetricReader(
            MetricLedger(metric_exporter, self.ledgers[Signal.METRICS]),
            export_interval_millis=NEVER_MS,
        )
        self.meter_provider = MeterProvider(
            resource=resource, metric_readers=[self._reader, self.metrics_seen]
        )
        meter = self.meter_provider.get_meter("e2e.meter")
        self.counter = meter.create_counter("e2e.items", unit="1", description="items")
        self.histogram = meter.create_histogram("e2e.latency", unit="ms")

    # ---- one export each; True when the exporter reported SUCCESS -----------------------

    def results(self, signal: Signal) -> list[bool]:
        """Every export's result so far, for ``signal``."""
        return self.ledgers[signal].results

    def span(self, name: str, **attributes: Any) -> bool:
        with self.tracer.start_as_current_span(
            name, context=_remote_parent(), attributes=attributes
        ):
            pass
        return self.results(Signal.TRACES)[-1]

    def log(self, body: str, **attributes: Any) -> bool:
        self.logger.emit(
            body=body,
            severity_number=SeverityNumber.WARN,
            attributes=attributes,
            context=_remote_parent(),  # the record carries this trace and span id
        )
        return self.results(Signal.LOGS)[-1]

    def metric(self, item: str, value: int = 1) -> bool:
        self.counter.add(value, {ITEM_ATTRIBUTE: item, "e2e.kind": "counter"})
        self.histogram.record(value * 12.5, {ITEM_ATTRIBUTE: item})
        before = len(self.results(Signal.METRICS))
        self._reader.force_flush()
        self._metric_batches.append(self.metrics_seen.get_metrics_data())
        assert len(self.results(Signal.METRICS)) == before + 1, "one export per flush"
        return self.results(Signal.METRICS)[-1]

    def send(self, signal: Signal, name: str) -> bool:
        if signal is Signal.TRACES:
            return self.span(name, **{"e2e.item": name})
        if signal is Signal.LOGS:
            return self.log(name, **{"e2e.item": name})
        return self.metric(name)

    # ---- what the SDK recorded and sent --------------------------------------------------

    def sdk_items(self, signal: Signal) -> list[fields.Item]:
        if signal is Signal.TRACES:
            return fields.sdk_spans(self.spans_seen.get_finished_spans())
        if signal is Signal.LOGS:
            return fields.sdk_logs(self.logs_seen.get_finished_logs())
        return fields.sdk_points(self._metric_batches)

    def sent_to(self, signal: Signal) -> list[Sent]:
        return [sent for sent in self.sent if sent.url.endswith(signal.path)]

    def close(self) -> None:
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()
        self.meter_provider.shutdown()
