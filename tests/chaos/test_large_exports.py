"""The large-exports sender of the chaos suite, against a real local OTLP backend: gzip
protobuf requests of the size asked for, items of their own in every export, and every
answer written in the ledger as the SDK clients' answers are."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from otlp_failover.signals import Signal
from otlp_failover_dev.chaos.large_exports import LargeExports, export_prefix
from otlp_failover_dev.items import deliveries
from otlp_failover_dev.local.backend import OtlpBackend

SIZE = 256 * 1024
PREFIX = "test-large"
TOKEN = "test-token"  # a test value, not a secret
WAIT_SECONDS = 30.0


def _wait(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _sender(backend: OtlpBackend) -> LargeExports:
    return LargeExports(backend.url, TOKEN, size=SIZE, prefix=PREFIX, pause=0.0)


def test_every_export_is_gzip_protobuf_of_the_size_with_items_of_its_own() -> None:
    with OtlpBackend() as backend:
        sender = _sender(backend).start()
        assert _wait(lambda: len(sender.answers()) >= 3)
        sender.stop()
        exports = backend.exports
    answers = sender.answers()

    assert {a.status for a in answers} == {200}
    assert len(exports) == len(answers)
    assert {(e.content_type, e.content_encoding) for e in exports} == {
        ("application/x-protobuf", "gzip")
    }
    assert {e.headers["authorization"] for e in exports} == {f"Bearer {TOKEN}"}
    sizes = {e.message.ByteSize() for e in exports}  # renamed, never resized
    assert len(sizes) == 1 and sizes.pop() >= SIZE
    for answer in answers:
        delivered = deliveries(exports, Signal.TRACES, export_prefix(PREFIX, answer.number))
        assert len(delivered) == answer.items and set(delivered.values()) == {1}
    ledger = sender.ledgers[Signal.TRACES]
    assert ledger.sent == sum(a.items for a in answers)
    assert set(ledger.acknowledged) == set(deliveries(exports, Signal.TRACES, PREFIX))
    assert ledger.refused == []


@pytest.mark.parametrize(
    ("mode", "options", "status"),
    [("status", {"status": 503}, 503), ("refuse", {}, 0)],
    ids=["answered-503", "connection-refused"],
)
def test_an_export_not_answered_200_is_counted_refused_never_acknowledged(
    mode: str, options: dict[str, Any], status: int
) -> None:
    with OtlpBackend() as backend:
        backend.set_mode(mode, **options)
        sender = _sender(backend).start()
        assert _wait(lambda: len(sender.answers()) >= 2)
        sender.stop()
        assert backend.exports == []
    answers = sender.answers()

    assert {a.status for a in answers} == {status}
    ledger = sender.ledgers[Signal.TRACES]
    assert ledger.acknowledged == []
    assert len(ledger.refused) == ledger.sent == sum(a.items for a in answers)


def test_a_size_whose_gzip_body_is_over_the_request_limit_is_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="over the 1000 B a request may carry"):
        LargeExports("http://127.0.0.1:9", TOKEN, size=SIZE, prefix=PREFIX, max_body_bytes=1000)
