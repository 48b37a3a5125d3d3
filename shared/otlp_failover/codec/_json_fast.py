"""The fast OTLP/JSON builders: one function per message type, generated from its descriptor.

They read the form encoders write (lowerCamelCase keys, one dict lookup per field, ids and
numbers converted inline); json_decode falls back to its generic builders for any other
form and for error messages. Split from json_decode.py, which compiles both kinds.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import FieldDescriptor  # type: ignore[import-untyped, unused-ignore]

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

# JSON values of these Python types go into these field types unchanged (every str is a
# valid string, every float a valid double): the hot path skips a converter call.
_VERBATIM: dict[int, type] = {
    FieldDescriptor.TYPE_STRING: str,
    FieldDescriptor.TYPE_BOOL: bool,
    FieldDescriptor.TYPE_DOUBLE: float,
}


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
