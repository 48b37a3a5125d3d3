"""Encode shortcuts and generated JSON builders give exactly what the general code gives.

encode_json probes oneof members instead of asking WhichOneof and encodes submessages
before testing their presence; these tests pin those edges. The generated (fast) decode
builders are checked against the generic ones on random documents full of almost-right
values, and the garbage-collector pause is checked to leave the interpreter as it was.
"""

from __future__ import annotations

import gc
import json
import math
from typing import Any

import orjson
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2

from otlp_failover.codec import (
    encode_json,
    json_decode,
    json_encode,
    parse_json_message,
)
from otlp_failover.codec._gc import paused_gc
from otlp_failover.codec._json_values import InvalidValueError
from otlp_failover.codec._schema import ID_FIELD_LENGTHS, INT_RANGES, single_oneof
from otlp_failover.errors import BadRequestError
from otlp_failover.signals import Signal
from tests.unit.codec.otlp_codec_samples import json_format_with_hex_ids

T = FieldDescriptor
_Buckets = metrics_pb2.ExponentialHistogramDataPoint.Buckets

# Encoding: the probes and the encode-then-test presence of submessages.


@pytest.mark.parametrize(
    "message",
    [
        common_pb2.AnyValue(bool_value=False),
        common_pb2.AnyValue(bool_value=True),
        common_pb2.AnyValue(double_value=-0.0),
        common_pb2.AnyValue(double_value=0.0),
        common_pb2.AnyValue(double_value=math.nan),
        common_pb2.AnyValue(int_value=0),
        common_pb2.AnyValue(string_value=""),
        common_pb2.AnyValue(bytes_value=b""),
        common_pb2.AnyValue(string_value_strindex=0),
        common_pb2.AnyValue(array_value=common_pb2.ArrayValue()),
        common_pb2.AnyValue(kvlist_value=common_pb2.KeyValueList()),
        common_pb2.KeyValue(key="k"),
        common_pb2.KeyValue(key="k", value=common_pb2.AnyValue()),
        common_pb2.KeyValue(value=common_pb2.AnyValue(bool_value=False)),
        common_pb2.KeyValue(key="k", value=common_pb2.AnyValue(double_value=-0.0), key_strindex=3),
        logs_pb2.LogRecord(body=common_pb2.AnyValue()),
        logs_pb2.LogRecord(body=common_pb2.AnyValue(int_value=0)),
        metrics_pb2.NumberDataPoint(as_int=0),
        metrics_pb2.NumberDataPoint(as_double=0.0),
        metrics_pb2.NumberDataPoint(as_double=-0.0),
        metrics_pb2.NumberDataPoint(as_double=math.inf),
        metrics_pb2.Exemplar(as_int=-5),
        metrics_pb2.HistogramDataPoint(min=0.0, max=-0.0, sum=0.0),
        metrics_pb2.HistogramDataPoint(explicit_bounds=[1e308, 1e308, -5.0]),
        metrics_pb2.HistogramDataPoint(explicit_bounds=[math.inf, -math.inf]),
        metrics_pb2.HistogramDataPoint(explicit_bounds=[-0.0, 0.0]),
        metrics_pb2.ExponentialHistogramDataPoint(positive=_Buckets(), negative=_Buckets(offset=0)),
        metrics_pb2.Metric(sum=metrics_pb2.Sum()),
        metrics_pb2.Metric(
            summary=metrics_pb2.Summary(data_points=[metrics_pb2.SummaryDataPoint()])
        ),
    ],
    ids=lambda m: f"{type(m).__name__}({str(m).strip()})".replace("\n", " "),
)
def test_zero_and_special_values_encode_exactly_as_json_format(message: Any) -> None:
    encoded = encode_json(message)
    assert json.loads(encoded) == json_format_with_hex_ids(message)
    decoded = parse_json_message(type(message), encoded)
    # Bytes, not ==: a NaN is not equal to itself.
    assert decoded.SerializeToString(deterministic=True) == message.SerializeToString(
        deterministic=True
    )


def _recursive_node_class() -> Any:
    """``message Node { Node next_node = 1; string label = 2; repeated Node children = 3; }``"""
    proto = descriptor_pb2.FileDescriptorProto(
        name="otlp_codec_test_node.proto", package="codectest", syntax="proto3"
    )
    node = proto.message_type.add(name="Node")
    node.field.add(
        name="next_node",
        number=1,
        type=T.TYPE_MESSAGE,
        label=T.LABEL_OPTIONAL,
        type_name=".codectest.Node",
    )
    node.field.add(name="label", number=2, type=T.TYPE_STRING, label=T.LABEL_OPTIONAL)
    node.field.add(
        name="children",
        number=3,
        type=T.TYPE_MESSAGE,
        label=T.LABEL_REPEATED,
        type_name=".codectest.Node",
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("codectest.Node"))


