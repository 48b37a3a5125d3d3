"""decode_json takes what OTLP/JSON senders write and refuses the rest with a clear 400."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.trace.v1 import trace_pb2

from otlp_failover.codec import decode_json, encode_json
from otlp_failover.errors import BadRequestError
from otlp_failover.signals import Signal

TRACE_ID = "5B8EFFF798038103D269B633813FC60C"
SPAN_ID = "EEE19B7EC3C1B174"


def _traces(span: dict[str, Any]) -> bytes:
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()


def _span(span: dict[str, Any]) -> Any:
    return decode_json(Signal.TRACES, _traces(span)).resource_spans[0].scope_spans[0].spans[0]


def _logs_body(body: Any) -> bytes:
    record = {"body": body}
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}).encode()


def _rejected(signal: Signal, data: bytes) -> str:
    with pytest.raises(BadRequestError) as caught:
        decode_json(signal, data)
    assert caught.value.status == 400
    return caught.value.message


# Accepted forms


def test_hex_ids_are_accepted_in_either_case() -> None:
    upper = _span({"traceId": TRACE_ID, "spanId": SPAN_ID})
    lower = _span({"traceId": TRACE_ID.lower(), "spanId": SPAN_ID.lower()})
    assert upper.trace_id == lower.trace_id == bytes.fromhex(TRACE_ID)
    assert upper.span_id == bytes.fromhex(SPAN_ID)


def test_empty_id_strings_are_empty_ids() -> None:
    span = _span({"traceId": "", "parentSpanId": ""})
    assert span.trace_id == b""
    assert span.parent_span_id == b""


def test_snake_case_field_names_are_accepted_like_lower_camel_case() -> None:
    snake = _span({"trace_id": TRACE_ID, "start_time_unix_nano": "5", "dropped_events_count": 2})
    camel = _span({"traceId": TRACE_ID, "startTimeUnixNano": "5", "droppedEventsCount": 2})
    assert snake == camel
    assert snake.start_time_unix_nano == 5


def test_enums_are_accepted_as_integers_names_and_unknown_integers() -> None:
    assert _span({"kind": 2}).kind == trace_pb2.Span.SPAN_KIND_SERVER
    assert _span({"kind": "SPAN_KIND_SERVER"}).kind == trace_pb2.Span.SPAN_KIND_SERVER
    assert _span({"kind": "2"}).kind == trace_pb2.Span.SPAN_KIND_SERVER
    assert _span({"kind": 42}).kind == 42  # proto3 enums are open


@pytest.mark.parametrize(
    "value",
    [1544712660300000000, "1544712660300000000", 1.5443e18],
    ids=["number", "string", "float"],
)
def test_64_bit_integers_are_accepted_as_numbers_or_decimal_strings(value: Any) -> None:
    assert _span({"startTimeUnixNano": value}).start_time_unix_nano == int(value)


def test_largest_uint64_is_accepted_as_number_and_string() -> None:
    assert _span({"endTimeUnixNano": 2**64 - 1}).end_time_unix_nano == 2**64 - 1
    assert _span({"endTimeUnixNano": str(2**64 - 1)}).end_time_unix_nano == 2**64 - 1


def test_unknown_fields_are_ignored_at_every_level() -> None:
    data = json.dumps(
        {
            "resourceSpans": [
                {
                    "futureField": {"deep": [1, 2, {"x": None}]},
                    "scopeSpans": [{"spans": [{"name": "s", "newThing": 1}], "extra": "x"}],
                }
            ],
            "topLevelExtra": True,
        }
    ).encode()
    message = decode_json(Signal.TRACES, data)
    assert message.resource_spans[0].scope_spans[0].spans[0].name == "s"


def test_null_means_the_default_value() -> None:
    span = _span({"name": None, "attributes": None, "status": None, "kind": None})
    assert span == trace_pb2.Span()


def test_special_double_strings_and_numeric_strings_are_accepted() -> None:
    data = _logs_body(
        {"arrayValue": {"values": [{"doubleValue": v} for v in ("NaN", "-Infinity", "2.5", 3)]}}
    )
    values = decode_json(Signal.LOGS, data).resource_logs[0].scope_logs[0].log_records[0].body
    doubles = [item.double_value for item in values.array_value.values]
    assert doubles[0] != doubles[0]
    assert doubles[1:] == [float("-inf"), 2.5, 3.0]


def test_bytes_values_accept_standard_and_url_safe_base64_with_or_without_padding() -> None:
    for text in ("/+8=", "_-8", "_-8="):
        data = _logs_body({"bytesValue": text})
        record = decode_json(Signal.LOGS, data).resource_logs[0].scope_logs[0].log_records[0]
        assert record.body.bytes_value == b"\xff\xef"


def test_empty_object_is_an_empty_request() -> None:
    for signal in Signal:
        assert decode_json(signal, b"{}") == signal.request_class()
        assert decode_json(signal, b"  {}\n") == signal.request_class()


# Refused forms


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"{", "invalid JSON"),
        (b"", "invalid JSON"),
        (b'{"resourceSpans": []} trailing', "invalid JSON"),
        (b'{"resourceSpans": [}', "invalid JSON"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b'{"resourceSpans": [{"schemaUrl": "\xc3\x28"}]}', "not valid UTF-8"),
        (b'{"a": "\\ud800"}', "invalid JSON"),
        (b"[]", "expected a JSON object, got an array"),
        (b"null", "expected a JSON object, got null"),
        (b'"x"', "expected a JSON object"),
    ],
    ids=[
        "unterminated",
        "empty",
        "trailing",
        "bad-syntax",
        "not-utf8",
        "bad-utf8-in-string",
        "lone-surrogate",
        "array",
        "null",
        "string",
    ],
)
def test_documents_that_are_not_otlp_json_objects_are_400(data: bytes, fragment: str) -> None:
    assert fragment in _rejected(Signal.TRACES, data)


@pytest.mark.parametrize(
    ("span", "fragment"),
    [
        ({"traceId": TRACE_ID[:-2]}, "traceId: expected 32 hex characters"),
        ({"traceId": TRACE_ID + "00"}, "expected 32 hex characters"),
        ({"spanId": "ZZ" * 8}, "spanId: expected 16 hex characters"),
        ({"spanId": "0a 1b 2c 3d 4e 5f"}, "expected 16 hex characters"),
        ({"parentSpanId": "é" * 16}, "parentSpanId: expected 16 hex characters"),
        ({"traceId": 5}, "expected 32 hex characters, got an integer"),
        ({"name": 5}, "name: expected a string, got an integer"),
        ({"kind": "SPAN_KIND_NOPE"}, "unknown opentelemetry.proto.trace.v1.Span.SpanKind value"),
        ({"kind": True}, "expected an integer, got a boolean"),
        ({"kind": 2**31}, "out of range"),
        ({"droppedAttributesCount": -1}, "out of range"),
        ({"startTimeUnixNano": 2**64}, "out of range"),
        ({"startTimeUnixNano": "12x"}, "expected an integer, got string '12x'"),
        ({"startTimeUnixNano": " 12"}, "expected an integer"),
        ({"startTimeUnixNano": "1_000"}, "expected an integer"),
        ({"startTimeUnixNano": 1.5}, "expected an integer"),
        ({"attributes": {"key": "a"}}, "attributes: expected an array, got an object"),
        ({"attributes": [{"key": "a"}, "x"]}, "attributes[1]: expected a JSON object"),
        ({"status": []}, "status: expected a JSON object, got an array"),
        ({"status": {"code": "nope"}}, "status.code: unknown"),
        (
            {"events": [{}, {"attributes": [{"value": {"boolValue": "true"}}]}]},
            "events[1].attributes[0].value.boolValue: expected true or false",
        ),
    ],
)
def test_values_of_the_wrong_type_or_range_are_400_naming_the_field(
    span: dict[str, Any], fragment: str
) -> None:
    message = _rejected(Signal.TRACES, _traces(span))
    assert fragment in message
    assert message.startswith("OTLP/JSON traces request: resourceSpans[0].scopeSpans[0].spans[0]")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"doubleValue": "nan"}, "expected a number"),
        ({"doubleValue": "1e999"}, "out of the range of a double"),
        ({"doubleValue": True}, "expected a number, got a boolean"),
        ({"bytesValue": "not base64!"}, "expected base64 bytes"),
        ({"intValue": "9223372036854775808"}, "out of range"),
        ({"stringValue": "a", "intValue": 1}, "more than one field of a oneof"),
    ],
)
def test_log_bodies_with_bad_values_are_400(body: dict[str, Any], fragment: str) -> None:
    assert fragment in _rejected(Signal.LOGS, _logs_body(body))


def test_metric_with_two_data_kinds_is_400() -> None:
    metric = {"name": "m", "gauge": {}, "sum": {}}
    data = orjson.dumps({"resourceMetrics": [{"scopeMetrics": [{"metrics": [metric]}]}]})
    assert "more than one field of a oneof" in _rejected(Signal.METRICS, data)


def _nested_array_body(levels: int) -> Any:
    value: Any = {"stringValue": "leaf"}
    for _ in range(levels):
        value = {"arrayValue": {"values": [value]}}
    return value


def test_nesting_up_to_the_protobuf_parser_limit_is_accepted() -> None:
    # Below the request: 3 envelope levels + the body + 2 per array level = 100, upb's limit.
    record = decode_json(Signal.LOGS, _logs_body(_nested_array_body(48)))
    assert record.resource_logs[0].scope_logs[0].log_records[0].body.HasField("array_value")


def test_nesting_deeper_than_the_protobuf_parser_limit_is_400() -> None:
    assert "nested deeper than 100" in _rejected(Signal.LOGS, _logs_body(_nested_array_body(49)))


def test_absurdly_deep_json_is_400_not_a_recursion_error() -> None:
    data = b'{"resourceLogs":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert "invalid JSON" in _rejected(Signal.LOGS, data)
    # 200 kvlist levels: 800 JSON levels, within orjson's limit, far past the message limit.
    levels = 200
    body = '{"kvlistValue":{"values":[{"key":"k","value":' * levels + "{}" + "}]}}" * levels
    deep_kvlist = f'{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{body}}}]}}]}}]}}'
    assert "nested deeper" in _rejected(Signal.LOGS, deep_kvlist.encode())


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
FIELD_NAMES = st.sampled_from(
    [
        "resourceSpans",
        "scopeSpans",
        "spans",
        "traceId",
        "name",
        "kind",
        "attributes",
        "key",
        "value",
        "stringValue",
        "arrayValue",
        "kvlistValue",
        "values",
        "status",
        "code",
        "startTimeUnixNano",
        "events",
        "links",
        "flags",
        "resource",
        "scope",
        "intValue",
    ]
)
SCHEMA_SHAPED = st.recursive(
    JSON_VALUES,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(FIELD_NAMES, children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=SCHEMA_SHAPED)
def test_any_json_document_decodes_or_is_a_400_never_another_exception(document: Any) -> None:
    data = json.dumps(document).encode()
    try:
        message = decode_json(Signal.TRACES, data)
    except BadRequestError as exc:
        assert exc.status == 400
    else:
        assert decode_json(Signal.TRACES, encode_json(message)) == message


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=64))
def test_any_bytes_decode_or_are_a_400(data: bytes) -> None:
    try:
        decode_json(Signal.LOGS, data)
    except BadRequestError as exc:
        assert exc.status == 400


def test_error_deep_inside_nested_arrays_is_located_without_reconverting_each_level() -> None:
    # Locating the failing item by converting again would take 2**48 steps here.
    value: Any = {"intValue": "x"}
    for _ in range(48):
        value = {"arrayValue": {"values": [{"stringValue": "ok"}, value]}}
    message = _rejected(Signal.LOGS, _logs_body(value))
    assert ".arrayValue.values[1]" * 48 + ".intValue: expected an integer" in message
