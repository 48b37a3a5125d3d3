"""The probe against moto and real backends: recovery after two probes in a row, what a
backend's answer means, order of levels, cadence, metrics, the handler's budget."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from otlp_failover.probe.prober import Prober, Recovery
from otlp_failover.runtime import Runtime
from otlp_failover.settings.environment import Settings
from otlp_failover.signals import Signal
from otlp_failover.telemetry import Telemetry
from otlp_failover_dev.local._payload import LambdaContext
from otlp_failover_dev.local.backend import OtlpBackend
from otlp_failover_dev.local.stack import load_module
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
    assert prober.probe_once() == [] and level_of(prober) == 1  # once is not enough
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
    assert prober.probe_once() == []  # the secondary's first success
    assert [r.to_level for r in prober.probe_once()] == [1]
    assert drains == [Signal.TRACES]  # the backlog may go to the secondary meanwhile
    assert prober.probe_once() == []  # the primary is still down: stay on 1
    backend.set_mode("healthy")
    assert prober.probe_once() == []
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

    def counted(deadline: float | None = None, states: Any = None) -> list[Recovery]:
        cycles.append(clock.now)
        return real(deadline, states)

    monkeypatch.setattr(prober, "probe_once", counted)
    prober.run(budget=55)
    assert cycles == [0, 10, 20, 30, 40, 50]  # the next run, a minute on, probes at 60


def test_with_every_signal_on_level_0_a_run_is_one_pass(chain_env: dict[str, str]) -> None:
    clock = Clock()
    prober, _, emitted = make_prober({**chain_env, "RETRY_INTERVAL": "10s"}, clock)
    prober.run(budget=55)
    assert clock.sleeps == []  # no idle minute billed
    assert sum("CurrentLevel" in document for document in emitted) == 3


def test_a_long_retry_interval_probes_once_per_interval_and_recovers_on_the_second(
    chain_env: dict[str, str], gateway: Gateway, backend: OtlpBackend
) -> None:
    backend.set_mode("refuse")
    fail_over(gateway)
    backend.set_mode("healthy")
    clock = Clock(1_800_000_060.0)  # a minute into a 5-minute interval
    prober, _, _ = make_prober({**chain_env, "RETRY_INTERVAL": "5m"}, clock)
    probes = []
    for _ in range(5):  # runs a minute apart: 1 (a fresh probe probes at once) ... 5
        prober.run(budget=55)
        probes.append(backend.requests_seen)
        clock.wall += 60
    assert probes == [1, 1, 1, 1, 2]  # the next probe in the minute a new interval began
    assert level_of(prober) == 0


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


@pytest.mark.parametrize(
    ("status", "recovers"),
    [
        (400, True),  # up: it parsed the empty request and judged it
        (413, True),
        (401, False),  # a misconfiguration: traffic would fail there too
        (403, False),
        (404, False),
        (500, False),
    ],
)
def test_what_a_backends_answer_to_the_probe_means(
    chain_env: dict[str, str], gateway: Gateway, backend: OtlpBackend, status: int, recovers: bool
) -> None:
    backend.set_mode("refuse")
    fail_over(gateway)
    backend.set_mode("status", status=status)
    prober, _, _ = make_prober(chain_env)
    recoveries = prober.probe_once() + prober.probe_once()
    assert bool(recoveries) is recovers
    assert level_of(prober) == (0 if recovers else 1)


def test_a_canary_probe_delivers_one_named_span(
    chain_env: dict[str, str], gateway: Gateway, backend: OtlpBackend
) -> None:
    backend.set_mode("refuse")
    fail_over(gateway)
    backend.set_mode("healthy")
    prober, _, _ = make_prober({**chain_env, "PROBE_REQUEST": "canary", "PROBE_SUCCESSES": "1"})
    assert len(prober.probe_once()) == 1
    (probe,) = backend.exports
    span = probe.message.resource_spans[0].scope_spans[0].spans[0]
    assert (probe.items, span.name) == (1, "otlp-failover.probe")


@pytest.mark.parametrize(
    ("remaining", "budget"),
    [(90.0, 55.0), (70.0, 40.0), (31.0, 1.0), (10.0, 0.0)],  # a slow init leaves less
)
def test_the_handler_takes_its_budget_from_the_invocations_time_left(
    chain_env: dict[str, str],
    repo_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    remaining: float,
    budget: float,
) -> None:
    for name, value in chain_env.items():
        monkeypatch.setenv(name, value)
    app = load_module(repo_root / "functions" / "probe" / "app.py")
    budgets: list[float] = []

    def run(given: float) -> list[Recovery]:
        budgets.append(given)
        return []

    monkeypatch.setattr(app.prober, "run", run)
    context = LambdaContext("probe", "req-1", time.monotonic() + remaining)
    assert app.lambda_handler({}, context) == {"recoveries": []}
    assert budgets == [pytest.approx(budget, abs=0.1)]