def test_a_type_that_contains_itself_is_encoded_without_endless_recursion() -> None:
    node = _recursive_node_class()
    for message in (
        node(),
        node(next_node={}),
        node(label="a", next_node={"label": "b", "next_node": {}}),
        node(children=[{}, {"label": "c", "children": [{}]}]),
    ):
        encoded = encode_json(message)
        assert json.loads(encoded) == json_format.MessageToDict(message)
        assert parse_json_message(node, encoded) == message


def test_encoders_compiled_for_one_root_serve_another(monkeypatch: pytest.MonkeyPatch) -> None:
    # AnyValue compiled alone first; LogRecord, compiled later, inlines its probes and
    # calls the second half of its encoder, compiled the first time.
    monkeypatch.setattr(json_encode, "_encoders", {})
    monkeypatch.setattr(json_encode, "_which_encoders", {})
    kvlist = common_pb2.AnyValue(kvlist_value=common_pb2.KeyValueList())
    assert encode_json(kvlist) == b'{"kvlistValue":{}}'
    zero = common_pb2.AnyValue(int_value=0)
    record = logs_pb2.LogRecord(
        body=common_pb2.AnyValue(array_value=common_pb2.ArrayValue(values=[zero]))
    )
    assert json.loads(encode_json(record)) == json_format_with_hex_ids(record)


def test_decoders_compiled_for_one_root_serve_another(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_decode, "_fast", {})
    monkeypatch.setattr(json_decode, "_generic", {})
    value = parse_json_message(common_pb2.AnyValue, b'{"intValue":"7"}')
    assert value == common_pb2.AnyValue(int_value=7)
    data = b'{"body":{"arrayValue":{"values":[{"intValue":"0"}]}},"attributes":[{"key":"k"}]}'
    record = parse_json_message(logs_pb2.LogRecord, data)
    assert record.body.array_value.values[0] == common_pb2.AnyValue(int_value=0)
    with pytest.raises(BadRequestError, match=r"body\.arrayValue\.values\[0\]\.intValue"):
        parse_json_message(logs_pb2.LogRecord, data.replace(b'"0"', b'"x"'))


# The fast builders against the generic ones, on documents of almost-right values.

_SPECIAL_STRINGS = ["", "0", "01", "7", "-3", "+1", " 1", "1e3", "\u0661", "NaN", "-Infinity", "x"]
_ODD: st.SearchStrategy[object] = st.sampled_from(
    [None, True, False, 0, -1, 1.5, 2.0, [], {}, *_SPECIAL_STRINGS]
)


def _scalar(field: Any, odd: bool) -> st.SearchStrategy[Any]:
    """A value of one of the field's valid forms, or (``odd``) sometimes an almost-right one."""
    if odd:
        return st.one_of(*[_valid(field)] * 3, _almost(field), _ODD)
    return _valid(field)


def _valid(field: Any) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind in INT_RANGES:
        low, high = INT_RANGES[kind]
        numbers = st.integers(low, high)
        small = st.integers(max(low, -(2**53)), min(high, 2**53))
        forms = numbers | numbers.map(str) | small.map(float) | small.map(lambda n: f"{n:03}")
        if kind == T.TYPE_ENUM:
            return forms | st.sampled_from([value.name for value in field.enum_type.values])
        return forms
    if kind == T.TYPE_BYTES:
        length = ID_FIELD_LENGTHS.get(field.name)
        if length is not None:
            ids = st.binary(min_size=length, max_size=length).map(bytes.hex)
            return ids | ids.map(str.upper) | st.just("")
        return st.sampled_from(["/+8=", "_-8", "AAAA", ""])
    if kind in (T.TYPE_DOUBLE, T.TYPE_FLOAT):
        reals = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53)
        return reals | st.sampled_from(["NaN", "Infinity", "-Infinity", "1.5", "-0"])
    if kind == T.TYPE_BOOL:
        return st.booleans()
    return st.text(max_size=4)


