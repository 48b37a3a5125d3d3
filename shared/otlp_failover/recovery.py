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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from otlp_failover.backlog import measure_backlog
from otlp_failover.codec import ExportBody, MediaType
from otlp_failover.errors import StateStoreError
from otlp_failover.runtime import Runtime
from otlp_failover.signals import Signal
from otlp_failover.telemetry import (
    BACKLOG_OBJECTS,
    BACKLOG_OLDEST_AGE,
    CURRENT_LEVEL,
    RECOVERIES,
)

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
        runtime: Runtime,
        start_drain: Callable[[Signal], None],
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.runtime = runtime
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
        interval = self.runtime.settings.failover.retry_interval
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
            self.runtime.telemetry.flush()
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
        backup = self.runtime.backup
        if backup is not None:
            now = datetime.fromtimestamp(self._wall_clock(), UTC)
            for signal in Signal:
                try:
                    backlog = measure_backlog(self.runtime.s3, *backup, signal)
                except (BotoCoreError, ClientError) as exc:
                    log.warning("backlog of %s unknown: %s", signal, type(exc).__name__)
                    continue
                telemetry = self.runtime.telemetry
                telemetry.gauge(BACKLOG_OBJECTS, signal, backlog.objects)
                telemetry.gauge(BACKLOG_OLDEST_AGE, signal, backlog.oldest_age_seconds(now) or 0)
        self.runtime.telemetry.flush()

    def _probe_signal(self, signal: Signal, probe: bool) -> Recovery | None:
        runtime = self.runtime
        state = runtime.store.read(signal)
        recovery = None
        for level in runtime.levels[: state.level if probe else 0]:
            if level.index > 0:
                self._sleep(runtime.settings.failover.retry_gap)
            # One attempt, deadline on the exporters' clock (time.monotonic), whatever clock
            # schedules the probe: a backend that is still down answers "no" fast.
            result = level.export(
                empty_export(signal), time.monotonic() + PROBE_TIMEOUT, retry=False
            )
            decision = runtime.policy.after_probe(
                state, level.index, result.accepted, self._wall_clock()
            )
            if not decision.writes:
                log.info("probe of %s level %d: %s", signal, level.index, result.reason)
                continue
            stored, moved = runtime.store.apply(signal, decision)
            state = stored
            if moved:
                recovery = Recovery(signal, decision.expected_level, stored.level)
                runtime.telemetry.count(RECOVERIES, signal)
                log.warning(
                    "%s recovered from level %d to %d", signal, recovery.from_level, stored.level
                )
                if (
                    runtime.backup is not None
                    and stored.level in runtime.settings.failover.otlp_levels
                ):
                    self._start_drain(signal)
            break
        runtime.telemetry.gauge(CURRENT_LEVEL, signal, state.level)
        self._levels[signal] = state.level
        return recovery
