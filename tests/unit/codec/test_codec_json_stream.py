"""encode_json_chunks: encode_json's bytes exactly, in pieces no larger than a batch of items."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otlp_failover.codec import decode_json, encode_json
from otlp_failover.codec.json_stream import BATCH, encode_json_chunks
from otlp_failover.signals import Signal
from tests.unit.codec.otlp_codec_samples import CONFORMANCE_DIR, CONFORMANCE_FILES, requests

EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ITEMS = {Signal.TRACES: "spans", Signal.METRICS: "metrics", Signal.LOGS: "log_records"}
SCOPES = {Signal.TRACES: "scope_spans", Signal.METRICS: "scope_metrics", Signal.LOGS: "scope_logs"}


def example(signal: Signal) -> Any:
    return decode_json(signal, (CONFORMANCE_DIR / CONFORMANCE_FILES[signal]).read_bytes())


def resources(signal: Signal, message: Any) -> Any:
    return getattr(message, signal.request_class.DESCRIPTOR.fields[0].name)


def grown(signal: Signal, copies: int) -> Any:
    """The official example with every scope's items repeated ``copies`` times, and its
    resources twice: many batches, several resources and scopes, fields after the lists."""
    message = example(signal)
    for resource in resources(signal, message):
        resource.schema_url = "https://opentelemetry.io/schemas/1.26.0"
        for scope in getattr(resource, SCOPES[signal]):
            scope.schema_url = "https://opentelemetry.io/schemas/1.26.0"
            items = getattr(scope, ITEMS[signal])
            originals = list(items)
            for _ in range(copies - 1):
                items.extend(originals)
    resources(signal, message).extend(list(resources(signal, message)))
    return message


@pytest.mark.parametrize("signal", list(Signal), ids=str)
@pytest.mark.parametrize("batch", [1, 2, 3, BATCH])
def test_the_official_examples_stream_to_encode_jsons_bytes(signal: Signal, batch: int) -> None:
    message = example(signal)
    assert b"".join(encode_json_chunks(message, batch)) == encode_json(message)


@pytest.mark.parametrize("signal", list(Signal), ids=str)
def test_a_large_export_streams_in_pieces_that_join_to_encode_jsons_bytes(signal: Signal) -> None:
    message = grown(signal, copies=10 * BATCH)
    whole = encode_json(message)
    pieces = list(encode_json_chunks(message))
    assert b"".join(pieces) == whole
    # The items are copies of a few: a piece holds one batch of them, never more.
    items = sum(len(getattr(scope, ITEMS[signal])) for scope in scopes(signal, message))
    largest_item = max(
        len(encode_json(item))
        for scope in scopes(signal, message)
        for item in getattr(scope, ITEMS[signal])[:BATCH]
    )
    assert max(len(piece) for piece in pieces) <= BATCH * (largest_item + 1)
    assert len(pieces) > items / BATCH


def scopes(signal: Signal, message: Any) -> list[Any]:
    return [s for r in resources(signal, message) for s in getattr(r, SCOPES[signal])]


@pytest.mark.parametrize("signal", list(Signal), ids=str)
@EXAMPLES
@given(data=st.data(), batch=st.integers(1, 3))
def test_random_requests_stream_to_encode_jsons_bytes(
    signal: Signal, data: st.DataObject, batch: int
) -> None:
    message = data.draw(requests(signal))
    assert b"".join(encode_json_chunks(message, batch)) == encode_json(message)


@pytest.mark.parametrize("signal", list(Signal), ids=str)
def test_an_export_of_a_batch_or_less_is_encoded_whole(signal: Signal) -> None:
    message = grown(signal, copies=1)
    assert list(encode_json_chunks(message, batch=10_000)) == [encode_json(message)]


@pytest.mark.parametrize("signal", list(Signal), ids=str)
def test_empty_requests_and_empty_entries_stream_as_encode_json_writes_them(
    signal: Signal,
) -> None:
    message = signal.request_class()
    assert b"".join(encode_json_chunks(message, 1)) == b"{}"
    entry = resources(signal, message).add()  # a resource entry without scopes
    getattr(resources(signal, message).add(), SCOPES[signal]).add()  # a scope without items
    entry.resource.attributes.add(key="k")
    two = grown(signal, copies=2)
    resources(signal, message).extend(list(resources(signal, two)))
    assert b"".join(encode_json_chunks(message, 1)) == encode_json(message)
