"""The probe: brings each signal back to the highest-priority level that passes its check.

A run first reports what it knows, before any backend is asked anything: each signal's
CurrentLevel, flushed (the alarm's metric goes out even if the run is cut short), then the
backlog, listed within a cap. Then, every ``retry_interval``, it probes the levels above
each signal's current one, highest priority first, ``retry_gap`` apart (``check.py`` says
what a probe sends and what counts as up). A level that passed ``probe_successes``
probes in a row (``streaks.py``) becomes current, by a write that holds only while the
signal is still in the state it was probed from.

Every wait ends by the run's budget: each gap, each interval and each probe (at most
PROBE_TIMEOUT). EventBridge starts a run once a minute, so one run probes as many times
as ``retry_interval`` fits in its budget.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from otlp_failover.backup.reader import BackupReader
from otlp_failover.errors import BackupError, StateStoreError
from otlp_failover.failover.health import LevelHealth
from otlp_failover.failover.levels import Level
from otlp_failover.failover.state import SignalState
from otlp_failover.metrics import BACKLOG_OBJECTS, BACKLOG_OLDEST_AGE, CURRENT_LEVEL, Metrics
from otlp_failover.probe.check import is_up, probe_request
from otlp_failover.probe.streaks import Streaks
from otlp_failover.settings.chain import PROBE_TIMEOUT, FailoverConfig
from otlp_failover.signals import Signal

log = logging.getLogger(__name__)

__all__ = ["PROBE_TIMEOUT", "Prober", "Recovery"]

SCHEDULE_PERIOD = 60.0  # EventBridge's shortest rate
MIN_PROBE_SECONDS = 0.5  # a probe with less time than this left is not started
BACKLOG_SECONDS = 3.0  # the most a run spends listing the backlog (the signals side by side)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Recovery:
    signal: Signal
    from_level: int
    to_level: int


class Prober:
    def __init__(
        self,
        *,
        config: FailoverConfig,
        levels: Sequence[Level],
        health: LevelHealth,
        backup: BackupReader | None,
        metrics: Metrics,
        start_drain: Callable[[Signal], None],
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.levels = tuple(levels)
        self.health = health
        self._backup = backup
        self._metrics = metrics
        self._start_drain = start_drain
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._streaks = Streaks()
        self._levels: dict[Signal, int] = {}  # each signal's level after the last pass
        self._last_probed: float | None = None  # wall time of the last long-interval pass

    def run(self, budget: float, schedule_period: float = SCHEDULE_PERIOD) -> list[Recovery]:
        """Report, then probe every ``retry_interval`` while a pass still starts inside
        ``budget`` seconds; nothing waits past the budget.

        With an interval longer than the schedule, only the runs in which a new interval
        began since the last probe pass probe. When every signal is on level 0 the run
        ends after one pass: an idle minute-long sleep would be most of the gateway's fixed
        cost. A failover that happens meanwhile is probed from the next run, within a minute.
        """
        end = self._clock() + budget
        states: dict[Signal, SignalState] | None = self.report_levels()
        # The listing may take a third of a short run at most: the probes are its purpose.
        self.report_backlog(min(BACKLOG_SECONDS, budget / 3))
        interval = self.config.retry_interval
        if interval >= schedule_period:
            recoveries = self.probe_once(end, states) if self._due(interval) else []
            self._metrics.flush()
            return recoveries
        recoveries = []
        while True:
            started = self._clock()
            recoveries += self.probe_once(end, states)
            self._metrics.flush()
            if started + interval >= end or not any(self._levels.values()):
                return recoveries
            self._sleep(max(0.0, started + interval - self._clock()))  # before ``end``
            states = None  # the next pass reads and reports afresh

    def report_levels(self) -> dict[Signal, SignalState]:
        """Each signal's state, read, gauged as CurrentLevel and flushed at once. A signal
        whose state cannot be read is left out (its pass is skipped)."""

        def read(signal: Signal) -> SignalState | None:
            try:
                return self.health.store.read(signal)
            except StateStoreError as exc:
                log.warning("probe skipped %s: %s", signal, exc)
                return None

        states = {}
        for signal, state in zip(Signal, _side_by_side(read, Signal), strict=True):
            if state is not None:
                states[signal] = state
                self._metrics.gauge(CURRENT_LEVEL, signal, state.level)
        self._metrics.flush()
        return states

    def probe_once(
        self, deadline: float | None = None, states: dict[Signal, SignalState] | None = None
    ) -> list[Recovery]:
        """One pass over every signal, the signals side by side (a hung backend delays one
        signal's pass, not the others'), ending by ``deadline`` (on ``clock``) if one is
        given. Reports the levels first unless ``states`` were just reported."""
        if states is None:
            states = self.report_levels()
        self._levels = {}
        found = _side_by_side(lambda s: self._probe_safely(s, states[s], deadline), states)
        return [recovery for recovery in found if recovery is not None]

    def report_backlog(self, seconds: float = BACKLOG_SECONDS) -> None:
        """Backlog size and age per signal, each listing capped in objects and ``seconds``
        (the count is then a lower bound; the age, from the first page, is exact); then
        flush every metric of this run."""
        if self._backup is not None:
            backup = self._backup
            now = datetime.fromtimestamp(self._wall_clock(), UTC)

            def measure(signal: Signal) -> None:
                try:
                    backlog = backup.backlog(signal, max_seconds=seconds, clock=self._clock)
                except BackupError as exc:
                    log.warning("backlog of %s unknown: %s", signal, exc)
                    return
                self._metrics.gauge(BACKLOG_OBJECTS, signal, backlog.objects)
                self._metrics.gauge(
                    BACKLOG_OLDEST_AGE, signal, backlog.oldest_age_seconds(now) or 0
                )

            _side_by_side(measure, Signal)
        self._metrics.flush()

    def _due(self, interval: float) -> bool:
        """Whether an interval began since the last pass that probed. This instance
        remembers that pass; a fresh one probes at once: one probe too many beats a
        skipped interval."""
        now = self._wall_clock()
        if self._last_probed is not None and now // interval == self._last_probed // interval:
            return False
        self._last_probed = now
        return True

    def _probe_safely(
        self, signal: Signal, state: SignalState, deadline: float | None
    ) -> Recovery | None:
        try:
            return self._probe_signal(signal, state, deadline)
        except StateStoreError as exc:
            log.warning("probe skipped %s: %s", signal, exc)
            return None

    def _probe_signal(
        self, signal: Signal, state: SignalState, deadline: float | None
    ) -> Recovery | None:
        self._levels[signal] = state.level
        # Never the last level (the backup): a stored level past a shortened chain's end
        # would otherwise have the probe write its request into the backup.
        for level in self.levels[: min(state.level, len(self.levels) - 1)]:
            if level.index > 0 and not self._pause(self.config.retry_gap, deadline):
                break
            timeout = (
                PROBE_TIMEOUT if deadline is None else min(PROBE_TIMEOUT, deadline - self._clock())
            )
            if timeout < MIN_PROBE_SECONDS:
                break
            # The deadline is on the exporters' clock (time.monotonic), whatever clock
            # schedules the probe: a backend that is still down answers "no" in time.
            up = self._check(signal, level, time.monotonic() + timeout)
            streak = self._streaks.record(signal, state, level.index, up)
            after, moved = self.health.record_probe(signal, state, level.index, up, streak)
            if after == state:
                continue  # down, or up but not yet often enough: try the levels below
            self._levels[signal] = after.level
            if not moved:  # another instance moved it first: report what the store holds
                self._metrics.gauge(CURRENT_LEVEL, signal, after.level)
                return None
            if self._backup is not None and after.level in self.config.otlp_levels:
                self._start_drain(signal)
            return Recovery(signal, state.level, after.level)
        return None

    def _check(self, signal: Signal, level: Level, deadline: float) -> bool:
        """One attempt per exporter of the level; up only when every exporter is."""
        body = probe_request(signal, self.config.probe_request, int(self._wall_clock() * 1e9))
        for exporter in level.exporters:
            result = exporter.export(body, deadline, retry=False)
            if not is_up(result):
                log.info("probe of %s level %d: %s", signal, level.index, result.reason)
                return False
        return True

    def _pause(self, seconds: float, deadline: float | None) -> bool:
        """Sleep ``seconds`` if a probe still fits after them; False if none would."""
        if deadline is not None and self._clock() + seconds + MIN_PROBE_SECONDS > deadline:
            return False
        self._sleep(seconds)
        return True


def _side_by_side(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``fn`` over ``items`` on a thread each (at most one per signal)."""
    with ThreadPoolExecutor(len(Signal), thread_name_prefix="probe") as pool:
        return list(pool.map(fn, items))
