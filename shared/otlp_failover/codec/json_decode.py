"""OTLP/JSON -> protobuf export request, strict where the spec is and lenient where it must be.

Accepted, as the OTLP spec and proto3 JSON parsers do: hex trace/span ids in either case,
lowerCamelCase or original snake_case keys, enums as integers or names, integers as JSON
numbers or decimal strings, doubles as numbers or "NaN"/"Infinity"/"-Infinity", ``null``
for "default". Unknown fields are ignored (receivers MUST ignore them). Anything else,
and messages nested deeper than the binary parser allows, is a ``BadRequestError`` naming
the offending field (``resourceSpans[0].scopeSpans[0].spans[3].traceId``).

orjson parses the document; builders per message type, generated once from descriptors,
check each value and turn the object into constructor keywords; upb then builds the
whole message in one constructor call. That is several times faster than
``json_format.Parse``.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

import orjson
from google.protobuf.descriptor import FieldDescriptor  # type: ignore[import-untyped, unused-ignore]

from otlp_failover.codec._gc import paused_gc
from otlp_failover.codec._json_values import (
    Converter,
    InvalidValueError,
    describe,
    scalar_converter,
)
from otlp_failover.codec._schema import (
    INT_RANGES,
    MAX_MESSAGE_DEPTH,
    check_supported,
    single_oneof,
)
from otlp_failover.errors import BadRequestError
from otlp_failover.signals import Signal


def decode_json(signal: Signal, data: bytes) -> Any:
    """Parse one OTLP/JSON export request of ``signal``; BadRequestError if it is not one."""
    return parse_json_message(signal.request_class, data, what=f"OTLP/JSON {signal} request")


def parse_json_message(message_class: Any, data: bytes, *, what: str = "OTLP/JSON") -> Any:
    """Parse an OTLP/JSON document into ``message_class`` (requests and responses alike)."""
    descriptor = message_class.DESCRIPTOR
    build = _fast.get(descriptor) or _compile(descriptor)
    try:
        with paused_gc():
            document = orjson.loads(data)
            try:
                kwargs = build(document, 0)
            except InvalidValueError:
                # The fast builders do not say where a value is wrong; the generic ones, run
                # again from the top, find the first bad value in document order and its path.
                kwargs = _generic[descriptor](document, 0)
            return message_class(**kwargs)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(f"{what}: {_json_problem(data, exc)}") from exc
    except InvalidValueError as exc:
        raise BadRequestError(f"{what}: {_format_path(exc.path)}{exc.problem}") from exc
    except (ValueError, TypeError, OverflowError) as exc:
        # The converters check every value; this is a last line for what upb still refuses.
        raise BadRequestError(f"{what}: {exc}") from exc


def _json_problem(data: bytes, exc: orjson.JSONDecodeError) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as utf8:
        return f"body is not valid UTF-8 (byte {utf8.start})"
    return f"invalid JSON: {exc}"


def _format_path(path: list[str | int]) -> str:
    text = ""
    for part in reversed(path):
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return f"{text}: " if text else ""


# Message converters, two per type, built once like the encoders.
#
# The generic builder walks the keys of a JSON object and looks each up in a table of
# field converters: it takes every form the spec allows (snake_case names, nulls, unknown
# fields) and, when a value is wrong, says where. The fast builder is generated from the
# descriptor (as json_encode's encoders are) for the form encoders write: lowerCamelCase
# keys, each field read with one dict lookup and converted inline, ids and numbers
# without a converter call. An object with any other key goes to the generic loop (whose
# message fields still use the fast builders, so only that object pays); a wrong value
# anywhere raises, unlocated, and parse_json_message runs the generic builders alone.

# JSON values of these Python types go into these field types unchanged (every str is a
# valid string, every float a valid double): the hot path skips a converter call.
_VERBATIM: dict[int, type] = {
    FieldDescriptor.TYPE_STRING: str,
    FieldDescriptor.TYPE_BOOL: bool,
    FieldDescriptor.TYPE_DOUBLE: float,
}

_fast: dict[Any, Converter] = {}
_generic: dict[Any, Converter] = {}
_lock = threading.Lock()


def _compile(root: Any) -> Converter:
    with _lock:
        if root in _fast:
            return _fast[root]
        # Built aside and published whole: another thread never sees a builder whose
        # field table is still being filled.
        generic: dict[Any, Converter] = {}
        _generic_builder(root, generic)
        names: dict[Any, str] = {}
        pending = [root]
        while pending:
            descriptor = pending.pop()
            if descriptor not in names:
                names[descriptor] = f"_dec_{len(names)}"
                pending.extend(f.message_type for f in descriptor.fields if f.message_type)
        namespace: dict[str, Any] = dict(_HELPERS)
        sources = []
        for descriptor, name in names.items():
            if descriptor in _fast:
                namespace[name] = _fast[descriptor]
            else:
                sources.append(_fast_source(descriptor, name, names, namespace))
        # The source is built only from descriptor names (checked identifiers, repr()'d
        # JSON keys), never from request data.
        exec(compile("\n\n".join(sources), "<otlp-json-decoders>", "exec"), namespace)  # noqa: S102
        for descriptor, name in names.items():
            if descriptor not in _fast:
                # The fallback of an object with keys the fast builder does not read.
                namespace[f"_loop{name}"] = _loop(descriptor, lambda d: namespace[names[d]])
        _generic.update(generic)
        for descriptor, name in names.items():
            _fast.setdefault(descriptor, namespace[name])
        return _fast[root]


# The generic builders.


def _generic_builder(descriptor: Any, building: dict[Any, Converter]) -> Converter:
    known = _generic.get(descriptor) or building.get(descriptor)
    if known is not None:
        return known
    return _loop(descriptor, lambda d: _generic_builder(d, building), building)


def _loop(
    descriptor: Any,
    resolve: Callable[[Any], Converter],
    building: dict[Any, Converter] | None = None,
) -> Converter:
    """The builder that walks the object's keys; ``resolve`` gives message fields' builders."""
    check_supported(descriptor)
    table: dict[str, tuple[str, Converter, type | None]] = {}
    exclusive = single_oneof(descriptor) is not None
    groups = tuple(
        frozenset(field.name for field in oneof.fields)
        for oneof in descriptor.oneofs
        if len(oneof.fields) > 1 and not exclusive
    )
    full_name = descriptor.full_name

    def build(value: Any, depth: int) -> dict[str, Any]:
        if type(value) is not dict:
            raise InvalidValueError(f"expected a JSON object, got {describe(value)}", value)
        if depth > MAX_MESSAGE_DEPTH:
            raise InvalidValueError(
                f"messages nested deeper than {MAX_MESSAGE_DEPTH} levels", value
            )
        kwargs: dict[str, Any] = {}
        for key, item in value.items():
            entry = table.get(key)
            if entry is None or item is None:
                continue
            name, convert, verbatim = entry
            if type(item) is verbatim:
                kwargs[name] = item
                continue
            try:
                kwargs[name] = convert(item, depth + 1)
            except InvalidValueError as exc:
                exc.path.append(key)
                exc.culprit = value
                raise
        if (exclusive and len(kwargs) > 1) or (
            groups and any(len(group.intersection(kwargs)) > 1 for group in groups)
        ):
            raise InvalidValueError(f"more than one field of a oneof is set in {full_name}", value)
        return kwargs

    if building is not None:
        # Registered before the fields so recursive types (AnyValue) find themselves.
        building[descriptor] = build
    for field in descriptor.fields:
        if field.message_type is not None:
            convert = resolve(field.message_type)
        else:
            convert = scalar_converter(field)
        if field.is_repeated:
            convert = _repeated(convert)
        verbatim = None if field.is_repeated else _VERBATIM.get(field.type)
        table[field.json_name] = table[field.name] = (field.name, convert, verbatim)
    return build


# The fast builders.


def _oneof_error(value: Any) -> None:
    raise InvalidValueError("more than one field of a oneof is set", value)


def _not_a_list(value: Any) -> None:
    raise InvalidValueError(f"expected an array, got {describe(value)}", value)


def _repeated(convert: Converter) -> Converter:
    def convert_all(value: Any, depth: int) -> list[Any]:
        if type(value) is not list:
            raise InvalidValueError(f"expected an array, got {describe(value)}", value)
        try:
            return [convert(item, depth) for item in value]
        except InvalidValueError as exc:
            # The first item that is the culprit: an identical object fails identically.
            # (None when a fast builder raised: it keeps no culprit, and its error is
            # never shown, the generic builders run again to locate it.)
            index = next((i for i, item in enumerate(value) if item is exc.culprit), None)
            if index is not None:
                exc.path.append(index)
            exc.culprit = value
            raise

    return convert_all


def _repeated_fast(field: Any) -> Converter:
    """A repeated scalar field's converter, with a C-speed path for the usual lists."""
    generic = _repeated(scalar_converter(field))
    kind = field.type
    verbatim = _VERBATIM.get(kind)
    if verbatim is not None:
        only = frozenset({verbatim})

        def same(value: Any, depth: int) -> Any:
            # A list of values that all go in unchanged is the keyword value itself.
            if type(value) is list and set(map(type, value)) <= only:
                return value
            return generic(value, depth)

        return same
    if kind in INT_RANGES:
        digits = len(str(INT_RANGES[kind][1]))

        def integers(value: Any, depth: int) -> Any:
            # Decimal strings (bucketCounts): one join tells they are all ASCII digits,
            # and strings of fewer digits than the largest value are in range.
            if type(value) is list and value and type(value[0]) is str:
                try:
                    joined = "".join(value)
                except TypeError:
                    joined = ""
                if (
                    joined.isdigit()
                    and joined.isascii()
                    and min(map(len, value))
                    and max(map(len, value)) < digits
                ):
                    return list(map(int, value))
            return generic(value, depth)

        return integers
    return generic


