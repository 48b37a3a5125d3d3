"""Splitting an export request into smaller ones that mean the same together.

OTLP requests of one signal merge by concatenation, so a request can be cut between its
resources, then between the scopes of one resource, then between the items of one scope:
every piece repeats the resource and scope it came from. The backup writes a large export
as one line per piece, so that the drain never has to parse a line of tens of MB at once
(orjson holds about ten times a document's size while parsing it), and the drain sends a
large batch this way, so that no replay is larger (or slower) than its batch limit. A
single item larger than the limit stays whole. Pieces are made one at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from otlp_failover.signals import Signal

# The repeated fields of each signal, outermost first: resources, scopes, items.
_NESTING = {
    Signal.TRACES: ("resource_spans", "scope_spans", "spans"),
    Signal.METRICS: ("resource_metrics", "scope_metrics", "metrics"),
    Signal.LOGS: ("resource_logs", "scope_logs", "log_records"),
}
_FRAMING = 6  # bytes of tag and length around an embedded message, at most, below 2 GiB


def split_request(signal: Signal, request: Any, max_bytes: int) -> Iterator[Any]:
    """``request`` itself if it is at most ``max_bytes``, else pieces of about that size at
    most whose concatenation holds every resource, scope and item of it, in order."""
    if request.ByteSize() <= max_bytes:
        yield request
        return
    resources, scopes, items = _NESTING[signal]
    for parts in _grouped(getattr(request, resources), max_bytes, (scopes, items)):
        piece = signal.request_class()
        getattr(piece, resources).extend(parts)
        yield piece


def _grouped(entries: Any, max_bytes: int, inner: tuple[str, ...]) -> Iterator[list[Any]]:
    """``entries`` in runs of at most ``max_bytes``; an entry larger than that is cut along
    its ``inner`` repeated field (each cut repeating the rest of the entry)."""
    run: list[Any] = []
    size = 0
    for entry in entries:
        entry_size = entry.ByteSize() + _FRAMING
        if entry_size > max_bytes and inner:
            if run:
                yield run
                run, size = [], 0
            yield from ([cut] for cut in _cut(entry, max_bytes, inner))
            continue
        if run and size + entry_size > max_bytes:
            yield run
            run, size = [], 0
        run.append(entry)
        size += entry_size
    if run:
        yield run


def _cut(entry: Any, max_bytes: int, inner: tuple[str, ...]) -> Iterator[Any]:
    """Copies of ``entry``, each with a run of its ``inner[0]`` field (cut further along
    ``inner[1:]`` where one element is itself too large)."""
    field, deeper = inner[0], inner[1:]
    shell = _without(entry, field)
    room = max(1, max_bytes - shell.ByteSize() - _FRAMING)
    for run in _grouped(getattr(entry, field), room, deeper):
        piece = type(entry)()
        piece.CopyFrom(shell)
        getattr(piece, field).extend(run)
        yield piece


def _without(message: Any, field: str) -> Any:
    """A copy of ``message`` without its repeated ``field``, without copying that field."""
    shell = type(message)()
    for descriptor, value in message.ListFields():
        if descriptor.name == field:
            continue
        if descriptor.is_repeated:
            getattr(shell, descriptor.name).extend(value)
        elif descriptor.message_type is not None:
            getattr(shell, descriptor.name).CopyFrom(value)
        else:
            setattr(shell, descriptor.name, value)
    return shell
