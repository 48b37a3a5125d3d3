"""The gateway's own metrics, written as CloudWatch EMF through Powertools.

Counts are summed during an invocation and flushed once at its end, one EMF document per
dimension set, so an export costs a dictionary update, not a log line per metric. Totals
are also kept for the process, which the local stack serves as Prometheus text.

Every document carries a top-level ``level`` (the function's own log level) and an RFC
3339 ``timestamp``. Under Lambda's JSON log format, with an application log level set,
a line without both counts as INFO and is dropped at WARN or ERROR: every metric, and
the CurrentLevel alarm with it, would go. The configured level always passes the filter,
so the template may keep offering WARN and ERROR.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)

from otlp_failover.metrics import GAUGES, UNITS
from otlp_failover.signals import Signal

Dimensions = tuple[tuple[str, str], ...]


def _print(document: str) -> None:
    print(document)  # noqa: T201 - EMF is read from the function's stdout


class Telemetry:
    """``Metrics`` as CloudWatch EMF on stdout, with process totals for the local stack."""

    def __init__(
        self, namespace: str, emit: Callable[[str], None] = _print, log_level: str = "INFO"
    ) -> None:
        self.namespace = namespace
        self.log_level = log_level
        self._emit = emit
        self._lock = threading.Lock()
        self._pending: dict[Dimensions, dict[str, float]] = defaultdict(dict)
        # One Powertools provider per dimension set, built once: building one per flush
        # was half of the gateway's own CPU time per export (make bench).
        self._providers: dict[Dimensions, AmazonCloudWatchEMFProvider] = {}
        self._flush_lock = threading.Lock()  # providers are reused: one flush at a time
        self._totals: dict[tuple[str, Dimensions], float] = {}

    def count(self, name: str, signal: Signal, value: float = 1, level: int | None = None) -> None:
        self._record(name, _dims(signal, level), value)

    def gauge(self, name: str, signal: Signal, value: float) -> None:
        self._record(name, _dims(signal, None), value)

    def _record(self, name: str, dims: Dimensions, value: float) -> None:
        with self._lock:
            pending = self._pending[dims]
            if name in GAUGES:
                pending[name] = value
                self._totals[(name, dims)] = value
            else:
                pending[name] = pending.get(name, 0) + value
                self._totals[(name, dims)] = self._totals.get((name, dims), 0) + value

    def flush(self) -> None:
        """Write what was recorded since the last flush as EMF documents."""
        with self._lock:
            pending, self._pending = self._pending, defaultdict(dict)
        if is_metrics_disabled():  # POWERTOOLS_METRICS_DISABLED: the local stack keeps totals only
            return
        with self._flush_lock:
            for dims, values in pending.items():
                self._emit(self._document(dims, values))

    def _document(self, dims: Dimensions, values: dict[str, float]) -> str:
        provider = self._providers.get(dims)
        if provider is None:
            provider = AmazonCloudWatchEMFProvider(
                namespace=self.namespace, default_dimensions=dict(dims)
            )
            self._providers[dims] = provider
        for name, value in values.items():
            provider.add_metric(name=name, unit=UNITS.get(name, "Count"), value=value)
        document = provider.serialize_metric_set()
        provider.clear_metrics()  # keeps the default dimensions for the next flush
        moment = datetime.fromtimestamp(document["_aws"]["Timestamp"] / 1000, UTC)
        stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return orjson.dumps({"level": self.log_level, "timestamp": stamp, **document}).decode()

    def totals(self) -> dict[tuple[str, Dimensions], float]:
        """Process-lifetime totals (gauges: the last value), for the local /metrics page."""
        with self._lock:
            return dict(self._totals)


def _dims(signal: Signal, level: int | None) -> Dimensions:
    dims: list[tuple[str, str]] = [("Signal", signal.value)]
    if level is not None:
        dims.append(("Level", str(level)))
    return tuple(dims)
