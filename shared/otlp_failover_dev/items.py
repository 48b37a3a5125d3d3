"""Item names: every span, log record and metric data point that the drill, the chaos suite
and the tests send carries a unique name, and deliveries are counted by it.

The name is a span's name, a log record's body, or the ``ITEM_ATTRIBUTE`` attribute of a
metric data point. It is read from the two forms an export takes: the SDK's objects (what
an exporter was handed) and a decoded Export*ServiceRequest (what a backend received).
The walks over a request are here too, for readers that want more than the name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.metrics.export import MetricsData
from opentelemetry.sdk.trace import ReadableSpan

from otlp_failover.signals import Signal
from otlp_failover_dev.local.backend import ReceivedExport

ITEM_ATTRIBUTE = "drill.item"

# ---- decoded requests (what a backend received) ------------------------------------------


def spans(message: Any) -> Iterator[Any]:
    for resource in message.resource_spans:
        for scope in resource.scope_spans:
            yield from scope.spans


def log_records(message: Any) -> Iterator[Any]:
    for resource in message.resource_logs:
        for scope in resource.scope_logs:
            yield from scope.log_records


def data_points(message: Any) -> Iterator[tuple[Any, str, Any]]:
    """``(metric, kind, point)`` for every data point; ``kind`` is the metric's oneof."""
    for resource in message.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                kind = metric.WhichOneof("data")
                for point in getattr(metric, kind).data_points if kind else ():
                    yield metric, kind, point


def item_names(signal: Signal, message: Any) -> list[str]:
    """The item names in one decoded Export*ServiceRequest of ``signal``."""
    if signal is Signal.TRACES:
        return [span.name for span in spans(message)]
    if signal is Signal.LOGS:
        return [record.body.string_value for record in log_records(message)]
    return [
        attribute.value.string_value
        for _metric, _kind, point in data_points(message)
        for attribute in point.attributes
        if attribute.key == ITEM_ATTRIBUTE
    ]


def deliveries(exports: Iterable[ReceivedExport], signal: Signal, prefix: str = "") -> Counter[str]:
    """How many times a backend received each item name of ``signal`` that starts with
    ``prefix`` (a run's own names, when others share the backend)."""
    counts: Counter[str] = Counter()
    for export in exports:
        if export.signal is signal:
            counts.update(n for n in item_names(signal, export.message) if n.startswith(prefix))
    return counts


# ---- the SDK's objects (what an exporter was handed) ---------------------------------------


def sdk_data_points(batch: MetricsData) -> Iterator[tuple[Any, Any]]:
    """``(metric, point)`` for every data point of one SDK metrics collection."""
    for resource in batch.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    yield metric, point


def span_names(batch: Sequence[ReadableSpan]) -> list[str]:
    return [span.name for span in batch]


def log_names(batch: Sequence[ReadableLogRecord]) -> list[str]:
    return [str(readable.log_record.body) for readable in batch]


def point_names(batch: MetricsData) -> list[str]:
    return [
        str(point.attributes[ITEM_ATTRIBUTE])
        for _metric, point in sdk_data_points(batch)
        if point.attributes and ITEM_ATTRIBUTE in point.attributes
    ]
