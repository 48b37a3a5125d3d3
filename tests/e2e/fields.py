"""Telemetry items field for field, as comparable tuples, whichever form they come in.

The same span, log record or metric point is read from three places: the SDK's own objects
(what the application recorded), the decoded protobuf messages a backend received, and the
OTLP/JSON lines of the S3 backup (read with ``json``, not the gateway's codec, so the format
is checked independently). Ids are lower-case hex, attributes sorted (key, value) pairs.
The walks over requests and item names are ``otlp_failover_dev.items``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.metrics.export import HistogramDataPoint, MetricsData, NumberDataPoint
from opentelemetry.sdk.trace import ReadableSpan

from otlp_failover.signals import Signal
from otlp_failover_dev import items
from otlp_failover_dev.items import ITEM_ATTRIBUTE
from otlp_failover_dev.local.backend import ReceivedExport

Item = tuple[Any, ...]

# ---- protobuf messages (what a backend decoded) ------------------------------------------


def any_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return tuple(any_value(v) for v in value.array_value.values)
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    return getattr(value, kind)


def attributes(pairs: Iterable[Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((pair.key, any_value(pair.value)) for pair in pairs))


def spans_of(message: Any) -> list[Item]:
    return [
        (
            span.name,
            span.trace_id.hex(),
            span.span_id.hex(),
            span.parent_span_id.hex(),
            span.start_time_unix_nano,
            span.end_time_unix_nano,
            attributes(span.attributes),
        )
        for span in items.spans(message)
    ]


def logs_of(message: Any) -> list[Item]:
    return [
        (
            any_value(record.body),
            record.severity_number,
            record.trace_id.hex(),
            record.span_id.hex(),
            record.time_unix_nano,
            record.observed_time_unix_nano,
            attributes(record.attributes),
        )
        for record in items.log_records(message)
    ]


def points_of(message: Any) -> list[Item]:
    points: list[Item] = []
    for metric, kind, point in items.data_points(message):
        if kind == "histogram":
            value: Any = (
                point.count,
                point.sum,
                tuple(point.bucket_counts),
                tuple(point.explicit_bounds),
            )
        else:
            value = getattr(point, point.WhichOneof("value"))
        points.append((metric.name, attributes(point.attributes), value))
    return points


ITEMS_OF = {Signal.TRACES: spans_of, Signal.METRICS: points_of, Signal.LOGS: logs_of}


def received(exports: Sequence[ReceivedExport], signal: Signal) -> list[Item]:
    """Every item of ``signal`` a backend accepted, in arrival order."""
    return [
        item
        for export in exports
        if export.signal is signal
        for item in ITEMS_OF[signal](export.message)
    ]


# ---- the SDK's objects (what the application recorded) -----------------------------------


def _sdk_attributes(values: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    return tuple(
        sorted(
            (k, tuple(v) if isinstance(v, list | tuple) else v) for k, v in (values or {}).items()
        )
    )


def sdk_spans(spans: Iterable[ReadableSpan]) -> list[Item]:
    found: list[Item] = []
    for span in spans:
        assert span.context is not None
        parent = f"{span.parent.span_id:016x}" if span.parent else ""
        found.append(
            (
                span.name,
                f"{span.context.trace_id:032x}",
                f"{span.context.span_id:016x}",
                parent,
                span.start_time,
                span.end_time,
                _sdk_attributes(span.attributes),
            )
        )
    return found


def sdk_logs(records: Iterable[ReadableLogRecord]) -> list[Item]:
    found: list[Item] = []
    for readable in records:
        record = readable.log_record
        severity = record.severity_number.value if record.severity_number else 0
        trace_id = f"{record.trace_id:032x}" if record.trace_id else ""
        span_id = f"{record.span_id:016x}" if record.span_id else ""
        body = record.body
        found.append(
            (
                body,
                severity,
                trace_id,
                span_id,
                record.timestamp or 0,  # unset: OTLP's 0
                record.observed_timestamp,
                _sdk_attributes(record.attributes),
            )
        )
    return found


def sdk_points(batches: Iterable[MetricsData | None]) -> list[Item]:
    points: list[Item] = []
    for batch in batches:
        for metric, point in items.sdk_data_points(batch) if batch else ():
            value: Any
            if isinstance(point, HistogramDataPoint):
                value = (
                    point.count,
                    float(point.sum),
                    tuple(point.bucket_counts),
                    tuple(float(b) for b in point.explicit_bounds),
                )
            else:
                assert isinstance(point, NumberDataPoint)
                value = point.value
            points.append((metric.name, _sdk_attributes(point.attributes), value))
    return points


# ---- OTLP/JSON lines (the S3 backup) ------------------------------------------------------


def json_names(signal: Signal, document: Mapping[str, Any]) -> list[Item]:
    """The identity of each item in one OTLP/JSON export request, as plain JSON reads it."""
    if signal is Signal.TRACES:
        return [
            (span["name"], span["traceId"], span["spanId"])
            for resource in document["resourceSpans"]
            for scope in resource["scopeSpans"]
            for span in scope["spans"]
        ]
    if signal is Signal.LOGS:
        return [
            (record["body"]["stringValue"], record.get("traceId", ""))
            for resource in document["resourceLogs"]
            for scope in resource["scopeLogs"]
            for record in scope["logRecords"]
        ]
    names: list[Item] = []
    for resource in document["resourceMetrics"]:
        for scope in resource["scopeMetrics"]:
            for metric in scope["metrics"]:
                kind = next(k for k in ("sum", "gauge", "histogram") if k in metric)
                for point in metric[kind]["dataPoints"]:
                    named = {a["key"]: a["value"] for a in point.get("attributes", [])}
                    names.append((metric["name"], named[ITEM_ATTRIBUTE]["stringValue"]))
    return names


def identity(signal: Signal, item: Item) -> Item:
    """The part of a full item that ``json_names`` reads, to compare the two."""
    if signal is Signal.TRACES:
        return item[:3]
    if signal is Signal.LOGS:
        return (item[0], item[2])
    return (item[0], dict(item[1])[ITEM_ATTRIBUTE])
