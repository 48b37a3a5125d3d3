"""The healthy path: what the SDK exports reaches the demo primary unchanged.

For each protocol (protobuf, protobuf with gzip, JSON) and signal, a few items with every
attribute type go through the gateway; the primary must hold exactly what the SDK recorded
(names, ids, timestamps, attributes, values), in the very bytes the exporter sent, without
the client's credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from otlp_failover.signals import Signal
from otlp_failover_dev.local.backend import ReceivedExport
from otlp_failover_dev.local.stack import LocalStack
from tests.e2e import fields
from tests.e2e.conftest import auth, stack_config, stop
from tests.e2e.sdk import PROTOCOLS, SdkClient

CASES = [(protocol, signal) for protocol in PROTOCOLS for signal in Signal]
IDS = [f"{protocol}-{signal}" for protocol, signal in CASES]
# Every attribute type OTLP carries, with values that trip encoders: a 64-bit integer
# (a decimal string in OTLP/JSON), non-ASCII text, negative and fractional numbers.
ATTRIBUTES = {
    "e2e.text": 'héllo ☃ "quoted"',
    "e2e.int": 2**62 + 7,
    "e2e.negative": -42,
    "e2e.float": 0.125,
    "e2e.bool": True,
    "e2e.strings": ["a", "b"],
    "e2e.ints": [1, -2, 3],
}


@dataclass
class Delivery:
    client: SdkClient
    signal: Signal
    results: list[bool]
    exports: list[ReceivedExport]  # what the primary accepted during this delivery


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    # No probe or drain: on the healthy path nothing but the exports may reach the primary.
    started = LocalStack(stack_config(operations=False)).start()
    yield started
    stop(started)


@pytest.fixture(scope="module")
def deliver(stack: LocalStack) -> Iterator[Callable[[str, Signal], Delivery]]:
    """Sends three items of a signal with one protocol, once per module, and keeps the result."""
    done: dict[tuple[str, Signal], Delivery] = {}

    def deliver(protocol: str, signal: Signal) -> Delivery:
        if (protocol, signal) not in done:
            assert stack.primary is not None
            stack.primary.clear()
            client = SdkClient(protocol, stack.api_url, auth(stack))
            for n in range(3):
                name = f"{protocol}-{signal}-{n}"
                if signal is Signal.TRACES:
                    client.span(name, **ATTRIBUTES)
                elif signal is Signal.LOGS:
                    client.log(name, **ATTRIBUTES)
                else:
                    client.metric(name, value=n + 1)
            exports = [e for e in stack.primary.exports if e.signal is signal]
            done[protocol, signal] = Delivery(client, signal, client.results(signal), exports)
            client.close()
        return done[protocol, signal]

    yield deliver


@pytest.mark.parametrize(("protocol", "signal"), CASES, ids=IDS)
def test_the_primary_holds_exactly_what_the_sdk_recorded(
    deliver: Callable[[str, Signal], Delivery], protocol: str, signal: Signal
) -> None:
    delivery = deliver(protocol, signal)

    assert delivery.results == [True, True, True]
    expected = delivery.client.sdk_items(signal)
    assert len(expected) == (6 if signal is Signal.METRICS else 3)  # counter + histogram
    assert sorted(fields.received(delivery.exports, signal), key=repr) == sorted(expected, key=repr)


@pytest.mark.parametrize(("protocol", "signal"), CASES, ids=IDS)
def test_the_primary_receives_the_bytes_the_exporter_sent(
    deliver: Callable[[str, Signal], Delivery], protocol: str, signal: Signal
) -> None:
    delivery = deliver(protocol, signal)
    sent = delivery.client.sent_to(signal)

    assert [e.body for e in delivery.exports] == [s.body for s in sent]
    encodings = {e.content_encoding for e in delivery.exports}
    assert encodings == ({"gzip"} if protocol.endswith("gzip") else {""})
    media = "application/json" if protocol.startswith("json") else "application/x-protobuf"
    assert {e.content_type for e in delivery.exports} == {media}


@pytest.mark.parametrize(("protocol", "signal"), CASES, ids=IDS)
def test_the_clients_authorization_header_is_not_forwarded(
    deliver: Callable[[str, Signal], Delivery], protocol: str, signal: Signal
) -> None:
    delivery = deliver(protocol, signal)
    sent_headers = [{k.lower(): v for k, v in s.headers.items()} for s in delivery.client.sent]
    token = auth_token(sent_headers[0])

    assert delivery.exports
    for export in delivery.exports:
        assert "authorization" not in export.headers
        assert token not in repr(export.headers)


def auth_token(headers: dict[str, str]) -> str:
    value = headers["authorization"]
    assert value.startswith("Bearer ")
    return value.removeprefix("Bearer ")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_exporters_configured_only_by_otel_environment_variables_deliver(
    stack: LocalStack, protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Exactly what `otlp-failover local` prints for a user to paste.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", stack.api_url)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"Authorization=Bearer {stack.config.token}")
    if protocol.endswith("gzip"):
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
    assert stack.primary is not None
    stack.primary.clear()
    client = SdkClient(protocol, endpoint=None)
    try:
        outcomes = [client.send(signal, f"env-{protocol}-{signal}") for signal in Signal]
    finally:
        client.close()

    assert outcomes == [True, True, True]
    for signal in Signal:
        got = fields.received(stack.primary.exports, signal)
        assert sorted(got, key=repr) == sorted(client.sdk_items(signal), key=repr)
    assert {e.content_encoding for e in stack.primary.exports} == (
        {"gzip"} if protocol.endswith("gzip") else {""}
    )


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_export_with_a_wrong_token_fails_and_reaches_no_backend(
    stack: LocalStack, protocol: str
) -> None:
    assert stack.primary is not None
    stack.primary.clear()
    client = SdkClient(protocol, stack.api_url, {"Authorization": "Bearer not-the-token"})
    try:
        outcomes = [client.send(signal, f"intruder-{signal}") for signal in Signal]
    finally:
        client.close()

    assert outcomes == [False, False, False]
    assert stack.primary.exports == []
