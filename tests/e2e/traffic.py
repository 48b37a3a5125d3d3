"""Steady traffic from one SDK client on a background thread, every item uniquely named.

Items go round-robin over the signals, one export each, so an item is acknowledged exactly
when its export returned SUCCESS. Delivery is then checked by name: duplicates are allowed
(OTLP is at-least-once), a missing acknowledged name is a loss.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from otlp_failover.signals import Signal
from otlp_failover_dev.local.backend import ReceivedExport
from tests.e2e import items
from tests.e2e.sdk import SdkClient


def name_of(signal: Signal, item: items.Item) -> str:
    if signal is Signal.METRICS:
        return str(dict(item[1])["item"])
    return str(item[0])


def delivered_names(exports: Sequence[ReceivedExport], signal: Signal) -> set[str]:
    return {name_of(signal, item) for item in items.received(exports, signal)}


class Traffic:
    def __init__(
        self, client: SdkClient, prefix: str, signals: Iterable[Signal] = tuple(Signal)
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.signals = tuple(signals)
        self.acknowledged: dict[Signal, list[str]] = {s: [] for s in self.signals}
        self.refused: dict[Signal, list[str]] = {s: [] for s in self.signals}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="e2e-traffic", daemon=True)
        self._lock = threading.Lock()

    def start(self) -> Traffic:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "an export hung past the SDK's own timeout"
        self.client.close()

    def count(self) -> int:
        with self._lock:
            return sum(len(names) for names in self.acknowledged.values())

    def _run(self) -> None:
        number = 0
        while not self._stop.wait(0.02):  # paced: an outage should not build a huge backlog
            for signal in self.signals:
                name = f"{self.prefix}-{signal}-{number:05d}"
                accepted = self.client.send(signal, name)
                with self._lock:
                    (self.acknowledged if accepted else self.refused)[signal].append(name)
            number += 1

    def lost(self, exports: Sequence[ReceivedExport]) -> dict[Signal, set[str]]:
        """Acknowledged names that never reached the backend, per signal."""
        return {s: set(self.acknowledged[s]) - delivered_names(exports, s) for s in self.signals}
