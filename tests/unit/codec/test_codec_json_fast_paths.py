"""Decode fast paths give exactly what the general code gives, edge cases included.

decode_json's generated builders take the usual form of each value inline (decimal
strings, bucket counts, AnyValue) and leave the rest to the generic, key-walking builders.
These tests pin the edges of each shortcut; test_codec_json_fast_equivalence.py covers the
encoder's shortcuts and compares the two kinds of builder on random documents.
"""

from __future__ import annotations

import math
import time
from typing import Any

import orjson
import pytest
from google.protobuf.descriptor import FieldDescriptor
from opentelemetry.proto.common.v1 import common_pb2

from otlp_failover.codec import (
    decode_json,
    json_decode,
)
from otlp_failover.errors import BadRequestError
from otlp_failover.signals import Signal

T = FieldDescriptor


def _metrics(point: dict[str, Any], kind: str = "histogram") -> bytes:
    metric = {"name": "m", kind: {"dataPoints": [point]}}
    return orjson.dumps({"resourceMetrics": [{"scopeMetrics": [{"metrics": [metric]}]}]})


def _point(point: dict[str, Any], kind: str = "histogram") -> Any:
    request = decode_json(Signal.METRICS, _metrics(point, kind))
    metric = request.resource_metrics[0].scope_metrics[0].metrics[0]
    return getattr(metric, kind).data_points[0]


def _refusal(point: dict[str, Any], kind: str = "histogram") -> str:
    with pytest.raises(BadRequestError) as caught:
        decode_json(Signal.METRICS, _metrics(point, kind))
    return caught.value.message


# Decimal strings: the fast path takes ASCII digits of fewer digits than the type's
# largest value; everything else is the general converter's to take or refuse.

UINT64_ACCEPTED = [
    ("0", 0),
    ("1", 1),
    ("01", 1),
    ("0" * 30 + "7", 7),
    ("9" * 19, 10**19 - 1),
    (str(2**64 - 1), 2**64 - 1),
    (5, 5),
    (2**64 - 1, 2**64 - 1),
    (3.0, 3),
]
INT_REFUSED = [
    "",
    "+1",
    " 1",
    "1 ",
    "1e3",
    "1.0",
    "1_000",
    "0x10",
    "\u0661\u0662",
    "\u00b2",
    "\u22121",
    "1\n",
]


@pytest.mark.parametrize(("value", "expected"), UINT64_ACCEPTED)
def test_uint64_decimal_strings_and_numbers_are_accepted(value: Any, expected: int) -> None:
    assert _point({"timeUnixNano": value}).time_unix_nano == expected


@pytest.mark.parametrize("value", [*INT_REFUSED, "-1", str(2**64), "1" + "0" * 25, -1, True])
def test_uint64_values_that_are_not_in_range_decimal_strings_are_400(value: Any) -> None:
    assert "dataPoints[0].timeUnixNano: " in _refusal({"timeUnixNano": value})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-1", -1),
        ("-0", 0),
        ("9" * 18, 10**18 - 1),
        (str(2**63 - 1), 2**63 - 1),
        (str(-(2**63)), -(2**63)),
        ("-" + "0" * 25 + "3", -3),
    ],
)
def test_int64_decimal_strings_take_a_sign(value: str, expected: int) -> None:
    assert _point({"asInt": value}, "sum").as_int == expected


@pytest.mark.parametrize("value", [*INT_REFUSED, str(2**63), str(-(2**63) - 1), "--1", "-"])
def test_int64_strings_out_of_range_or_malformed_are_400(value: str) -> None:
    assert "dataPoints[0].asInt: " in _refusal({"asInt": value}, "sum")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("4294967295", 2**32 - 1), ("999999999", 999999999), ("0", 0), (7, 7)],
)
def test_uint32_decimal_strings_are_accepted(value: Any, expected: int) -> None:
    assert _point({"flags": value}).flags == expected


@pytest.mark.parametrize("value", ["4294967296", "99999999999", "-1", -1, 2**32, "1 ", True])
def test_uint32_values_out_of_range_or_malformed_are_400(value: Any) -> None:
    assert "dataPoints[0].flags: " in _refusal({"flags": value})


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        (["1", "2", "3"], [1, 2, 3]),
        ([], []),
        ([1, "2", 3.0], [1, 2, 3]),
        (["0" * 25 + "1"], [1]),
        ([str(2**64 - 1), "0"], [2**64 - 1, 0]),
    ],
)
def test_bucket_counts_lists_are_accepted(counts: list[Any], expected: list[int]) -> None:
    assert list(_point({"bucketCounts": counts}).bucket_counts) == expected


