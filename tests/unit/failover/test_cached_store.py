"""CachedStateStore: one read per TTL per instance, the last known level on errors, the write
pause after an error."""

from __future__ import annotations

import pytest

from otlp_failover.errors import StateStoreError
from otlp_failover.failover.cached_store import CachedStateStore
from otlp_failover.failover.state import SignalState
from otlp_failover.signals import Signal
from tests.unit.fakes import ManualClock, MemoryStateStore

TRACES, LOGS = Signal.TRACES, Signal.LOGS
TTL = 5.0


def cached(store: MemoryStateStore) -> tuple[CachedStateStore, ManualClock]:
    clock = ManualClock()
    return CachedStateStore(store, ttl=TTL, clock=clock), clock


def reads(store: MemoryStateStore) -> int:
    return sum(op == "read" for op, _, _ in store.calls)


def test_current_reads_the_store_at_most_once_per_ttl() -> None:
    store = MemoryStateStore({TRACES: SignalState(1)})
    cache, clock = cached(store)
    assert cache.current(TRACES).level == 1
    store.states[TRACES] = SignalState(2)
    clock.advance(TTL - 0.01)
    assert cache.current(TRACES).level == 1  # still the cached answer
    clock.advance(0.01)
    assert cache.current(TRACES).level == 2
    assert reads(store) == 2


def test_each_signal_has_its_own_cache_entry() -> None:
    store = MemoryStateStore({TRACES: SignalState(1), LOGS: SignalState(2)})
    cache, _ = cached(store)
    assert (cache.current(TRACES).level, cache.current(LOGS).level) == (1, 2)


def test_a_store_error_holds_the_last_known_level_for_one_ttl() -> None:
    store = MemoryStateStore({TRACES: SignalState(1, 2)})
    cache, clock = cached(store)
    cache.current(TRACES)
    clock.advance(TTL)
    store.failing = True
    assert cache.current(TRACES) == SignalState(1, 2)
    clock.advance(TTL - 0.01)
    assert cache.current(TRACES) == SignalState(1, 2)
    assert reads(store) == 2  # the failing store is not asked again inside the TTL


def test_a_store_error_with_nothing_known_holds_level_0() -> None:
    store = MemoryStateStore({TRACES: SignalState(2)})
    store.failing = True
    cache, _ = cached(store)
    assert cache.current(TRACES) == SignalState()
    assert cache.last_known(TRACES) == SignalState()


def test_read_raises_the_store_error_and_pauses_writes() -> None:
    store = MemoryStateStore()
    store.failing = True
    cache, _ = cached(store)
    with pytest.raises(StateStoreError):
        cache.read(TRACES)
    store.failing = False
    assert cache.count_failure(TRACES, 0, 0.0) == SignalState()
    assert store.writes() == []


def test_writes_are_skipped_for_one_ttl_after_a_failed_write() -> None:
    store = MemoryStateStore({TRACES: SignalState(0, 1)})
    cache, clock = cached(store)
    cache.current(TRACES)
    store.failing = True
    with pytest.raises(StateStoreError):
        cache.count_failure(TRACES, 0, 0.0)
    store.failing = False
    assert cache.count_failure(TRACES, 0, 0.0) == SignalState(0, 1)
    assert cache.reset_failures(TRACES, 0, 0.0) == SignalState(0, 1)
    assert cache.move(TRACES, 0, 1, 0.0) == (SignalState(0, 1), False)
    assert store.writes() == [("count_failure", TRACES, (0, 0.0))]  # only the one that failed
    clock.advance(TTL)
    assert cache.count_failure(TRACES, 0, 0.0) == SignalState(0, 2)


def test_what_a_write_answers_becomes_the_cached_state() -> None:
    store = MemoryStateStore()
    cache, _ = cached(store)
    cache.current(TRACES)
    state, moved = cache.move(TRACES, 0, 1, 0.0)
    assert moved and cache.current(TRACES) == state and state.level == 1
    assert reads(store) == 1


def test_a_refused_write_teaches_the_cache_the_level_another_instance_set() -> None:
    store = MemoryStateStore()
    cache, _ = cached(store)
    cache.current(TRACES)
    store.states[TRACES] = SignalState(2)
    assert cache.count_failure(TRACES, 0, 0.0).level == 2
    assert cache.current(TRACES).level == 2 and store.states[TRACES] == SignalState(2)
