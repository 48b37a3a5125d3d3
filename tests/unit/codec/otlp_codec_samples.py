"""Shared fixtures of the codec tests: conformance files, random requests, comparisons."""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from hypothesis import strategies as st

from otlp_failover.signals import Signal

# The official OTLP/JSON examples, copied into the repository (see their README).
CONFORMANCE_DIR = Path(__file__).resolve().parents[2] / "data" / "otlp-json"
CONFORMANCE_FILES = {
    Signal.TRACES: "trace.json",
    Signal.METRICS: "metrics.json",
    Signal.LOGS: "logs.json",
}

ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId"})

INT32 = st.integers(-(2**31), 2**31 - 1)
UINT32 = st.integers(0, 2**32 - 1)
INT64 = st.integers(-(2**63), 2**63 - 1)
UINT64 = st.integers(0, 2**64 - 1)
# One canonical NaN (JSON cannot carry NaN payloads); -0.0, infinities and subnormals stay.
DOUBLES = st.floats(allow_nan=False) | st.just(math.nan)
TEXT = st.text(max_size=12)
TRACE_ID = st.sampled_from([b""]) | st.binary(min_size=16, max_size=16)
SPAN_ID = st.sampled_from([b""]) | st.binary(min_size=8, max_size=8)


def small_lists(elements: st.SearchStrategy[Any], max_size: int = 3) -> st.SearchStrategy[Any]:
    return st.lists(elements, max_size=max_size)


def any_value() -> st.SearchStrategy[dict[str, Any]]:
    """``AnyValue`` keywords, nested arrays and kvlists included, or unset (``{}``)."""
    leaves = st.one_of(
        st.just({}),
        st.builds(lambda v: {"string_value": v}, TEXT),
        st.builds(lambda v: {"bool_value": v}, st.booleans()),
        st.builds(lambda v: {"int_value": v}, INT64),
        st.builds(lambda v: {"double_value": v}, DOUBLES),
        st.builds(lambda v: {"bytes_value": v}, st.binary(max_size=8)),
        st.builds(lambda v: {"string_value_strindex": v}, INT32),
    )

    def extend(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
        pairs = st.builds(lambda k, v: {"key": k, "value": v}, TEXT, children)
        return st.one_of(
            st.builds(lambda vs: {"array_value": {"values": vs}}, small_lists(children)),
            st.builds(lambda kvs: {"kvlist_value": {"values": kvs}}, small_lists(pairs)),
        )

    return st.recursive(leaves, extend, max_leaves=6)


def key_value() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"key": TEXT},
        optional={"value": any_value(), "key_strindex": INT32},
    )


ATTRIBUTES = small_lists(key_value())


def _resource() -> st.SearchStrategy[dict[str, Any]]:
    entity = st.fixed_dictionaries(
        {},
        optional={
            "schema_url": TEXT,
            "type": TEXT,
            "id_keys": small_lists(TEXT),
            "description_keys": small_lists(TEXT),
        },
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "attributes": ATTRIBUTES,
            "dropped_attributes_count": UINT32,
            "entity_refs": small_lists(entity, 2),
        },
    )


def _scope() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "name": TEXT,
            "version": TEXT,
            "attributes": ATTRIBUTES,
            "dropped_attributes_count": UINT32,
        },
    )


def _envelope(items_key: str, items: st.SearchStrategy[Any], scope_key: str) -> Any:
    scope = st.fixed_dictionaries(
        {items_key: small_lists(items)},
        optional={"scope": _scope(), "schema_url": TEXT},
    )
    return st.fixed_dictionaries(
        {scope_key: small_lists(scope, 2)},
        optional={"resource": _resource(), "schema_url": TEXT},
    )


def span() -> st.SearchStrategy[dict[str, Any]]:
    event = st.fixed_dictionaries(
        {},
        optional={
            "time_unix_nano": UINT64,
            "name": TEXT,
            "attributes": ATTRIBUTES,
            "dropped_attributes_count": UINT32,
        },
    )
    link = st.fixed_dictionaries(
        {},
        optional={
            "trace_id": TRACE_ID,
            "span_id": SPAN_ID,
            "trace_state": TEXT,
            "attributes": ATTRIBUTES,
            "dropped_attributes_count": UINT32,
            "flags": UINT32,
        },
    )
    status = st.fixed_dictionaries({}, optional={"message": TEXT, "code": INT32})
    return st.fixed_dictionaries(
        {},
        optional={
            "trace_id": TRACE_ID,
            "span_id": SPAN_ID,
            "trace_state": TEXT,
            "parent_span_id": SPAN_ID,
            "flags": UINT32,
            "name": TEXT,
            "kind": INT32,
            "start_time_unix_nano": UINT64,
            "end_time_unix_nano": UINT64,
            "attributes": ATTRIBUTES,
            "dropped_attributes_count": UINT32,
            "events": small_lists(event, 2),
            "dropped_events_count": UINT32,
            "links": small_lists(link, 2),
            "dropped_links_count": UINT32,
            "status": status,
        },
    )


