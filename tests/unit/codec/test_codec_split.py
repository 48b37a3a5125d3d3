"""split_request: pieces at most the limit, cut at resources, scopes, then items, which
concatenated give back the request, for every signal."""

from __future__ import annotations

from typing import Any

import pytest

from otlp_failover.codec.split import split_request
from otlp_failover.signals import Signal

NESTING = {
    Signal.TRACES: ("resource_spans", "scope_spans", "spans", "name"),
    Signal.METRICS: ("resource_metrics", "scope_metrics", "metrics", "name"),
    Signal.LOGS: ("resource_logs", "scope_logs", "log_records", "event_name"),
}


def request(signal: Signal, resources: int, scopes: int, items: int) -> Any:
    outer, middle, inner, label = NESTING[signal]
    message = signal.request_class()
    for r in range(resources):
        resource = getattr(message, outer).add()
        resource.resource.attributes.add(key="service.name").value.string_value = f"svc-{r}"
        resource.schema_url = f"https://schema/{r}"
        for s in range(scopes):
            scope = getattr(resource, middle).add()
            scope.scope.name = f"scope-{r}-{s}"
            for i in range(items):
                setattr(getattr(scope, inner).add(), label, f"item-{r}-{s}-{i:04d}")
    return message


def joined(signal: Signal, pieces: list[Any]) -> Any:
    merged = signal.request_class()
    for piece in pieces:
        merged.MergeFrom(piece)
    return merged


def items_of(signal: Signal, message: Any) -> list[tuple[str, str, str]]:
    outer, middle, inner, label = NESTING[signal]
    return [
        (r.resource.attributes[0].value.string_value, s.scope.name, getattr(x, label))
        for r in getattr(message, outer)
        for s in getattr(r, middle)
        for x in getattr(s, inner)
    ]


@pytest.mark.parametrize("signal", list(Signal))
def test_a_request_within_the_limit_is_sent_as_it_is(signal: Signal) -> None:
    message = request(signal, 2, 2, 3)
    assert list(split_request(signal, message, message.ByteSize())) == [message]


@pytest.mark.parametrize("signal", list(Signal))
@pytest.mark.parametrize(("resources", "scopes", "items"), [(40, 1, 5), (1, 40, 5), (1, 1, 400)])
def test_pieces_stay_under_the_limit_and_together_are_the_request(
    signal: Signal, resources: int, scopes: int, items: int
) -> None:
    message = request(signal, resources, scopes, items)
    limit = message.ByteSize() // 7
    pieces = list(split_request(signal, message, limit))
    assert len(pieces) >= 7
    assert all(piece.ByteSize() <= limit for piece in pieces)
    # Every item once, in order, under its own resource and scope.
    assert items_of(signal, joined(signal, pieces)) == items_of(signal, message)


def test_a_cut_scope_repeats_its_resource_and_scope_in_every_piece() -> None:
    message = request(Signal.TRACES, 1, 1, 300)
    pieces = list(split_request(Signal.TRACES, message, message.ByteSize() // 3))
    for piece in pieces:
        (resource,) = piece.resource_spans
        assert resource.schema_url == "https://schema/0"
        assert resource.resource == message.resource_spans[0].resource
        (scope,) = resource.scope_spans
        assert scope.scope.name == "scope-0-0"


def test_an_item_larger_than_the_limit_goes_whole_in_a_piece_of_its_own() -> None:
    message = request(Signal.LOGS, 1, 1, 3)
    big = message.resource_logs[0].scope_logs[0].log_records[1]
    big.body.string_value = "x" * 10_000
    pieces = list(split_request(Signal.LOGS, message, 2_000))
    assert [len(p.resource_logs[0].scope_logs[0].log_records) for p in pieces] == [1, 1, 1]
    assert pieces[1].resource_logs[0].scope_logs[0].log_records[0] == big