def _almost(field: Any) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind in INT_RANGES:
        low, high = INT_RANGES[kind]
        edges = st.sampled_from([low - 1, high + 1, 10 * high])
        return edges | edges.map(str) | st.sampled_from(["+1", "1.5", "0x1", "1 "])
    if kind == T.TYPE_BYTES:
        length = ID_FIELD_LENGTHS.get(field.name) or 1
        return st.sampled_from(["ab" * (length - 1), "zz" * length, "not base64!", "a"])
    if kind in (T.TYPE_DOUBLE, T.TYPE_FLOAT):
        return st.sampled_from(["1e999", "-1e400", "nan", "inf", "1,5"])
    return _ODD


def _key(field: Any) -> st.SearchStrategy[str]:
    return st.sampled_from([field.json_name] * 6 + [field.name])


@st.composite
def _documents(draw: st.DrawFn, descriptor: Any, odd: bool, depth: int = 0) -> Any:
    if odd and draw(st.integers(0, 40)) == 0:
        return draw(st.sampled_from([None, [], "x", 1]))
    document: dict[str, Any] = {}
    fields = [f for f in descriptor.fields if depth < 5 or f.message_type is None]
    if fields:
        # A oneof-only message (AnyValue) mostly gets one member, others a few fields.
        most = 1 if single_oneof(descriptor) is not None and draw(st.integers(0, 9)) else 6
        chosen = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=most, unique=True))
        if not odd:  # one member of a oneof at most
            groups = {f.containing_oneof.name: f for f in chosen if f.containing_oneof}
            chosen = [f for f in chosen if not f.containing_oneof or f in groups.values()]
        for field in chosen:
            document[draw(_key(field))] = draw(_values(field, odd, depth))
    if draw(st.integers(0, 8)) == 0:
        document[draw(st.sampled_from(["unknownField", "x", "Key"]))] = draw(_ODD)
    return document


@st.composite
def _values(draw: st.DrawFn, field: Any, odd: bool, depth: int) -> Any:
    if field.message_type is not None:
        one = _documents(field.message_type, odd, depth + 1)
    else:
        one = _scalar(field, odd)
    if field.is_repeated:
        if odd:
            return draw(st.lists(one, max_size=3) | st.sampled_from([None, {}, "x"]))
        return draw(st.lists(one, max_size=3))
    return draw(one)


def _outcome(build: Any, message_class: Any, document: Any) -> Any:
    try:
        kwargs = build(document, 0)
    except InvalidValueError:
        return "refused"
    try:
        return message_class(**kwargs).SerializeToString(deterministic=True)
    except (ValueError, TypeError, OverflowError):
        return "refused by upb"


@pytest.mark.parametrize(
    "message_class",
    [
        *(signal.request_class for signal in Signal),
        common_pb2.AnyValue,
        common_pb2.KeyValue,
        metrics_pb2.Metric,
    ],
    ids=lambda c: c.DESCRIPTOR.name,
)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_builders_agree_with_the_generic_builders(
    message_class: Any, data: st.DataObject
) -> None:
    descriptor = message_class.DESCRIPTOR
    odd = data.draw(st.booleans())
    document = orjson.loads(json.dumps(data.draw(_documents(descriptor, odd))))
    parse_json_message(message_class, b"{}")  # both kinds of builders compiled
    before = orjson.dumps(document)
    fast = _outcome(json_decode._fast[descriptor], message_class, document)
    assert orjson.dumps(document) == before  # the document is left as it was
    assert fast == _outcome(json_decode._generic[descriptor], message_class, document)


# The collector, paused while a call builds its trees, is as the call found it afterwards.


@pytest.mark.parametrize("enabled", [True, False], ids=["gc-on", "gc-off"])
def test_encode_and_decode_leave_the_collector_as_they_found_it(enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        line = encode_json(logs_pb2.LogRecord(body=common_pb2.AnyValue(string_value="x")))
        assert gc.isenabled() is enabled
        parse_json_message(logs_pb2.LogRecord, line)
        assert gc.isenabled() is enabled
        for bad in (b"{", b'{"body":{"intValue":"x"}}', b'{"body":{"intValue":1e400}}'):
            with pytest.raises(BadRequestError):
                parse_json_message(logs_pb2.LogRecord, bad)
            assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_a_nested_pause_does_not_end_the_outer_one() -> None:
    assert gc.isenabled()
    with paused_gc():
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
        with pytest.raises(KeyError), paused_gc():
            raise KeyError
        assert not gc.isenabled()
    assert gc.isenabled()
