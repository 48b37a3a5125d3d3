"""How many probes in a row each level above a signal's current one has passed.

Held in the probe's memory, not in the DynamoDB item, because every way that memory is
lost errs on the safe side: a cold start or a second probe instance starts from zero and
only delays a recovery by one more probe; none can make one happen early. In the item,
each probe success would be one more conditional write on the hot item the ingest reads,
for a count that only the probe uses. EventBridge runs the probe once a minute and a run
ends before the next begins, so one warm instance normally keeps the count.

A streak belongs to the signal's state epoch (its level and the time that level was set):
when the signal moves, by this probe, another instance or a failover, it starts again.
A failed probe of a level ends that level's streak; a level the pass did not reach (its
time ran out first) keeps its count.
"""

from __future__ import annotations

import threading

from otlp_failover.failover.state import SignalState
from otlp_failover.signals import Signal

Epoch = tuple[int, float]


class Streaks:
    def __init__(self) -> None:
        self._held: dict[Signal, tuple[Epoch, dict[int, int]]] = {}
        self._lock = threading.Lock()  # the probe works on the signals side by side

    def record(self, signal: Signal, state: SignalState, level: int, up: bool) -> int:
        """Count one probe of ``level`` made while ``state`` was current; the streak now."""
        epoch = (state.level, state.changed_at)
        with self._lock:
            held_epoch, counts = self._held.get(signal, (epoch, {}))
            if held_epoch != epoch:
                counts = {}
            counts[level] = counts.get(level, 0) + 1 if up else 0
            self._held[signal] = (epoch, counts)
            return counts[level]
