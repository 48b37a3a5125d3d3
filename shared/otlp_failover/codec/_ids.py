"""Length checks of trace and span ids in a parsed protobuf request.

The binary parser accepts a ``trace_id`` of any length, but OTLP ids are 16 and 8 bytes
(or empty): the collector refuses others with a 400, and so does ``decode_json``. The
healthy path leaves this to the primary (the walk costs about as much as the parse);
the backup path runs it before writing to S3, so a request gets the same answer whichever
level is current and the backup holds no line the primary would refuse on replay. The
walk, generated from descriptors, visits only the fields that can lead to an id (spans
and links, log records, exemplars).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from otlp_failover.codec._schema import access, id_length

_Check = Callable[[Any], None]


class IdLengthError(Exception):
    """An id of the wrong length; ``path`` names it once the walk has unwound."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str | int] = []

    def where(self) -> str:
        text = ""
        for part in reversed(self.path):
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text


_checks: dict[Any, _Check] = {}
_lock = threading.Lock()


def check_id_lengths(message: Any) -> None:
    """Raise IdLengthError for the first id field that is neither empty nor its OTLP length."""
    check = _checks.get(message.DESCRIPTOR) or _compile(message.DESCRIPTOR)
    check(message)


def _fail(field_name: str, json_name: str, length: int, value: bytes) -> None:
    error = IdLengthError(f"{field_name} must be {length} bytes, got {len(value)}")
    error.path.append(json_name)
    raise error


def _noop(_message: Any) -> None:
    return None


def _leads_to_ids(root: Any) -> set[Any]:
    """The message types reachable from ``root`` that have an id field or reach one."""
    edges: dict[Any, list[Any]] = {}
    pending = [root]
    while pending:
        descriptor = pending.pop()
        if descriptor in edges:
            continue
        edges[descriptor] = [f.message_type for f in descriptor.fields if f.message_type]
        pending.extend(edges[descriptor])
    leads = {d for d in edges if any(id_length(f) is not None for f in d.fields)}
    changed = True
    while changed:
        changed = False
        for descriptor, targets in edges.items():
            if descriptor not in leads and any(t in leads for t in targets):
                leads.add(descriptor)
                changed = True
    return leads


def _compile(root: Any) -> _Check:
    """Generate, once, straight-line checks for ``root`` and the types that lead to ids.

    Generated like the JSON encoders (``json_encode``): on the healthy path this walk runs
    on every protobuf request, and a generic loop costs twice as much as the field reads.
    """
    with _lock:
        if root in _checks:
            return _checks[root]
        leads = _leads_to_ids(root)
        names = {descriptor: f"_check_{index}" for index, descriptor in enumerate(leads)}
        namespace: dict[str, Any] = {"_fail": _fail, "IdLengthError": IdLengthError}
        sources = [_function_source(descriptor, names) for descriptor in names]
        # Built from descriptor names only (identifiers, repr()'d strings), never from data.
        exec(compile("\n\n".join(sources), "<otlp-id-checks>", "exec"), namespace)  # noqa: S102
        for descriptor, name in names.items():
            _checks.setdefault(descriptor, namespace[name])
        _checks.setdefault(root, _noop)
        return _checks[root]


def _function_source(descriptor: Any, names: dict[Any, str]) -> str:
    lines = [f"def {names[descriptor]}(m):", f"    # {descriptor.full_name}"]
    # One WhichOneof per oneof instead of a HasField per member (Metric.data has five).
    oneofs: dict[str, str] = {}
    for index, oneof in enumerate(descriptor.oneofs):
        if len(oneof.fields) > 1 and any(f.message_type in names for f in oneof.fields):
            oneofs[oneof.name] = f"o{index}"
            lines.append(f"    o{index} = m.WhichOneof({oneof.name!r})")
    for field in descriptor.fields:
        length = id_length(field)
        if length is not None:
            lines += [
                f"    x = {access(field)}",
                f"    if x and len(x) != {length}:",
                f"        _fail({field.name!r}, {field.json_name!r}, {length}, x)",
            ]
        elif field.message_type in names:
            child = names[field.message_type]
            if field.is_repeated:
                lines += [
                    f"    for i, x in enumerate({access(field)}):",
                    "        try:",
                    f"            {child}(x)",
                    "        except IdLengthError as exc:",
                    f"            exc.path += [i, {field.json_name!r}]",
                    "            raise",
                ]
            else:
                oneof = field.containing_oneof
                present = (
                    f"{oneofs[oneof.name]} == {field.name!r}"
                    if oneof is not None and oneof.name in oneofs
                    else f"m.HasField({field.name!r})"
                )
                lines += [
                    f"    if {present}:",
                    "        try:",
                    f"            {child}({access(field)})",
                    "        except IdLengthError as exc:",
                    f"            exc.path.append({field.json_name!r})",
                    "            raise",
                ]
    lines.append("    return None")
    return "\n".join(lines)