@pytest.mark.parametrize(
    ("counts", "index"),
    [
        (["1", ""], 1),
        (["", "1"], 0),
        (["1", "+2"], 1),
        (["1", " 2"], 1),
        (["٣"], 0),
        (["1", "-2"], 1),
        ([str(2**64)], 0),
        (["1", "2", True], 2),
        (["1", None], 1),
        (["1", ["2"]], 1),
    ],
)
def test_bad_bucket_counts_are_400_naming_the_item(counts: list[Any], index: int) -> None:
    assert f"dataPoints[0].bucketCounts[{index}]: " in _refusal({"bucketCounts": counts})


def test_bucket_counts_that_are_not_a_list_are_400() -> None:
    assert "bucketCounts: expected an array, got string" in _refusal({"bucketCounts": "12"})


def test_explicit_bounds_take_numbers_and_the_special_strings() -> None:
    bounds = _point({"explicitBounds": [1, 2.5, "NaN", "-Infinity", "3"]}).explicit_bounds
    assert math.isnan(bounds[2])
    assert [bounds[0], bounds[1], bounds[3], bounds[4]] == [1.0, 2.5, -math.inf, 3.0]
    assert "explicitBounds[1]: expected a number" in _refusal({"explicitBounds": [1.0, True]})


def test_string_lists_refuse_other_values() -> None:
    entity = {"idKeys": ["a", 1]}
    data = orjson.dumps({"resourceSpans": [{"resource": {"entityRefs": [entity]}}]})
    with pytest.raises(BadRequestError, match=r"entityRefs\[0\]\.idKeys\[1\]: expected a string"):
        decode_json(Signal.TRACES, data)


def test_first_bad_value_in_document_order_is_reported() -> None:
    # The fast builder reads fields in schema order; the report follows the document.
    assert "dataPoints[0].flags: " in _refusal({"flags": "x", "timeUnixNano": "y"})
    assert "dataPoints[0].timeUnixNano: " in _refusal({"timeUnixNano": "y", "flags": "x"})


@pytest.mark.parametrize(
    "body",
    [
        {"stringValue": None},
        {"string_value": "s"},
        {"stringValue": "s", "futureField": 1},
        {"boolValue": False},
        {"intValue": "0"},
        {"doubleValue": 0},
        {"arrayValue": {}},
        {},
    ],
    ids=str,
)
def test_any_values_in_unusual_forms_decode_like_the_generic_builders_say(
    body: dict[str, Any],
) -> None:
    data = orjson.dumps(
        {
            "resourceLogs": [
                {
                    "scopeLogs": [
                        {
                            "logRecords": [
                                {"body": body, "attributes": [{"key": "k", "value": body}]}
                            ]
                        }
                    ]
                }
            ]
        }
    )
    record = decode_json(Signal.LOGS, data).resource_logs[0].scope_logs[0].log_records[0]
    expected = common_pb2.AnyValue(**json_decode._generic[common_pb2.AnyValue.DESCRIPTOR](body, 0))
    assert record.body == expected
    assert record.attributes[0].value == expected
    assert record.HasField("body")


@pytest.mark.parametrize("extra", ['"future":1', '"keyStrindex":null', '"key_strindex":0'])
def test_unusual_keys_at_every_level_cost_one_generic_pass_per_object(extra: str) -> None:
    # Every KeyValue has a key the fast builder does not read: were an object converted
    # twice (fast, then generic), 30 levels would take 2**30 conversions.
    levels = 30  # 3 messages a level, 4 above the first body: 94, within the limit
    body = '{"stringValue":"leaf"}'
    for _ in range(levels):
        body = f'{{"kvlistValue":{{"values":[{{"key":"k",{extra},"value":{body}}}]}}}}'
    data = f'{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{body}}}]}}]}}]}}'
    started = time.perf_counter()
    record = decode_json(Signal.LOGS, data.encode()).resource_logs[0].scope_logs[0]
    assert time.perf_counter() - started < 5
    value = record.log_records[0].body
    for _ in range(levels):
        value = value.kvlist_value.values[0].value
    assert value.string_value == "leaf"
