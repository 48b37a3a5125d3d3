"""The drill's client: an application instrumented with the OpenTelemetry SDK, as a user sets
one up (batch processors, a periodic metric reader, the OTLP/HTTP exporters), producing a
steady stream of uniquely named items and keeping a ledger of what became of each.

Each exporter is wrapped so that the names in an export land in ``acknowledged`` when the
exporter returned SUCCESS (the gateway answered 200) and in ``refused`` otherwise. Names
are ``<prefix>-<signal>-<number>``: a span's name, a log record's body, and the
``drill.item`` attribute of a delta counter's data point (one point per item).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.metrics import Counter, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from otlp_failover.signals import Signal

ITEM_ATTRIBUTE = "drill.item"
# Delta: each collection carries only the points measured since the last one, so every
# item is exported once (cumulative would resend every earlier point each time).
DELTA: dict[type, AggregationTemporality] = {Counter: AggregationTemporality.DELTA}
BATCH_DELAY_MS = 200  # the processors' schedule: short, so the timeline is sharp
METRIC_INTERVAL_MS = 500


@dataclass
class Ledger:
    """What became of one signal's items at the client."""

    sent: int = 0
    acknowledged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, names: Iterable[str], success: bool) -> None:
        with self.lock:
            (self.acknowledged if success else self.refused).extend(names)


class _SpanLedger(SpanExporter):
    def __init__(self, inner: SpanExporter, ledger: Ledger) -> None:
        self._inner, self._ledger = inner, ledger

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self._inner.export(spans)
        self._ledger.record((s.name for s in spans), result is SpanExportResult.SUCCESS)
        return result

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)


class _LogLedger(LogRecordExporter):
    def __init__(self, inner: LogRecordExporter, ledger: Ledger) -> None:
        self._inner, self._ledger = inner, ledger

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        result = self._inner.export(batch)
        names = (str(r.log_record.body) for r in batch)
        self._ledger.record(names, result is LogRecordExportResult.SUCCESS)
        return result

    def shutdown(self) -> None:
        self._inner.shutdown()  # type: ignore[no-untyped-call]  # unannotated in the SDK

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


class _MetricLedger(MetricExporter):
    def __init__(self, inner: MetricExporter, ledger: Ledger) -> None:
        super().__init__(preferred_temporality=DELTA)
        self._inner, self._ledger = inner, ledger

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        result = self._inner.export(metrics_data, timeout_millis=timeout_millis)
        names = [
            str(point.attributes[ITEM_ATTRIBUTE])
            for resource in metrics_data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            for point in metric.data.data_points
            if point.attributes and ITEM_ATTRIBUTE in point.attributes
        ]
        self._ledger.record(names, result is MetricExportResult.SUCCESS)
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._inner.shutdown()


def _exporters(
    protocol: str, endpoint: str, token: str
) -> tuple[SpanExporter, MetricExporter, LogRecordExporter]:
    """The SDK's OTLP/HTTP exporters for ``protocol``, given endpoint and bearer token."""
    headers = {"Authorization": f"Bearer {token}"}
    if protocol == "json":
        from opentelemetry.exporter.otlp.json.http import (  # noqa: PLC0415
            OTLPMetricExporter as JsonMetricExporter,
        )
        from opentelemetry.exporter.otlp.json.http import (  # noqa: PLC0415
            OTLPSpanExporter as JsonSpanExporter,
        )
        from opentelemetry.exporter.otlp.json.http._log_exporter import (  # noqa: PLC0415
            OTLPLogExporter as JsonLogExporter,
        )

        return (
            JsonSpanExporter(endpoint + Signal.TRACES.path, headers=headers),
            JsonMetricExporter(
                endpoint + Signal.METRICS.path, headers=headers, preferred_temporality=DELTA
            ),
            JsonLogExporter(endpoint + Signal.LOGS.path, headers=headers),
        )
    from opentelemetry.exporter.otlp.proto.http._log_exporter import (  # noqa: PLC0415
        OTLPLogExporter,
    )
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import (  # noqa: PLC0415
        OTLPMetricExporter,
    )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,
    )

    return (
        OTLPSpanExporter(endpoint + Signal.TRACES.path, headers=headers),
        OTLPMetricExporter(
            endpoint + Signal.METRICS.path, headers=headers, preferred_temporality=DELTA
        ),
        OTLPLogExporter(endpoint + Signal.LOGS.path, headers=headers),
    )


class Traffic:
    """``rate`` items per second per signal, each on its own thread, until ``stop()``."""

    def __init__(
        self,
        protocol: str,
        endpoint: str,
        token: str,
        *,
        signals: Sequence[Signal],
        rate: float,
        prefix: str,
    ) -> None:
        self.signals = tuple(signals)
        self.rate = rate
        self.prefix = prefix
        self.ledgers = {signal: Ledger() for signal in self.signals}
        spans, metrics, logs = _exporters(protocol, endpoint.rstrip("/"), token)
        resource = Resource.create({"service.name": "otlp-failover-drill"})
        self._tracer_provider = TracerProvider(resource=resource)
        self._tracer_provider.add_span_processor(
            BatchSpanProcessor(
                _SpanLedger(spans, self.ledgers.get(Signal.TRACES, Ledger())),
                schedule_delay_millis=BATCH_DELAY_MS,
            )
        )
        self._logger_provider = LoggerProvider(resource=resource)
        self._logger_provider.add_log_record_processor(
            BatchLogRecordProcessor(
                _LogLedger(logs, self.ledgers.get(Signal.LOGS, Ledger())),
                schedule_delay_millis=BATCH_DELAY_MS,
            )
        )
        reader = PeriodicExportingMetricReader(
            _MetricLedger(metrics, self.ledgers.get(Signal.METRICS, Ledger())),
            export_interval_millis=METRIC_INTERVAL_MS,
        )
        self._meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
        self._stop = threading.Event()
        self._stopped = False
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        tracer = self._tracer_provider.get_tracer("otlp-failover.drill")
        logger = self._logger_provider.get_logger("otlp-failover.drill")
        counter = self._meter_provider.get_meter("otlp-failover.drill").create_counter(
            "drill.items", description="one data point per drill item"
        )

        def span(name: str) -> None:
            with tracer.start_as_current_span(name):
                pass

        def log(name: str) -> None:
            logger.emit(body=name)

        def point(name: str) -> None:
            counter.add(1, {ITEM_ATTRIBUTE: name})

        produce = {Signal.TRACES: span, Signal.LOGS: log, Signal.METRICS: point}
        for signal in self.signals:
            thread = threading.Thread(
                target=self._produce,
                args=(signal, produce[signal]),
                name=f"drill-{signal}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()

    def _produce(self, signal: Signal, produce: Callable[[str], None]) -> None:
        ledger, interval = self.ledgers[signal], 1.0 / self.rate
        next_at = time.monotonic()
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            produce(f"{self.prefix}-{signal}-{ledger.sent:06d}")
            with ledger.lock:
                ledger.sent += 1
            next_at += interval

    def stop(self, timeout: float = 30.0) -> None:
        """Stop producing, then flush and shut the SDK down: every item gets its answer.
        A second call does nothing."""
        if self._stopped:
            return
        self._stopped = True
        self._stop.set()
        for thread in self._threads:
            thread.join()
        millis = int(timeout * 1000)
        self._tracer_provider.force_flush(millis)
        self._logger_provider.force_flush(millis)
        self._meter_provider.force_flush(millis)
        self._tracer_provider.shutdown()
        self._logger_provider.shutdown()
        self._meter_provider.shutdown()
