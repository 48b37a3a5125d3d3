"""The probe against moto and real backends: recovery, order of levels, cadence, metrics."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from otlp_failover.probe.prober import Prober, Recovery
from otlp_failover.runtime import Runtime
from otlp_failover.settings.environment import Settings
from otlp_failover.signals import Signal
from otlp_failover.telemetry import Telemetry
from otlp_failover_dev.local.backend import OtlpBackend
from tests.functional.gateway import Gateway
from tests.functional.test_ingest import spans


class Clock:
    """Monotonic and wall time that only move when the code under test sleeps."""

    def __init__(self, wall: float = 1_800_000_000.0) -> None:
        self.now, self.wall = 0.0, wall
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds
        self.wall += seconds


def fail_over(gateway: Gateway, signal_path: str = "/v1/traces", times: int = 3) -> None:
    body = spans().SerializeToString() if signal_path == "/v1/traces" else b""
    for _ in range(times):
        assert gateway.send(signal_path, body).status == 200


def level_of(prober: Prober, signal: Signal = Signal.TRACES) -> int:
    return prober.health.store.read(signal).level


def make_prober(
    env: dict[str, str], clock: Clock | None = None
) -> tuple[Prober, list[Signal], list[str]]:
    runtime = Runtime.build(Settings.from_environment(env))
    emitted: list[str] = []
    runtime.telemetry = Telemetry("Test", emit=emitted.append)
    drains: list[Signal] = []
    clock = clock or Clock()
    prober = runtime.prober(
        drains.append,
        clock=lambda: clock.now,
        wall_clock=lambda: clock.wall,
        sleep=clock.sleep,
    )
    return prober, drains, emitted


def test_level_1_to_0_once_the_primary_answers_and_the_drain_is_started(
    gateway: Gateway, backend: OtlpBackend, chain_env: dict[str, str]
) -> None:
    backend.set_mode("refuse")
    fail_over(gateway)
    prober, drains, _ = make_prober(chain_env)
    assert level_of(prober) == 1
    (nothing,) = [prober.probe_once()]
    assert nothing == [] and drains == []
    backend.set_mode("healthy")
    (recovery,) = prober.probe_once()
    assert (recovery.signal, recovery.from_level, recovery.to_level) == (Signal.TRACES, 1, 0)
    assert level_of(prober) == 0 and prober.health.store.read(Signal.TRACES).failures == 0
    assert drains == [Signal.TRACES]
    probe = backend.exports[-1]
    assert probe.body == b"" and probe.items == 0  # an empty export request of the signal


def test_signals_on_level_0_are_not_probed(backend: OtlpBackend, chain_env: dict[str, str]) -> None:
    prober, _, _ = make_prober(chain_env)
    assert prober.probe_once() == []
    assert backend.requests_seen == 0


def test_three_levels_come_back_level_by_level_retry_gap_apart(
    chain_env: dict[str, str], backend: OtlpBackend, backend_factory: Callable[..., OtlpBackend]
) -> None:
    secondary = backend_factory()
    env = {**chain_env, "SECONDARY_ENDPOINT": secondary.url, "RETRY_GAP": "3s"}
    gateway = Gateway.build(env)
    backend.set_mode("refuse")
    secondary.set_mode("status", status=503)
    fail_over(gateway, times=6)  # 3 failures on level 0, then 3 on level 1
    clock = Clock()
    prober, drains, _ = make_prober(env, clock)
    assert level_of(prober) == 2
    assert prober.probe_once() == [] and clock.sleeps == [3.0]  # 0, gap, 1: none answered
    secondary.set_mode("healthy")
    assert [r.to_level for r in prober.probe_once()] == [1]
    assert drains == [Signal.TRACES]  # the backlog may go to the secondary meanwhile
    assert prober.probe_once() == []  # the primary is still down: stay on 1
    backend.set_mode("healthy")
    assert [r.to_level for r in prober.probe_once()] == [0]
    assert level_of(prober) == 0


def test_a_short_retry_interval_is_honoured_inside_one_scheduled_run(
    chain_env: dict[str, str],
    gateway: Gateway,
    backend: OtlpBackend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend.set_mode("refuse")  # stays down: every pass finds traces on level 1
    fail_over(gateway)
    clock = Clock()
    prober, _, _ = make_prober({**chain_env, "RETRY_INTERVAL": "10s"}, clock)
    cycles: list[float] = []
    real = prober.probe_once

    def counted(probe: bool = True) -> list[Recovery]:
        cycles.append(clock.now)
        return real(probe)

    monkeypatch.setattr(prober, "probe_once", counted)
    prober.run(budget=55)
    assert cycles == [0, 10, 20, 30, 40, 50]  # the next run, a minute on, probes at 60


def test_with_every_signal_on_level_0_a_run_is_one_pass(chain_env: dict[str, str]) -> None:
    clock = Clock()
    prober, _, emitted = make_prober({**chain_env, "RETRY_INTERVAL": "10s"}, clock)
    prober.run(budget=55)
    assert clock.sleeps == []  # no idle minute billed
    assert sum("CurrentLevel" in document for document in emitted) == 3


@pytest.mark.parametrize(("wall", "due"), [(1_800_000_000.0, True), (1_800_000_060.0, False)])
def test_a_long_retry_interval_probes_only_when_a_new_interval_begins(
    chain_env: dict[str, str], gateway: Gateway, backend: OtlpBackend, wall: float, due: bool
) -> None:
    backend.set_mode("refuse")
    fail_over(gateway)
    backend.set_mode("healthy")
    # 1_800_000_000 is a multiple of 300: a 5-minute interval starts in that minute only.
    prober, _, _ = make_prober({**chain_env, "RETRY_INTERVAL": "5m"}, Clock(wall))
    assert bool(prober.run(budget=55)) is due
    assert level_of(prober) == (0 if due else 1)


def test_every_run_reports_current_level_and_backlog_for_every_signal(
    chain_env: dict[str, str], gateway: Gateway, backend: OtlpBackend
) -> None:
    backend.set_mode("refuse")
    fail_over(gateway, "/v1/logs")
    prober, _, emitted = make_prober(chain_env)
    prober.run(budget=55)
    values: dict[tuple[str, str], float] = {}
    for document in map(json.loads, emitted):
        signal = document["Signal"]
        for metric in ("CurrentLevel", "BacklogObjects", "BacklogOldestAge"):
            if metric in document:
                (values[(signal, metric)],) = document[metric]  # EMF values come as lists
    assert {s: values[(s, "CurrentLevel")] for s in ("traces", "metrics", "logs")} == {
        "traces": 0,
        "metrics": 0,
        "logs": 1,
    }
    assert values[("logs", "BacklogObjects")] == 3
    assert values[("traces", "BacklogObjects")] == 0
