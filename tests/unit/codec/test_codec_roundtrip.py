"""Random requests of every signal survive OTLP/JSON and protobuf round trips unchanged."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otlp_failover.codec import check_ids, count_items, decode_export, decode_json, encode_json
from otlp_failover.signals import Signal
from tests.unit.codec.otlp_codec_samples import requests, same_message

EXAMPLES = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LIMIT = 1 << 20


def _expected_items(signal: Signal, message: Any) -> int:
    if signal is Signal.TRACES:
        return sum(len(s.spans) for r in message.resource_spans for s in r.scope_spans)
    if signal is Signal.LOGS:
        return sum(len(s.log_records) for r in message.resource_logs for s in r.scope_logs)
    total = 0
    for resource in message.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for kind in ("gauge", "sum", "histogram", "exponential_histogram", "summary"):
                    if metric.HasField(kind):
                        total += len(getattr(metric, kind).data_points)
    return total


@pytest.mark.parametrize("signal", list(Signal), ids=str)
@EXAMPLES
@given(data=st.data())
def test_json_round_trip_gives_back_the_same_message(signal: Signal, data: st.DataObject) -> None:
    message = data.draw(requests(signal))
    line = encode_json(message)
    assert same_message(decode_json(signal, line), message)
    body = decode_export(signal, line, "application/json", None, max_decompressed_bytes=LIMIT)
    assert same_message(body.message, message)


@pytest.mark.parametrize("signal", list(Signal), ids=str)
@EXAMPLES
@given(data=st.data(), gzipped=st.booleans())
def test_protobuf_body_decodes_to_the_message_and_keeps_the_raw_bytes(
    signal: Signal, data: st.DataObject, gzipped: bool
) -> None:
    message = data.draw(requests(signal))
    payload = message.SerializeToString()
    raw = gzip.compress(payload) if gzipped else payload
    body = decode_export(
        signal,
        raw,
        "application/x-protobuf",
        "gzip" if gzipped else None,
        max_decompressed_bytes=LIMIT,
    )
    assert same_message(body.message, message)
    assert body.raw is raw
    assert body.item_count == _expected_items(signal, message) == count_items(signal, message)
    check_ids(body)  # random ids have OTLP lengths: the walk finds nothing wrong


def test_extreme_values_round_trip() -> None:
    request = Signal.METRICS.request_class(
        resource_metrics=[
            {
                "scope_metrics": [
                    {
                        "metrics": [
                            {
                                "sum": {
                                    "data_points": [
                                        {"time_unix_nano": 2**64 - 1, "as_int": -(2**63)},
                                        {"time_unix_nano": 0, "as_double": float("nan")},
                                        {"as_double": float("-inf")},
                                        {"as_double": -0.0},
                                        {"as_double": 5e-324},
                                    ]
                                }
                            }
                        ]
                    }
                ]
            }
        ]
    )
    assert same_message(decode_json(Signal.METRICS, encode_json(request)), request)
