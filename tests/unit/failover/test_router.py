"""The router against in-memory fakes: verdicts, fall-through, deadlines, counted failures."""

from __future__ import annotations

from dataclasses import dataclass

from otlp_failover.failover.cached_store import CachedStateStore
from otlp_failover.failover.health import LevelHealth
from otlp_failover.failover.levels import Level
from otlp_failover.failover.outcomes import Outcome, Verdict
from otlp_failover.failover.router import LEVEL_RESERVE_SECONDS, FailoverRouter
from otlp_failover.failover.rules import Rules
from otlp_failover.failover.state import SignalState
from otlp_failover.metrics import (
    CURRENT_LEVEL,
    EXPORT_FAILURES,
    EXPORTS_ACCEPTED,
    EXPORTS_REFUSED,
    FAILOVERS,
)
from otlp_failover.signals import Signal
from tests.unit.fakes import (
    Answer,
    ManualClock,
    MemoryStateStore,
    RecordingMetrics,
    ScriptedExporter,
    export_body,
)

TRACES = Signal.TRACES
BODY = export_body(TRACES)
DEADLINE = 100.0
TTL = 5.0
NAMES = ("otlphttp/primary", "otlphttp/secondary", "s3/backup")


@dataclass
class Instance:
    """One gateway instance: its own cache and router over the shared store."""

    router: FailoverRouter
    exporters: list[ScriptedExporter]
    metrics: RecordingMetrics

    def route(self) -> Verdict:
        return self.router.route(BODY, DEADLINE).verdict


def instance(
    store: MemoryStateStore, clock: ManualClock, *answers: Answer | list[Answer]
) -> Instance:
    """Three levels; each answer is one level's constant answer, or its answers in order."""
    exporters = [
        ScriptedExporter(name, answer if isinstance(answer, list) else [], then=_last(answer))
        for name, answer in zip(NAMES, answers, strict=True)
    ]
    levels = [Level(index, (exporter,)) for index, exporter in enumerate(exporters)]
    cached = CachedStateStore(store, ttl=TTL, clock=clock)
    metrics = RecordingMetrics()
    health = LevelHealth(cached, Rules(max_retries=3, level_count=3), metrics)
    return Instance(FailoverRouter(levels, cached, health, metrics), exporters, metrics)


def _last(answer: Answer | list[Answer]) -> Answer:
    return answer[-1] if isinstance(answer, list) else answer


def at(level: int, failures: int = 0) -> MemoryStateStore:
    return MemoryStateStore({TRACES: SignalState(level, failures)})


OK, FAIL, REJECT = Outcome.ACCEPTED, Outcome.FAILED, Outcome.REJECTED


def test_accepted_by_level_0_tries_nothing_else_and_writes_nothing() -> None:
    store = MemoryStateStore()
    gateway = instance(store, ManualClock(), OK, OK, OK)
    result = gateway.router.route(BODY, DEADLINE)
    assert (result.verdict, result.level, result.failures) == (Verdict.ACCEPTED, 0, ())
    assert [len(e.calls) for e in gateway.exporters] == [1, 0, 0]
    assert store.writes() == []
    assert gateway.metrics.total(EXPORTS_ACCEPTED, TRACES, level=0) == 1


def test_a_level_0_failure_falls_through_to_level_1_in_the_same_call() -> None:
    store = MemoryStateStore()
    gateway = instance(store, ManualClock(), FAIL, OK, OK)
    result = gateway.router.route(BODY, DEADLINE)
    assert (result.verdict, result.level) == (Verdict.ACCEPTED, 1)
    assert [failure.exporter for failure in result.failures] == ["otlphttp/primary"]
    primary, secondary, _ = gateway.exporters
    assert primary.bodies[0] is BODY and secondary.bodies[0] is BODY  # the same request
    assert store.states[TRACES] == result.state == SignalState(0, 1)
    assert gateway.metrics.total(EXPORT_FAILURES, TRACES, level=0) == 1


def test_every_level_failing_is_exhausted_and_answers_with_the_last_failure() -> None:
    gateway = instance(MemoryStateStore(), ManualClock(), FAIL, FAIL, FAIL)
    result = gateway.router.route(BODY, DEADLINE)
    assert result.verdict is Verdict.EXHAUSTED
    assert result.result.exporter == "s3/backup" and len(result.failures) == 3
    assert gateway.metrics.total(EXPORTS_REFUSED, TRACES) == 1
    assert gateway.metrics.total(EXPORT_FAILURES, TRACES) == 3


def test_a_rejection_by_the_primary_is_final_and_counts_nothing() -> None:
    store = at(0, failures=2)
    gateway = instance(store, ManualClock(), REJECT, OK, OK)
    result = gateway.router.route(BODY, DEADLINE)
    assert (result.verdict, result.result.status, result.failures) == (Verdict.REJECTED, 400, ())
    assert [len(e.calls) for e in gateway.exporters] == [1, 0, 0]
    assert store.writes() == [] and store.states[TRACES] == SignalState(0, 2)
    assert gateway.metrics.counts == []


def test_a_rejection_by_the_last_level_is_final_and_counts_nothing() -> None:
    store = at(2)
    gateway = instance(store, ManualClock(), OK, OK, REJECT)
    result = gateway.router.route(BODY, DEADLINE)
    assert (result.verdict, result.result.exporter) == (Verdict.REJECTED, "s3/backup")
    assert [len(e.calls) for e in gateway.exporters] == [0, 0, 1]
    assert store.writes() == []


