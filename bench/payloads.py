"""Realistic OTLP export requests of a chosen size, generated from a seed (no fixtures).

Traces: spans with attributes, events (exceptions with stack traces among them) and links.
Metrics: every point kind (gauge, sum, histogram, exponential histogram, summary), points
with attributes, exemplars carrying trace and span ids. Logs: records with string and
structured bodies, attributes and trace context. Several resources and scopes per request,
as a collector's batch processor sends them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from otlp_failover.signals import Signal

KIB = 1024
MIB = 1024 * KIB
SIZES = {"1KiB": KIB, "100KiB": 100 * KIB, "1MiB": MIB}

_ITEMS_PER_SCOPE = 120
_SCOPES_PER_RESOURCE = 3
_T0 = 1_764_240_000_000_000_000  # 2025-11-27T10:40:00Z in ns
_SERVICES = ("checkout", "cart", "payment", "frontend", "inventory", "shipping", "email")
_ROUTES = ("/api/cart", "/api/checkout", "/api/products/{id}", "/healthz", "/api/orders")
_WORDS = (
    *("request", "failed", "upstream", "timeout", "retry", "cache", "miss", "user", "order"),
    *("payment", "accepted", "declined", "inventory", "reserved", "shipping", "label"),
    *("created", "queue", "message", "processed"),
)
_STACK = "\n".join(
    f'  File "/app/service/module_{n}.py", line {10 * n + 3}, in handler_{n}' for n in range(12)
)


class _Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - test data, not security

    def trace_id(self) -> bytes:
        return self.rng.randbytes(16)

    def span_id(self) -> bytes:
        return self.rng.randbytes(8)

    def words(self, low: int, high: int) -> str:
        return " ".join(self.rng.choice(_WORDS) for _ in range(self.rng.randint(low, high)))

    def attributes(self, target: Any, count: int) -> None:
        rng = self.rng
        for n in range(count):
            kind = n % 5
            kv = target.add(key=f"app.attr_{n}" if kind else "http.route")
            if kind == 0:
                kv.value.string_value = rng.choice(_ROUTES)
            elif kind == 1:
                kv.value.int_value = rng.randint(0, 10**9)
            elif kind == 2:
                kv.value.double_value = rng.random() * 1000
            elif kind == 3:
                kv.value.bool_value = rng.random() < 0.5
            else:
                kv.value.string_value = self.words(1, 6)

    def resource(self, target: Any, index: int) -> None:
        service = _SERVICES[index % len(_SERVICES)]
        pairs = {
            "service.name": service,
            "service.version": f"1.{index % 9}.{self.rng.randint(0, 40)}",
            "service.namespace": "shop",
            "deployment.environment.name": "production",
            "host.name": f"ip-10-0-{self.rng.randint(0, 255)}-{self.rng.randint(0, 255)}",
            "cloud.provider": "aws",
            "cloud.region": "eu-west-1",
            "k8s.pod.name": f"{service}-{self.rng.randbytes(4).hex()}",
            "telemetry.sdk.language": "python",
            "telemetry.sdk.version": "1.45.1",
        }
        for key, value in pairs.items():
            target.attributes.add(key=key).value.string_value = value

    def scope(self, target: Any, index: int) -> None:
        target.name = f"opentelemetry.instrumentation.lib{index}"
        target.version = "0.66b1"


def _span(gen: _Gen, spans: Any) -> None:
    rng = gen.rng
    span = spans.add()
    span.trace_id, span.span_id, span.parent_span_id = gen.trace_id(), gen.span_id(), gen.span_id()
    span.name = f"{rng.choice(('GET', 'POST'))} {rng.choice(_ROUTES)}"
    span.kind = rng.randint(1, 5)
    span.start_time_unix_nano = _T0 + rng.randint(0, 10**12)
    span.end_time_unix_nano = span.start_time_unix_nano + rng.randint(10**5, 10**9)
    span.flags = 0x101
    gen.attributes(span.attributes, rng.randint(6, 12))
    for n in range(rng.randint(1, 3)):
        event = span.events.add(name="exception" if n == 0 else "log")
        event.time_unix_nano = span.start_time_unix_nano + n * 1000
        if n == 0 and rng.random() < 0.3:
            event.attributes.add(key="exception.type").value.string_value = "TimeoutError"
            event.attributes.add(key="exception.stacktrace").value.string_value = _STACK
        else:
            gen.attributes(event.attributes, 2)
    for _ in range(rng.randint(0, 2)):
        link = span.links.add(trace_id=gen.trace_id(), span_id=gen.span_id())
        gen.attributes(link.attributes, 1)
    span.status.code = rng.choice((0, 1, 1, 2))
    if span.status.code == 2:
        span.status.message = gen.words(2, 5)


def _exemplars(gen: _Gen, point: Any, as_int: bool = False) -> None:
    for _ in range(gen.rng.randint(1, 2)):
        exemplar = point.exemplars.add(trace_id=gen.trace_id(), span_id=gen.span_id())
        exemplar.time_unix_nano = _T0 + gen.rng.randint(0, 10**12)
        if as_int:
            exemplar.as_int = gen.rng.randint(0, 10**6)
        else:
            exemplar.as_double = gen.rng.random() * 100
        exemplar.filtered_attributes.add(key="user.id").value.string_value = str(
            gen.rng.randint(1, 10**6)
        )


def _point_common(gen: _Gen, point: Any) -> None:
    point.start_time_unix_nano = _T0
    point.time_unix_nano = _T0 + gen.rng.randint(10**9, 10**12)
    gen.attributes(point.attributes, gen.rng.randint(2, 4))


def _metric(gen: _Gen, metrics: Any) -> None:
    rng = gen.rng
    kind = rng.randrange(5)
    metric = metrics.add(name=f"app.metric_{kind}_{rng.randint(0, 99)}", unit="ms")
    metric.description = gen.words(3, 8)
    for _ in range(rng.randint(1, 3)):
        if kind == 0:
            point = metric.gauge.data_points.add(as_double=rng.random() * 100)
            _exemplars(gen, point)
        elif kind == 1:
            metric.sum.aggregation_temporality, metric.sum.is_monotonic = 2, True
            point = metric.sum.data_points.add(as_int=rng.randint(0, 10**9))
            _exemplars(gen, point, as_int=True)
        elif kind == 2:
            metric.histogram.aggregation_temporality = 2
            bounds = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000]
            counts = [rng.randint(0, 500) for _ in range(len(bounds) + 1)]
            point = metric.histogram.data_points.add(
                count=sum(counts), sum=rng.random() * 10**5, bucket_counts=counts
            )
            point.explicit_bounds.extend(bounds)
            point.min, point.max = 0.1, 9000.5
            _exemplars(gen, point)
        elif kind == 3:
            metric.exponential_histogram.aggregation_temporality = 1
            point = metric.exponential_histogram.data_points.add(
                scale=3, zero_count=rng.randint(0, 9), sum=rng.random() * 10**4
            )
            point.positive.offset = rng.randint(-5, 5)
            point.positive.bucket_counts.extend(rng.randint(0, 300) for _ in range(20))
            point.negative.offset = -2
            point.negative.bucket_counts.extend(rng.randint(0, 30) for _ in range(4))
            point.count = sum(point.positive.bucket_counts) + sum(point.negative.bucket_counts)
            point.min, point.max, point.zero_threshold = -3.5, 812.25, 1e-9
            _exemplars(gen, point)
        else:
            point = metric.summary.data_points.add(count=rng.randint(1, 10**5))
            point.sum = rng.random() * 10**6
            for quantile in (0.0, 0.5, 0.9, 0.99, 1.0):
                point.quantile_values.add(quantile=quantile, value=rng.random() * 1000)
        _point_common(gen, point)


def _log(gen: _Gen, records: Any) -> None:
    rng = gen.rng
    record = records.add(trace_id=gen.trace_id(), span_id=gen.span_id(), flags=1)
    record.time_unix_nano = _T0 + rng.randint(0, 10**12)
    record.observed_time_unix_nano = record.time_unix_nano + 1000
    record.severity_number = rng.choice((5, 9, 9, 9, 13, 17))
    record.severity_text = {5: "DEBUG", 9: "INFO", 13: "WARN", 17: "ERROR"}[record.severity_number]
    if rng.random() < 0.7:
        record.body.string_value = f"{gen.words(6, 24)} order={rng.randint(1, 10**8)}"
    else:
        body = record.body.kvlist_value.values
        body.add(key="message", value=AnyValue(string_value=gen.words(4, 12)))
        body.add(key="latency_ms", value=AnyValue(double_value=rng.random() * 500))
        nested = AnyValue()
        nested.array_value.values.add(string_value=gen.words(1, 2))
        nested.array_value.values.add(int_value=rng.randint(0, 100))
        body.append(KeyValue(key="tags", value=nested))
    record.event_name = rng.choice(("", "", "app.order.created"))
    gen.attributes(record.attributes, rng.randint(3, 8))


_ITEMS: dict[Signal, tuple[str, str, str, Callable[[_Gen, Any], None]]] = {
    Signal.TRACES: ("resource_spans", "scope_spans", "spans", _span),
    Signal.METRICS: ("resource_metrics", "scope_metrics", "metrics", _metric),
    Signal.LOGS: ("resource_logs", "scope_logs", "log_records", _log),
}


def export_request(signal: Signal, target_bytes: int, seed: int = 1) -> Any:
    """An Export*ServiceRequest whose protobuf encoding is about ``target_bytes`` long.

    Items are added until the next would overshoot by more than 10 % (at least one item).
    """
    resource_key, scope_key, items_key, add_item = _ITEMS[signal]
    gen = _Gen(seed)
    request = signal.request_class()
    size, items, resource_count, scope_count = 0, None, 0, 0
    item_count = 0
    while True:
        if items is None or item_count % _ITEMS_PER_SCOPE == 0:
            if resource_count == 0 or scope_count % _SCOPES_PER_RESOURCE == 0:
                resource_entry = getattr(request, resource_key).add()
                gen.resource(resource_entry.resource, resource_count)
                resource_entry.schema_url = "https://opentelemetry.io/schemas/1.26.0"
                resource_count += 1
                size += resource_entry.ByteSize() + 4
            scope_entry = getattr(resource_entry, scope_key).add()
            gen.scope(scope_entry.scope, scope_count)
            scope_count += 1
            size += scope_entry.ByteSize() + 4
            items = getattr(scope_entry, items_key)
        add_item(gen, items)
        grown = items[-1].ByteSize() + 4
        if item_count and size + grown > target_bytes * 1.1:
            del items[-1]
            break
        size += grown
        item_count += 1
        if size >= target_bytes:
            break
    return request


def export_bytes(signal: Signal, size_name: str, seed: int = 1) -> bytes:
    return bytes(export_request(signal, SIZES[size_name], seed).SerializeToString())
