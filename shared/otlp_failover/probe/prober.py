"""The probe: brings each signal back to the highest-priority level that answers again.

Every ``retry_interval`` it sends an empty export request of the signal (a valid OTLP
request that backends answer 200) to the levels above the current one, highest priority
first, ``retry_gap`` apart. The first level that accepts becomes current, by a write that
holds only while the level is still the one probed from. EventBridge runs the probe at
most once a minute, so one invocation probes as many times as ``retry_interval`` fits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from otlp_failover.backup.reader import BackupReader
from otlp_failover.codec import ExportBody, MediaType
from otlp_failover.errors import BackupError, StateStoreError
from otlp_failover.failover.health import LevelHealth
from otlp_failover.failover.levels import Level
from otlp_failover.metrics import BACKLOG_OBJECTS, BACKLOG_OLDEST_AGE, CURRENT_LEVEL, Metrics
from otlp_failover.settings.chain import FailoverConfig
from otlp_failover.signals import Signal

log = logging.getLogger(__name__)

SCHEDULE_PERIOD = 60.0  # EventBridge's shortest rate
PROBE_TIMEOUT = 5.0  # one probe of one level; a hung backend must not stall the others


@dataclass(frozen=True)
class Recovery:
    signal: Signal
    from_level: int
    to_level: int


def empty_export(signal: Signal) -> ExportBody:
    """The probe's request: an empty export of ``signal`` (zero bytes of protobuf)."""
    return ExportBody(
        signal=signal,
        media_type=MediaType.PROTOBUF,
        encoding=None,
        message=signal.request_class(),
        raw=b"",
    )


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
        self._levels: dict[Signal, int] = {}  # each signal's level after the last pass

    def run(self, budget: float, schedule_period: float = SCHEDULE_PERIOD) -> list[Recovery]:
        """Probe every ``retry_interval`` until less than one interval of ``budget`` is left.

        With an interval longer than the schedule, only the invocations in which a new
        interval begins probe; the others still report every signal's level. When every
        signal is on level 0 the run ends after one pass: an idle minute-long sleep would
        be most of the gateway's fixed cost. A failover that happens meanwhile is probed
        from the next scheduled run, within a minute.
        """
        interval = self.config.retry_interval
        if interval >= schedule_period:
            now = self._wall_clock()
            due = int(now // interval) != int((now - schedule_period) // interval)
            recoveries = self.probe_once(probe=due)
            self.report_backlog()
            return recoveries
        end = self._clock() + budget
        recoveries = []
        while True:
            started = self._clock()
            recoveries += self.probe_once()
            if started + interval > end or not any(self._levels.values()):
                self.report_backlog()
                return recoveries
            self._metrics.flush()
            self._sleep(max(0.0, started + interval - self._clock()))

    def probe_once(self, probe: bool = True) -> list[Recovery]:
        """One pass over every signal, the signals side by side (a hung backend delays one
        signal's pass, not the others'); emits CurrentLevel for each."""
        with ThreadPoolExecutor(len(Signal), thread_name_prefix="probe") as pool:
            outcomes = list(pool.map(lambda signal: self._probe_safely(signal, probe), Signal))
        return [recovery for recovery in outcomes if recovery is not None]

    def _probe_safely(self, signal: Signal, probe: bool) -> Recovery | None:
        try:
            return self._probe_signal(signal, probe)
        except StateStoreError as exc:
            log.warning("probe skipped %s: %s", signal, exc)
            return None

    def report_backlog(self) -> None:
        """Backlog size and age per signal, then flush every metric of this run."""
        if self._backup is not None:
            now = datetime.fromtimestamp(self._wall_clock(), UTC)
            for signal in Signal:
                try:
                    backlog = self._backup.backlog(signal)
                except BackupError as exc:
                    log.warning("backlog of %s unknown: %s", signal, exc)
                    continue
                self._metrics.gauge(BACKLOG_OBJECTS, signal, backlog.objects)
                age = backlog.oldest_age_seconds(now) or 0
                self._metrics.gauge(BACKLOG_OLDEST_AGE, signal, age)
        self._metrics.flush()

    def _probe_signal(self, signal: Signal, probe: bool) -> Recovery | None:
        state = self.health.store.read(signal)
        recovery = None
        for level in self.levels[: state.level if probe else 0]:
            if level.index > 0:
                self._sleep(self.config.retry_gap)
            # One attempt, deadline on the exporters' clock (time.monotonic), whatever clock
            # schedules the probe: a backend that is still down answers "no" fast.
            result = level.export(
                empty_export(signal), time.monotonic() + PROBE_TIMEOUT, retry=False
            )
            if not result.accepted:
                log.info("probe of %s level %d: %s", signal, level.index, result.reason)
                continue
            before = state.level
            state, moved = self.health.record_probe(signal, state, level.index, accepted=True)
            if moved:
                recovery = Recovery(signal, before, state.level)
                if self._backup is not None and state.level in self.config.otlp_levels:
                    self._start_drain(signal)
            break
        self._metrics.gauge(CURRENT_LEVEL, signal, state.level)
        self._levels[signal] = state.level
        return recovery