_HELPERS: dict[str, Any] = {
    "_repeat": itertools.repeat,
    "_oneof_error": _oneof_error,
    "_not_a_list": _not_a_list,
}


def _fast_source(descriptor: Any, name: str, names: dict[Any, str], namespace: Any) -> str:
    check_supported(descriptor)
    fallback = f"_loop{name}"
    head = f"    if type(v) is not dict or depth > {MAX_MESSAGE_DEPTH}"
    lines = [f"def {name}(v, depth):", f"    # {descriptor.full_name}"]
    if single_oneof(descriptor) is not None:
        # One key, with a value of that member's type: no dict of keywords to fill.
        lines += [
            f"{head} or len(v) != 1:",
            f"        return {fallback}(v, depth)",
            "    (k,) = v",
            "    x = v[k]",
        ]
        lines += _member_lines(
            descriptor,
            names,
            namespace,
            store=lambda field: f"return {{{field.name!r}: %s}}",
            depth="depth + 1",
            otherwise=f"return {fallback}(v, depth)",
        )
        return "\n".join(lines)
    # Each lowerCamelCase key found counts down the object's length; a key left over is
    # one the fast builder does not read (snake_case, unknown, or a null value), and the
    # object goes to the generic loop, before any nested message is converted, so no
    # object is ever converted twice.
    lines += [f"{head}:", f"        return {fallback}(v, depth)", "    kw = {}", "    n = len(v)"]
    messages = [field for field in descriptor.fields if field.message_type is not None]
    for field in descriptor.fields:
        if field.message_type is None:
            lines += [
                f"    x = v.get({field.json_name!r})",
                "    if x is not None:",
                "        n -= 1",
            ]
            lines += _assign(field, names, namespace, f"kw[{field.name!r}] = %s", "        ")
    for number, field in enumerate(messages):
        lines += [
            f"    m{number} = v.get({field.json_name!r})",
            f"    if m{number} is not None:",
            "        n -= 1",
        ]
    lines += ["    if n:", f"        return {fallback}(v, depth)"]
    if messages:
        lines.append("    d1 = depth + 1")
    for number, field in enumerate(messages):
        lines += [f"    if m{number} is not None:", f"        x = m{number}"]
        if not field.is_repeated and single_oneof(field.message_type) is not None:
            lines += _inline_oneof(field, names, namespace, f"m{number}")
        else:
            lines += _assign(field, names, namespace, f"kw[{field.name!r}] = %s", "        ")
    for oneof in descriptor.oneofs:
        if len(oneof.fields) > 1:
            present = " + ".join(f"({field.name!r} in kw)" for field in oneof.fields)
            lines += [f"    if {present} > 1:", "        _oneof_error(v)"]
    lines.append("    return kw")
    return "\n".join(lines)


