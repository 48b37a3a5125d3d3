"""Steady traffic: an application instrumented with the OpenTelemetry SDK, as a user sets
one up (batch processors, a periodic metric reader, the OTLP/HTTP exporters), producing a
stream of uniquely named items and keeping a ledger of what became of each.

The drill, the chaos suite and the e2e tests run it against a gateway. Names are
``<prefix>-<signal>-<number>`` (``otlp_failover_dev.items`` says where each signal keeps
its name); the ledgers (``otlp_failover_dev.ledger``) say which were acknowledged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from otlp_failover.signals import Signal
from otlp_failover_dev.items import ITEM_ATTRIBUTE, deliveries
from otlp_failover_dev.ledger import Ledger, LogLedger, MetricLedger, SpanLedger, exporters
from otlp_failover_dev.local.backend import ReceivedExport

BATCH_DELAY_MS = 200  # the processors' schedule: short, so the timeline is sharp
METRIC_INTERVAL_MS = 500


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
        headers = {"Authorization": f"Bearer {token}"}
        spans, metrics, logs = exporters(protocol, endpoint, headers)
        resource = Resource.create({"service.name": "otlp-failover-drill"})
        self._tracer_provider = TracerProvider(resource=resource)
        self._tracer_provider.add_span_processor(
            BatchSpanProcessor(
                SpanLedger(spans, self.ledgers.get(Signal.TRACES, Ledger())),
                schedule_delay_millis=BATCH_DELAY_MS,
            )
        )
        self._logger_provider = LoggerProvider(resource=resource)
        self._logger_provider.add_log_record_processor(
            BatchLogRecordProcessor(
                LogLedger(logs, self.ledgers.get(Signal.LOGS, Ledger())),
                schedule_delay_millis=BATCH_DELAY_MS,
            )
        )
        reader = PeriodicExportingMetricReader(
            MetricLedger(metrics, self.ledgers.get(Signal.METRICS, Ledger())),
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

    def lost(self, exports: Sequence[ReceivedExport]) -> dict[Signal, set[str]]:
        """Acknowledged names that ``exports`` (what a backend received) lack, per signal."""
        return {
            signal: ledger.lost(deliveries(exports, signal, self.prefix))
            for signal, ledger in self.ledgers.items()
        }
