"""Protobuf export request -> one OTLP/JSON line, the format of the S3 backup.

The output is what ``json_format.MessageToJson`` would give with integer enums, except for
the OTLP departures: trace and span ids are lowercase hex instead of base64. Keys are
lowerCamelCase, 64-bit integers are decimal strings, non-finite doubles are the strings
"NaN", "Infinity" and "-Infinity", fields at their default value are omitted.

``json_format`` walks descriptors and type-checks every value on each call; here each
message type gets one straight-line Python function, generated once from its descriptor
(as ``dataclasses`` does for ``__init__``), that reads the fields it has and hands plain
dicts and lists to orjson. That is what makes it several times faster, and because the
functions come from descriptors they follow the schema when fields are added.
"""

from __future__ import annotations

import base64
import math
import threading
from collections.abc import Callable
from typing import Any

import orjson
from google.protobuf.descriptor import FieldDescriptor  # type: ignore[import-untyped, unused-ignore]

from otlp_failover.codec._schema import (
    FLOAT_TYPES,
    INT64_TYPES,
    access,
    check_supported,
    id_length,
    single_oneof,
)

_Encoder = Callable[[Any], dict[str, Any]]

_encoders: dict[Any, _Encoder] = {}
_lock = threading.Lock()


def encode_json(message: Any) -> bytes:
    """One OTLP/JSON document for ``message``, compact, without a trailing newline."""
    encoder = _encoders.get(message.DESCRIPTOR) or _compile(message.DESCRIPTOR)
    return orjson.dumps(encoder(message))


def _nonfinite(value: float) -> str:
    # proto3 JSON spells the IEEE specials as strings; orjson would write null.
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


_HELPERS: dict[str, Any] = {
    "_nonfinite": _nonfinite,
    "_b64": _b64,
    "_copysign": math.copysign,
}


def _compile(root: Any) -> _Encoder:
    """Generate, once, the encoders of ``root`` and every message type it reaches."""
    with _lock:
        if root in _encoders:
            return _encoders[root]
        names: dict[Any, str] = {}
        pending = [root]
        while pending:
            descriptor = pending.pop()
            if descriptor in names:
                continue
            check_supported(descriptor)
            names[descriptor] = f"_enc_{len(names)}"
            pending.extend(field.message_type for field in descriptor.fields if field.message_type)
        namespace = dict(_HELPERS)
        sources = []
        for descriptor, name in names.items():
            if descriptor in _encoders:
                namespace[name] = _encoders[descriptor]
            else:
                sources.append(_function_source(descriptor, name, names))
        # The source is built only from descriptor names (checked identifiers, repr()'d
        # JSON keys), never from request data.
        exec(compile("\n\n".join(sources), "<otlp-json-encoders>", "exec"), namespace)  # noqa: S102
        for descriptor, name in names.items():
            _encoders.setdefault(descriptor, namespace[name])
        return _encoders[root]


def _function_source(descriptor: Any, name: str, names: dict[Any, str]) -> str:
    lines = [f"def {name}(m):", f"    # {descriptor.full_name}"]
    oneof = single_oneof(descriptor)
    if oneof is not None:
        lines.append(f"    w = m.WhichOneof({oneof!r})")
        for field in descriptor.fields:
            lines += [
                f"    if w == {field.name!r}:",
                f"        x = {access(field)}",
                f"        return {{{field.json_name!r}: {_value(field, names)}}}",
            ]
        lines.append("    return {}")
        return "\n".join(lines)
    lines.append("    d = {}")
    # One WhichOneof per real oneof instead of a HasField per member (Metric.data has five).
    oneofs = {
        oneof.name: f"o{index}"
        for index, oneof in enumerate(descriptor.oneofs)
        if len(oneof.fields) > 1
    }
    lines += [f"    {var} = m.WhichOneof({name!r})" for name, var in oneofs.items()]
    for field in descriptor.fields:
        lines += _field_lines(field, names, oneofs)
    lines.append("    return d")
    return "\n".join(lines)


def _field_lines(field: Any, names: dict[Any, str], oneofs: dict[str, str]) -> list[str]:
    key = repr(field.json_name)
    value = _value(field, names)
    if field.is_repeated:
        if field.message_type is not None:
            items = f"list(map({names[field.message_type]}, v))"
        else:
            items = "list(v)" if value == "x" else f"[{value} for x in v]"
        return [f"    v = {access(field)}", f"    if v: d[{key}] = {items}"]
    oneof = field.containing_oneof
    if oneof is not None and oneof.name in oneofs:
        present = f"{oneofs[oneof.name]} == {field.name!r}"
    else:
        present = f"m.HasField({field.name!r})"
    if field.has_presence:
        return [
            f"    if {present}:",
            f"        x = {access(field)}",
            f"        d[{key}] = {value}",
        ]
    # Implicit presence: proto3 omits the zero value, but -0.0 is not zero bit-wise and
    # is kept (as protobuf's own serialiser and json_format do).
    test = "x or _copysign(1.0, x) < 0.0" if field.type in FLOAT_TYPES else "x"
    return [f"    x = {access(field)}", f"    if {test}: d[{key}] = {value}"]


def _value(field: Any, names: dict[Any, str]) -> str:
    """The expression that turns the field value ``x`` into its JSON value."""
    if field.message_type is not None:
        return f"{names[field.message_type]}(x)"
    if field.type == FieldDescriptor.TYPE_BYTES:
        return "x.hex()" if id_length(field) is not None else "_b64(x)"
    if field.type in INT64_TYPES:
        return "str(x)"
    if field.type in FLOAT_TYPES:
        # x - x is 0.0 exactly when x is finite.
        return "(x if x - x == 0.0 else _nonfinite(x))"
    return "x"