def _exemplar() -> st.SearchStrategy[dict[str, Any]]:
    value = st.one_of(
        st.just({}),
        st.builds(lambda v: {"as_double": v}, DOUBLES),
        st.builds(lambda v: {"as_int": v}, INT64),
    )
    base = st.fixed_dictionaries(
        {},
        optional={
            "filtered_attributes": ATTRIBUTES,
            "time_unix_nano": UINT64,
            "span_id": SPAN_ID,
            "trace_id": TRACE_ID,
        },
    )
    return st.builds(lambda b, v: {**b, **v}, base, value)


def _point(extra: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    common = {
        "attributes": ATTRIBUTES,
        "start_time_unix_nano": UINT64,
        "time_unix_nano": UINT64,
        "flags": UINT32,
    }
    return st.fixed_dictionaries({}, optional={**common, **extra})


def metric() -> st.SearchStrategy[dict[str, Any]]:
    exemplars = small_lists(_exemplar(), 2)
    number = st.builds(
        lambda p, v: {**p, **v},
        _point({"exemplars": exemplars}),
        st.one_of(
            st.just({}),
            st.builds(lambda v: {"as_double": v}, DOUBLES),
            st.builds(lambda v: {"as_int": v}, INT64),
        ),
    )
    histogram = _point(
        {
            "count": UINT64,
            "sum": DOUBLES,
            "bucket_counts": small_lists(UINT64),
            "explicit_bounds": small_lists(DOUBLES),
            "exemplars": exemplars,
            "min": DOUBLES,
            "max": DOUBLES,
        }
    )
    buckets = st.fixed_dictionaries(
        {}, optional={"offset": INT32, "bucket_counts": small_lists(UINT64)}
    )
    exponential = _point(
        {
            "count": UINT64,
            "sum": DOUBLES,
            "scale": INT32,
            "zero_count": UINT64,
            "positive": buckets,
            "negative": buckets,
            "exemplars": exemplars,
            "min": DOUBLES,
            "max": DOUBLES,
            "zero_threshold": DOUBLES,
        }
    )
    quantile = st.fixed_dictionaries({}, optional={"quantile": DOUBLES, "value": DOUBLES})
    summary = _point({"count": UINT64, "sum": DOUBLES, "quantile_values": small_lists(quantile)})
    temporality = {"aggregation_temporality": INT32}
    data = st.one_of(
        st.just({}),
        st.builds(lambda p: {"gauge": {"data_points": p}}, small_lists(number)),
        st.builds(
            lambda p, t, m: {"sum": {"data_points": p, **t, **m}},
            small_lists(number),
            st.fixed_dictionaries({}, optional=temporality),
            st.fixed_dictionaries({}, optional={"is_monotonic": st.booleans()}),
        ),
        st.builds(
            lambda p, t: {"histogram": {"data_points": p, **t}},
            small_lists(histogram),
            st.fixed_dictionaries({}, optional=temporality),
        ),
        st.builds(
            lambda p, t: {"exponential_histogram": {"data_points": p, **t}},
            small_lists(exponential),
            st.fixed_dictionaries({}, optional=temporality),
        ),
        st.builds(lambda p: {"summary": {"data_points": p}}, small_lists(summary)),
    )
    base = st.fixed_dictionaries(
        {}, optional={"name": TEXT, "description": TEXT, "unit": TEXT, "metadata": ATTRIBUTES}
    )
    return st.builds(lambda b, d: {**b, **d}, base, data)


def log_record() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "time_unix_nano": UINT64,
            "observed_time_unix_nano": UINT64,
            "severity_number": INT32,
            "severity_text": TEXT,
            "body": any_value(),
            "attributes": ATTRIBUTES,
            "dropped_attributes_count": UINT32,
            "flags": UINT32,
            "trace_id": TRACE_ID,
            "span_id": SPAN_ID,
            "event_name": TEXT,
        },
    )


def requests(signal: Signal) -> st.SearchStrategy[Any]:
    """Random export requests of ``signal``, every field of opentelemetry-proto 1.45.1."""
    if signal is Signal.TRACES:
        top = _envelope("spans", span(), "scope_spans")
        key = "resource_spans"
    elif signal is Signal.METRICS:
        top = _envelope("metrics", metric(), "scope_metrics")
        key = "resource_metrics"
    else:
        top = _envelope("log_records", log_record(), "scope_logs")
        key = "resource_logs"
    return st.builds(lambda items: signal.request_class(**{key: items}), small_lists(top, 2))


def same_message(left: Any, right: Any) -> bool:
    """Equal field by field, NaN equal to NaN and -0.0 distinct from 0.0 (bit-wise)."""
    return type(left) is type(right) and left.SerializeToString(
        deterministic=True
    ) == right.SerializeToString(deterministic=True)


def json_format_with_hex_ids(message: Any) -> Any:
    """The ground truth: json_format's proto3 JSON with ids turned from base64 into hex."""
    return _hex_ids(json_format.MessageToDict(message, use_integers_for_enums=True))


def _hex_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: base64.b64decode(item).hex() if key in ID_KEYS else _hex_ids(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_hex_ids(item) for item in value]
    return value
