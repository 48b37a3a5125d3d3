"""What the OTLP/JSON mapping needs to know about protobuf fields, read from descriptors.

The JSON encoder and decoder both build one plan per message type from these facts, so a
field added in a newer opentelemetry-proto is encoded and decoded without code changes.
"""

from __future__ import annotations

import keyword
from typing import Any, Final

from google.protobuf.descriptor import FieldDescriptor  # type: ignore[import-untyped, unused-ignore]

# OTLP/JSON departs from the proto3 JSON mapping here: these bytes fields are lowercase
# hex, not base64 (OTLP spec, "JSON Protobuf Encoding"). The value is the byte length.
ID_FIELD_LENGTHS: Final[dict[str, int]] = {"trace_id": 16, "span_id": 8, "parent_span_id": 8}

# The binary parser (upb) refuses submessages nested more than 100 levels below the
# request; the JSON decoder refuses the same depth, so a request gets the same answer in
# either encoding and every message it builds can be serialised and parsed again.
MAX_MESSAGE_DEPTH: Final = 100

T = FieldDescriptor
INT64_TYPES: Final = frozenset(
    {T.TYPE_INT64, T.TYPE_UINT64, T.TYPE_FIXED64, T.TYPE_SFIXED64, T.TYPE_SINT64}
)
FLOAT_TYPES: Final = frozenset({T.TYPE_DOUBLE, T.TYPE_FLOAT})

# Inclusive bounds of every integer type; proto3 JSON accepts them as numbers or strings.
INT_RANGES: Final[dict[int, tuple[int, int]]] = {
    T.TYPE_INT32: (-(2**31), 2**31 - 1),
    T.TYPE_SINT32: (-(2**31), 2**31 - 1),
    T.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    T.TYPE_ENUM: (-(2**31), 2**31 - 1),
    T.TYPE_UINT32: (0, 2**32 - 1),
    T.TYPE_FIXED32: (0, 2**32 - 1),
    T.TYPE_INT64: (-(2**63), 2**63 - 1),
    T.TYPE_SINT64: (-(2**63), 2**63 - 1),
    T.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    T.TYPE_UINT64: (0, 2**64 - 1),
    T.TYPE_FIXED64: (0, 2**64 - 1),
}


def id_length(field: Any) -> int | None:
    """The byte length of an OTLP id field (hex in JSON), or None for any other field."""
    if field.type != T.TYPE_BYTES:
        return None
    return ID_FIELD_LENGTHS.get(field.name)


def single_oneof(descriptor: Any) -> str | None:
    """The oneof's name when every field of the message belongs to it (``AnyValue``)."""
    oneofs = descriptor.oneofs
    if len(oneofs) != 1 or not descriptor.fields:
        return None
    oneof = oneofs[0]
    if all(field.containing_oneof is oneof for field in descriptor.fields):
        return str(oneof.name)
    return None


def check_supported(descriptor: Any) -> None:
    """Refuse, when a plan is built, the protobuf features OTLP does not use.

    Maps, groups and well-known types have JSON mappings of their own; a future schema
    that needs them must fail loudly in the unit tests, not mis-encode data in production.
    """
    if descriptor.full_name.startswith("google.protobuf."):
        msg = f"{descriptor.full_name}: well-known types are not supported by the OTLP codec"
        raise TypeError(msg)
    for field in descriptor.fields:
        if field.type == T.TYPE_GROUP:
            msg = f"{field.full_name}: groups are not supported by the OTLP codec"
            raise TypeError(msg)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            msg = f"{field.full_name}: map fields are not supported by the OTLP codec"
            raise TypeError(msg)


def access(field: Any, target: str = "m") -> str:
    """Python source reading ``field`` of the message ``target``, for generated code."""
    name = field.name
    if name.isidentifier() and not keyword.iskeyword(name):
        return f"{target}.{name}"
    return f"getattr({target}, {name!r})"
