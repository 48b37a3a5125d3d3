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

What remains is mostly upb's field reads, so the functions make as few as they can: the
scalar members of a oneof are read before ``WhichOneof`` is asked (a non-zero value is
the member that is set), a submessage is encoded before ``HasField`` is asked (a
non-empty encoding means it is set), and a field of a oneof-only type (``KeyValue.value``,
``LogRecord.body``) has those reads inlined.
"""

from __future__ import annotations

import base64
import math
import threading
from collections.abc import Callable
from typing import Any

import orjson
from google.protobuf.descriptor import FieldDescriptor  # type: ignore[import-untyped, unused-ignore]

from otlp_failover.codec._gc import paused_gc
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
# Per container type, the encoder that leaves its repeated message fields as lists of
# messages, for ``json_stream`` to write them a piece at a time.
_shallow_encoders: dict[Any, _Encoder] = {}
# The second half of a single-oneof type's encoder (after the probes), which parents that
# inline the probes call: kept so that types compiled later (another root) find it.
_which_encoders: dict[Any, _Encoder] = {}
_lock = threading.Lock()


def encode_json(message: Any) -> bytes:
    """One OTLP/JSON document for ``message``, compact, without a trailing newline."""
    encoder = _encoders.get(message.DESCRIPTOR) or _compile(message.DESCRIPTOR)
    with paused_gc():
        return orjson.dumps(encoder(message))


def message_encoder(descriptor: Any) -> _Encoder:
    """The function turning a message of type ``descriptor`` into its JSON document."""
    return _encoders.get(descriptor) or _compile(descriptor)


def shallow_encoder(descriptor: Any) -> _Encoder:
    """Like ``message_encoder``, except that each non-empty repeated message field is left
    as the list of its messages (the other fields, and the key order, as in the document).
    """
    found = _shallow_encoders.get(descriptor)
    if found is not None:
        return found
    message_encoder(descriptor)  # every type it reaches has its encoder now
    with _lock:
        names = _names(descriptor)
        namespace = _namespace(names)
        source = _function_source(descriptor, "_shallow", names, shallow=True)
        exec(compile(source, "<otlp-json-shallow-encoder>", "exec"), namespace)  # noqa: S102
        return _shallow_encoders.setdefault(descriptor, namespace["_shallow"])


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
        names = _names(root)
        namespace = _namespace(names)
        sources = [
            _function_source(descriptor, name, names)
            for descriptor, name in names.items()
            if descriptor not in _encoders
        ]
        # The source is built only from descriptor names (checked identifiers, repr()'d
        # JSON keys), never from request data.
        exec(compile("\n\n".join(sources), "<otlp-json-encoders>", "exec"), namespace)  # noqa: S102
        for descriptor, name in names.items():
            if f"{name}_which" in namespace:
                _which_encoders.setdefault(descriptor, namespace[f"{name}_which"])
            _encoders.setdefault(descriptor, namespace[name])
        return _encoders[root]


def _names(root: Any) -> dict[Any, str]:
    """A function name for ``root`` and every message type it reaches."""
    names: dict[Any, str] = {}
    pending = [root]
    while pending:
        descriptor = pending.pop()
        if descriptor in names:
            continue
        check_supported(descriptor)
        names[descriptor] = f"_enc_{len(names)}"
        pending.extend(field.message_type for field in descriptor.fields if field.message_type)
    return names


def _namespace(names: dict[Any, str]) -> dict[str, Any]:
    """The helpers, and the encoders already compiled, under the names given here."""
    namespace = dict(_HELPERS)
    for descriptor, name in names.items():
        if descriptor in _encoders:
            namespace[name] = _encoders[descriptor]
            if descriptor in _which_encoders:
                namespace[f"{name}_which"] = _which_encoders[descriptor]
    return namespace


def _function_source(
    descriptor: Any, name: str, names: dict[Any, str], *, shallow: bool = False
) -> str:
    oneof = single_oneof(descriptor)
    if oneof is not None and not shallow:
        # Two functions: the probes of the scalar members, then WhichOneof for the rest,
        # which a parent that inlines the probes calls directly.
        fields = descriptor.fields

        def put(field: Any) -> str:
            return f"return {{{field.json_name!r}: {_value(field, names)}}}"

        probes = _probe_lines(fields, "m", put, [f"return {name}_which(m)"], chained=False)
        which = _which_lines(fields, oneof, "m", put)
        return "\n".join(
            [
                f"def {name}(m):",
                f"    # {descriptor.full_name}",
                *probes,
                "",
                f"def {name}_which(m):",
                *which,
                "    return {}",
            ]
        )
    lines = [f"def {name}(m):", f"    # {descriptor.full_name}", "    d = {}"]
    done: set[str] = set()
    for field in descriptor.fields:
        group = field.containing_oneof
        if group is not None and len(group.fields) > 1:
            # A real oneof: handled as a block where its first member is.
            if group.name not in done:
                done.add(group.name)
                lines += _oneof_lines(group.fields, group.name, names)
            continue
        lines += _field_lines(field, names, shallow=shallow)
    lines.append("    return d")
    return "\n".join(lines)


def _probe_lines(
    fields: Any, target: str, put: Callable[[Any], str], rest: list[str], *, chained: bool
) -> list[str]:
    """Read the leading scalar members of a oneof; ``rest`` when all read as zero.

    ``WhichOneof`` costs as much as three field reads, so those members are probed first:
    one that reads as non-zero is the one set (the others read as their defaults). Only
    a zero value or a message member needs ``WhichOneof``. ``chained`` nests each probe
    in the previous one's ``else`` (for code that does not return).
    """
    lines: list[str] = []
    indent = "    "
    for field in fields:
        if field.message_type is not None:
            break
        lines += [
            f"{indent}x = {access(field, target)}",
            f"{indent}if x:",
            f"{indent}    {put(field)}",
        ]
        if chained:
            lines.append(f"{indent}else:")
            indent += "    "
    return lines + [f"{indent}{line}" for line in rest]


def _which_lines(fields: Any, oneof: str, target: str, put: Callable[[Any], str]) -> list[str]:
    lines = [f"    w = {target}.WhichOneof({oneof!r})"]
    for number, field in enumerate(fields):
        lines += [
            f"    {'if' if number == 0 else 'elif'} w == {field.name!r}:",
            f"        x = {access(field, target)}",
            f"        {put(field)}",
        ]
    return lines


def _oneof_lines(fields: Any, oneof: str, names: dict[Any, str]) -> list[str]:
    def put(field: Any) -> str:
        return f"d[{field.json_name!r}] = {_value(field, names)}"

    which = [line[4:] for line in _which_lines(fields, oneof, "m", put)]
    return _probe_lines(fields, "m", put, which, chained=True)


def _inline_oneof_lines(field: Any, names: dict[Any, str]) -> list[str]:
    """A singular field of a single-oneof type (KeyValue.value), its probes inlined."""
    key = repr(field.json_name)
    child = field.message_type

    def put(member: Any) -> str:
        return f"d[{key}] = {{{member.json_name!r}: {_value(member, names)}}}"

    rest = [f"x = {names[child]}_which(y)", f"if x or m.HasField({field.name!r}): d[{key}] = x"]
    return [
        f"    y = {access(field)}",
        *_probe_lines(child.fields, "y", put, rest, chained=True),
    ]


def _field_lines(field: Any, names: dict[Any, str], *, shallow: bool = False) -> list[str]:
    key = repr(field.json_name)
    value = _value(field, names)
    if field.is_repeated:
        return _repeated_lines(field, key, value, names, shallow=shallow)
    if field.message_type is not None:
        child = names[field.message_type]
        if single_oneof(field.message_type) is not None:
            return _inline_oneof_lines(field, names)
        if _ends_at_default(field.message_type):
            # A non-empty encoding means the field is set: HasField only for empty ones.
            return [
                f"    x = {child}({access(field)})",
                f"    if x or m.HasField({field.name!r}): d[{key}] = x",
            ]
        return [
            f"    if m.HasField({field.name!r}):",
            f"        x = {access(field)}",
            f"        d[{key}] = {value}",
        ]
    if field.has_presence:
        # proto3 optional: a non-zero value is set; only a zero one needs HasField.
        return [
            f"    x = {access(field)}",
            f"    if x or m.HasField({field.name!r}): d[{key}] = {value}",
        ]
    # Implicit presence: proto3 omits the zero value, but -0.0 is not zero bit-wise and
    # is kept (as protobuf's own serialiser and json_format do).
    test = "x or _copysign(1.0, x) < 0.0" if field.type in FLOAT_TYPES else "x"
    return [f"    x = {access(field)}", f"    if {test}: d[{key}] = {value}"]


def _repeated_lines(
    field: Any, key: str, value: str, names: dict[Any, str], *, shallow: bool = False
) -> list[str]:
    # A slice of a repeated field is a list, made in C: iterating the container itself
    # goes through __getitem__ until upb raises (and formats) an IndexError.
    head = [f"    v = {access(field)}", "    if v:", "        v = v[:]"]
    if field.message_type is not None and shallow:
        return [*head, f"        d[{key}] = v"]
    if field.message_type is not None:
        return [*head, f"        d[{key}] = list(map({names[field.message_type]}, v))"]
    if field.type in INT64_TYPES:
        return [*head, f"        d[{key}] = list(map(str, v))"]
    if field.type in FLOAT_TYPES:
        # One C-level sum tells whether every value is finite (inf - inf is NaN); only
        # a list with a special (or a sum that overflows) takes the per-value path.
        return [
            *head,
            "        x = sum(v)",
            f"        d[{key}] = v if x - x == 0.0 else [{value} for x in v]",
        ]
    items = "v" if value == "x" else f"[{value} for x in v]"
    return [*head, f"        d[{key}] = {items}"]


def _ends_at_default(descriptor: Any) -> bool:
    """Whether encoding a default instance of ``descriptor`` terminates.

    Encoding a singular message field before testing its presence reads the default
    instance of an unset one, which reads its own singular message fields, and so on: a
    cycle of such fields (``message A { A next = 1; }``) would never end. Oneof members
    are reached through ``WhichOneof`` and repeated fields are empty, so only singular
    fields outside real oneofs count.
    """

    def children(current: Any) -> list[Any]:
        return [
            field.message_type
            for field in current.fields
            if field.message_type is not None
            and not field.is_repeated
            and (field.containing_oneof is None or len(field.containing_oneof.fields) == 1)
        ]

    done: set[Any] = set()
    path: list[Any] = []  # depth-first: a type met again on the current path is a cycle

    def acyclic(current: Any) -> bool:
        if current in path:
            return False
        if current in done:
            return True
        path.append(current)
        ok = all(acyclic(child) for child in children(current))
        path.pop()
        done.add(current)
        return ok

    return acyclic(descriptor)


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
