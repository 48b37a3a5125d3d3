"""Every level each signal was on, read from the state items in moto several times a second.

It reads moto directly, never through the fault proxy: the observer must keep seeing
while DynamoDB is failing for the gateway. Polling can miss a level held for less than
one interval; the checks that must not miss a step count the writes instead
(``IngestInstances.failovers``).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Self

from otlp_failover.signals import Signal

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

POLL_SECONDS = 0.05


class LevelWatch:
    def __init__(self, client: DynamoDBClient, table: str, interval: float = POLL_SECONDS):
        self._client = client
        self._table = table
        self._interval = interval
        self._lock = threading.Lock()
        self._history: dict[Signal, list[int]] = {signal: [0] for signal in Signal}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-levels", daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def read(self) -> dict[Signal, int]:
        """The levels now (a strongly consistent read); the history takes them in too."""
        keys = [{"signal": {"S": signal.value}} for signal in Signal]
        reply = self._client.batch_get_item(
            RequestItems={self._table: {"Keys": keys, "ConsistentRead": True}}
        )
        levels = dict.fromkeys(Signal, 0)  # a missing item is level 0
        for item in reply.get("Responses", {}).get(self._table, []):
            levels[Signal(item["signal"]["S"])] = int(item.get("level", {}).get("N", "0"))
        with self._lock:
            for signal, level in levels.items():
                if self._history[signal][-1] != level:
                    self._history[signal].append(level)
        return levels

    def history(self, signal: Signal) -> list[int]:
        """The levels seen, in order, each change once."""
        with self._lock:
            return list(self._history[signal])

    def reached(self, level: int) -> bool:
        """Whether every signal has been on ``level`` at some point."""
        with self._lock:
            return all(level in seen for seen in self._history.values())

    def deepest(self) -> int:
        with self._lock:
            return max(max(seen) for seen in self._history.values())

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.read()
            except Exception:  # noqa: S112 - the observer keeps polling through faults
                continue