def test_a_rejection_by_a_middle_level_falls_through_and_counts_nothing() -> None:
    store = at(1)
    gateway = instance(store, ManualClock(), OK, REJECT, OK)
    result = gateway.router.route(BODY, DEADLINE)
    assert (result.verdict, result.level) == (Verdict.ACCEPTED, 2)
    assert [(f.exporter, f.outcome) for f in result.failures] == [("otlphttp/secondary", REJECT)]
    assert store.writes() == []  # no failure counted on level 1
    assert gateway.metrics.total(EXPORT_FAILURES) == 0


def test_each_level_gets_the_deadline_less_a_reserve_per_lower_level() -> None:
    gateway = instance(MemoryStateStore(), ManualClock(), FAIL, FAIL, FAIL)
    gateway.router.route(BODY, DEADLINE)
    deadlines = [exporter.calls[0].deadline for exporter in gateway.exporters]
    reserve = LEVEL_RESERVE_SECONDS
    assert deadlines == [DEADLINE - 2 * reserve, DEADLINE - reserve, DEADLINE]


def test_failures_of_levels_below_the_current_one_count_for_nothing() -> None:
    store = MemoryStateStore()
    gateway = instance(store, ManualClock(), FAIL, FAIL, OK)
    for _ in range(2):
        assert gateway.route() is Verdict.ACCEPTED
    assert store.states[TRACES] == SignalState(0, 2)
    assert store.writes() == [("count_failure", TRACES, (0, 0.0))] * 2


def test_level_0_to_1_after_3_consecutive_failures_and_the_next_export_starts_at_1() -> None:
    store = MemoryStateStore()
    gateway = instance(store, ManualClock(), FAIL, OK, OK)
    for _ in range(3):
        gateway.route()
    assert store.states[TRACES].level == 1 and store.states[TRACES].failures == 0
    assert gateway.metrics.total(FAILOVERS, TRACES) == 1
    assert gateway.metrics.gauges == [(CURRENT_LEVEL, TRACES, 1)]
    primary = gateway.exporters[0]
    gateway.route()
    assert len(primary.calls) == 3  # the 4th export went straight to level 1
    assert [op for op, _, _ in store.calls].count("read") == 1  # the move's answer was cached


def test_level_0_stays_when_a_success_resets_the_count_between_failures() -> None:
    store = MemoryStateStore()
    gateway = instance(store, ManualClock(), [FAIL, FAIL, OK, FAIL, FAIL], OK, OK)
    for _ in range(5):
        gateway.route()
    assert store.states[TRACES] == SignalState(0, 2)
    assert ("reset_failures", TRACES, (0, 0.0)) in store.writes()


def test_level_0_to_1_once_when_another_instance_moves_first() -> None:
    store, clock = at(0, failures=2), ManualClock()
    first = instance(store, clock, FAIL, OK, OK)
    second = instance(store, clock, FAIL, OK, OK)
    # The first counts failure 3; before its move lands, the second counts 4 and moves.
    store.before_next("move", second.route)
    assert first.route() is Verdict.ACCEPTED
    assert store.states[TRACES] == SignalState(1, 0, changed_at=store.states[TRACES].changed_at)
    moves = [args for op, _, args in store.calls if op == "move"]
    assert moves == [(0, 1, 0.0), (0, 1, 0.0)]  # both tried; the condition let one through
    assert first.metrics.total(FAILOVERS) + second.metrics.total(FAILOVERS) == 1
    assert second.metrics.total(FAILOVERS) == 1


def test_level_1_stays_when_a_stale_instance_reports_level_0_failures() -> None:
    store, clock = MemoryStateStore(), ManualClock()
    stale = instance(store, clock, FAIL, OK, OK)
    stale.route()  # caches level 0, failures 1
    store.states[TRACES] = SignalState(1, 0)  # another instance failed over meanwhile
    for _ in range(3):
        stale.route()
    assert store.states[TRACES].level == 1  # counted nowhere: level 0 is not current
    assert stale.metrics.total(FAILOVERS) == 0
    assert len(stale.exporters[0].calls) == 2  # the first refused count taught it level 1


def test_a_state_store_error_keeps_routing_from_the_last_known_level() -> None:
    store, clock = at(1), ManualClock()
    gateway = instance(store, clock, OK, OK, OK)
    assert gateway.router.route(BODY, DEADLINE).level == 1
    clock.advance(TTL)
    store.failing = True
    result = gateway.router.route(BODY, DEADLINE)
    assert (result.verdict, result.level) == (Verdict.ACCEPTED, 1)
    assert len(gateway.exporters[0].calls) == 0


def test_a_state_store_error_with_no_known_level_routes_from_level_0() -> None:
    store = at(2)
    store.failing = True
    gateway = instance(store, ManualClock(), OK, OK, OK)
    assert gateway.router.route(BODY, DEADLINE).level == 0


def test_a_state_store_error_pauses_reads_and_writes_for_one_ttl() -> None:
    store, clock = MemoryStateStore(), ManualClock()
    store.failing = True
    gateway = instance(store, clock, FAIL, OK, OK)
    assert gateway.route() is Verdict.ACCEPTED  # the data is never dropped for the state
    store.failing = False
    clock.advance(TTL - 0.1)
    gateway.route()
    assert store.calls == [("read", TRACES, ())]  # no count, no second read, during the pause
    clock.advance(0.1)
    gateway.route()
    assert store.calls[1:] == [("read", TRACES, ()), ("count_failure", TRACES, (0, 0.0))]
    assert store.states[TRACES] == SignalState(0, 1)
