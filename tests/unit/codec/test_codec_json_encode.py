"""encode_json is json_format's proto3 JSON, exactly, with OTLP's hex ids."""

from __future__ import annotations

import json
import math

import pytest
from google.rpc import error_details_pb2, status_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from otlp_failover.codec import encode_json, parse_json_message
from otlp_failover.signals import Signal
from tests.unit.codec.otlp_codec_samples import json_format_with_hex_ids, requests

EXAMPLES = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("signal", list(Signal), ids=str)
def test_every_message_type_of_the_schema_gets_an_encoder(signal: Signal) -> None:
    assert encode_json(signal.request_class()) == b"{}"
    assert encode_json(signal.response_class()) == b"{}"


@pytest.mark.parametrize("signal", list(Signal), ids=str)
@EXAMPLES
@given(data=st.data())
def test_random_requests_encode_exactly_as_json_format_with_hex_ids(
    signal: Signal, data: st.DataObject
) -> None:
    message = data.draw(requests(signal))
    assert json.loads(encode_json(message)) == json_format_with_hex_ids(message)


def test_output_is_one_compact_line() -> None:
    attribute = common_pb2.KeyValue(
        key="line\nbreak", value=common_pb2.AnyValue(string_value="a\nb")
    )
    encoded = encode_json(trace_pb2.Span(name="x", attributes=[attribute]))
    assert b"\n" not in encoded
    assert encoded == (
        b'{"name":"x","attributes":[{"key":"line\\nbreak","value":{"stringValue":"a\\nb"}}]}'
    )


def test_ids_are_lowercase_hex_and_other_bytes_base64() -> None:
    span = trace_pb2.Span(
        trace_id=bytes(range(16)),
        span_id=b"\xab" * 8,
        parent_span_id=b"\xcd" * 8,
        attributes=[
            common_pb2.KeyValue(key="b", value=common_pb2.AnyValue(bytes_value=b"\xff\x00"))
        ],
    )
    document = json.loads(encode_json(span))
    assert document["traceId"] == "000102030405060708090a0b0c0d0e0f"
    assert document["spanId"] == "abababababababab"
    assert document["parentSpanId"] == "cdcdcdcdcdcdcdcd"
    assert document["attributes"][0]["value"] == {"bytesValue": "/wA="}


def test_exemplar_and_link_ids_are_hex_too() -> None:
    link = trace_pb2.Span.Link(trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
    exemplar = metrics_pb2.Exemplar(trace_id=b"\x03" * 16, span_id=b"\x04" * 8, as_int=1)
    assert json.loads(encode_json(link)) == {"traceId": "01" * 16, "spanId": "02" * 8}
    assert json.loads(encode_json(exemplar)) == {
        "traceId": "03" * 16,
        "spanId": "04" * 8,
        "asInt": "1",
    }


def test_64_bit_integers_are_strings_32_bit_integers_and_enums_numbers() -> None:
    span = trace_pb2.Span(
        start_time_unix_nano=2**64 - 1,
        kind=trace_pb2.Span.SPAN_KIND_CLIENT,
        dropped_attributes_count=2**32 - 1,
        flags=0x301,
        attributes=[common_pb2.KeyValue(key="i", value=common_pb2.AnyValue(int_value=-(2**63)))],
    )
    document = json.loads(encode_json(span))
    assert document["startTimeUnixNano"] == "18446744073709551615"
    assert document["kind"] == 3
    assert document["droppedAttributesCount"] == 4294967295
    assert document["flags"] == 0x301
    assert document["attributes"][0]["value"] == {"intValue": "-9223372036854775808"}


def test_non_finite_doubles_are_the_proto3_json_strings() -> None:
    point = metrics_pb2.HistogramDataPoint(
        sum=math.nan, min=-math.inf, max=math.inf, explicit_bounds=[math.nan, 1.5, math.inf]
    )
    document = json.loads(encode_json(point))
    assert document["sum"] == "NaN"
    assert document["min"] == "-Infinity"
    assert document["max"] == "Infinity"
    assert document["explicitBounds"] == ["NaN", 1.5, "Infinity"]


def test_defaults_are_omitted_but_set_oneofs_and_optionals_are_kept_at_zero() -> None:
    point = metrics_pb2.HistogramDataPoint(sum=0.0, count=0)
    assert json.loads(encode_json(point)) == {"sum": 0.0}
    assert json.loads(encode_json(common_pb2.AnyValue(string_value=""))) == {"stringValue": ""}
    assert json.loads(encode_json(common_pb2.AnyValue(int_value=0))) == {"intValue": "0"}
    assert json.loads(encode_json(common_pb2.AnyValue())) == {}
    assert json.loads(encode_json(metrics_pb2.Metric(gauge=metrics_pb2.Gauge()))) == {"gauge": {}}
    assert json.loads(encode_json(trace_pb2.Span(status=trace_pb2.Status()))) == {"status": {}}


def test_negative_zero_is_kept_like_protobuf_serialisation_keeps_it() -> None:
    quantile = metrics_pb2.SummaryDataPoint.ValueAtQuantile(value=-0.0, quantile=0.0)
    encoded = json.loads(encode_json(quantile))
    assert encoded == json_format_with_hex_ids(quantile)
    assert math.copysign(1.0, encoded["value"]) == -1.0
    assert "quantile" not in encoded


def test_unicode_is_written_as_utf8() -> None:
    encoded = encode_json(trace_pb2.Span(name="żółw 🐢"))
    assert encoded == '{"name":"żółw 🐢"}'.encode()


def test_protobuf_features_otlp_does_not_use_fail_loudly_when_the_plan_is_built() -> None:
    with pytest.raises(TypeError, match="map fields are not supported"):
        encode_json(error_details_pb2.ErrorInfo(reason="x"))
    with pytest.raises(TypeError, match="well-known types are not supported"):
        encode_json(status_pb2.Status(code=3))
    with pytest.raises(TypeError, match="map fields are not supported"):
        parse_json_message(error_details_pb2.ErrorInfo, b"{}")
