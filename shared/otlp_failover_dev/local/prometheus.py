"""``GET /metrics`` of the local stack, in Prometheus text format.

The level gauge carries the collector's name (``otelcol_connector_failover_current_level``)
so ``curl …/metrics | grep failover`` works as it does against a collector.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from otlp_failover import metrics
from otlp_failover.telemetry import Dimensions

CURRENT_LEVEL = "otelcol_connector_failover_current_level"
_COUNTERS = {
    metrics.FAILOVERS: "otlp_failover_failovers_total",
    metrics.RECOVERIES: "otlp_failover_recoveries_total",
    metrics.EXPORTS_ACCEPTED: "otlp_failover_exports_accepted_total",
    metrics.EXPORT_FAILURES: "otlp_failover_export_failures_total",
    metrics.EXPORTS_REFUSED: "otlp_failover_exports_refused_total",
    metrics.BACKUP_WRITES: "otlp_failover_backup_writes_total",
    metrics.BACKUP_BYTES: "otlp_failover_backup_bytes_total",
    metrics.DRAINED_REQUESTS: "otlp_failover_drained_requests_total",
    metrics.DEAD_LETTERED: "otlp_failover_dead_lettered_requests_total",
}
_GAUGES = {
    metrics.BACKLOG_OBJECTS: "otlp_failover_backlog_objects",
    metrics.BACKLOG_OLDEST_AGE: "otlp_failover_backlog_oldest_age_seconds",
}


def render(
    levels: Mapping[str, int],
    failures: Mapping[str, int],
    totals: Iterable[Mapping[tuple[str, Dimensions], float]],
) -> str:
    """``levels``/``failures`` per signal (read from the state table) and metric totals."""
    lines = [
        f"# HELP {CURRENT_LEVEL} Current priority level per signal (0 = primary).",
        f"# TYPE {CURRENT_LEVEL} gauge",
    ]
    lines += [f'{CURRENT_LEVEL}{{signal="{s}"}} {level}' for s, level in sorted(levels.items())]
    name = "otlp_failover_consecutive_failures"
    lines += [f"# TYPE {name} gauge"]
    lines += [f'{name}{{signal="{s}"}} {count}' for s, count in sorted(failures.items())]
    merged: dict[tuple[str, Dimensions], float] = {}
    for source in totals:
        for key, value in source.items():
            merged[key] = merged.get(key, 0) + value
    for metric, (prometheus_name, kind) in _families().items():
        samples = sorted(
            (dims, value) for (name_, dims), value in merged.items() if name_ == metric
        )
        if not samples:
            continue
        lines.append(f"# TYPE {prometheus_name} {kind}")
        lines += [f"{prometheus_name}{_labels(dims)} {_number(value)}" for dims, value in samples]
    return "\n".join(lines) + "\n"


def _families() -> dict[str, tuple[str, str]]:
    families = {metric: (name, "counter") for metric, name in _COUNTERS.items()}
    families.update({metric: (name, "gauge") for metric, name in _GAUGES.items()})
    return families


def _labels(dims: Dimensions) -> str:
    return "{" + ",".join(f'{key.lower()}="{value}"' for key, value in dims) + "}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)