def _member_lines(
    descriptor: Any,
    names: dict[Any, str],
    namespace: Any,
    *,
    store: Callable[[Any], str],
    depth: str,
    otherwise: str,
    pad: str = "    ",
) -> list[str]:
    """Convert ``x``, the value of the key ``k`` of a single-oneof message, with ``store``.

    A null value or a key that is not a member's lowerCamelCase name does ``otherwise``.
    """
    lines = [f"{pad}if x is None:", f"{pad}    {otherwise}"]
    for field in descriptor.fields:
        lines.append(f"{pad}elif k == {field.json_name!r}:")
        lines += _assign(field, names, namespace, store(field), pad + "    ", depth=depth)
    return [*lines, f"{pad}else:", f"{pad}    {otherwise}"]


def _inline_oneof(field: Any, names: dict[Any, str], namespace: Any, value: str) -> list[str]:
    """A singular field of a single-oneof type (KeyValue.value), converted in the parent.

    ``value`` holds the field's JSON value; anything but the usual form is left to the
    field type's own builder.
    """
    key = repr(field.name)
    child = f"kw[{key}] = {names[field.message_type]}({value}, d1)"
    return [
        f"        if type(x) is dict and len(x) == 1 and d1 <= {MAX_MESSAGE_DEPTH}:",
        "            (k,) = x",
        "            x = x[k]",
        *_member_lines(
            field.message_type,
            names,
            namespace,
            store=lambda member: f"kw[{key}] = {{{member.name!r}: %s}}",
            depth="d1 + 1",
            otherwise=child,
            pad="            ",
        ),
        "        else:",
        f"            {child}",
    ]


def _assign(
    field: Any,
    names: dict[Any, str],
    namespace: Any,
    store: str,
    pad: str,
    *,
    depth: str = "d1",
) -> list[str]:
    """Lines converting the JSON value ``x`` of ``field`` and storing it with ``store``.

    Whatever the inline tests do not take goes to the field's converter, which takes it
    or raises InvalidValueError. Nested messages are at depth ``depth``.
    """
    converter = f"_conv_{names[field.containing_type]}_{field.number}"
    if field.message_type is not None:
        child = names[field.message_type]
        if field.is_repeated:
            return [
                f"{pad}if type(x) is not list:",
                f"{pad}    _not_a_list(x)",
                f"{pad}{store % f'list(map({child}, x, _repeat({depth})))'}",
            ]
        return [f"{pad}{store % f'{child}(x, {depth})'}"]
    if field.is_repeated:
        namespace[converter] = _repeated_fast(field)
        return [f"{pad}{store % f'{converter}(x, 0)'}"]
    namespace[converter] = scalar_converter(field)
    verbatim = _VERBATIM.get(field.type)
    if verbatim is not None:
        return [f"{pad}{store % f'x if type(x) is {verbatim.__name__} else {converter}(x, 0)'}"]
    if field.type in INT_RANGES:
        low, high = INT_RANGES[field.type]
        # Decimal strings of fewer digits than the largest value are in range (every
        # range includes 0); the regex-free test is for ASCII digits only ("٣" is not).
        digits = len(str(high))
        return [
            f"{pad}if type(x) is int and {low} <= x <= {high}:",
            f"{pad}    {store % 'x'}",
            f"{pad}elif type(x) is str and x.isdigit() and x.isascii() and len(x) < {digits}:",
            f"{pad}    {store % 'int(x)'}",
            f"{pad}else:",
            f"{pad}    {store % f'{converter}(x, 0)'}",
        ]
    return [f"{pad}{store % f'{converter}(x, 0)'}"]
