"""Every scenario, and running them one after another (a stack sets process-wide
environment variables, so one stack runs at a time)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace

from otlp_failover_dev.chaos import (
    aws_scenarios,
    backend_scenarios,
    hostile_scenarios,
    kill_scenarios,
    size_scenarios,
)
from otlp_failover_dev.chaos.harness import Chaos
from otlp_failover_dev.chaos.scale import Scale
from otlp_failover_dev.chaos.scenario import Scenario
from otlp_failover_dev.chaos.tally import Row, Table

SCENARIOS: tuple[Scenario, ...] = (
    *backend_scenarios.SCENARIOS,
    *hostile_scenarios.SCENARIOS,
    *aws_scenarios.SCENARIOS,
    *kill_scenarios.SCENARIOS,
    *size_scenarios.SCENARIOS,
)
BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}


def run_scenario(scenario: Scenario, scale: Scale, seed: int = 0, run_id: str = "") -> Row:
    """One scenario on a stack of its own; a scenario that breaks is a failed row."""
    started = time.monotonic()
    chaos = Chaos(
        scenario.name,
        scale,
        secondary=scenario.secondary,
        operations=scenario.operations,
        clients=scale.race_clients if scenario.race else scale.clients,
        run_id=run_id or uuid.uuid4().hex[:6],
        seed=seed,
        primary_headers=scenario.primary_headers,
        environment=scenario.environment,
    )
    with chaos:
        try:
            scenario.run(chaos)
        except Exception as exc:  # reported in the table; the other scenarios go on
            chaos.problem(f"the scenario itself failed: {type(exc).__name__}: {exc}")
        row = chaos.tally()
    return replace(row, seconds=time.monotonic() - started)


def run_suite(
    names: Sequence[str],
    scale: Scale,
    seed: int = 0,
    echo: Callable[[str], None] = lambda _: None,
) -> Table:
    table, run_id = Table(), uuid.uuid4().hex[:6]
    for name in names:
        echo(f"{name} ...")
        row = run_scenario(BY_NAME[name], scale, seed, run_id)
        verdict = "ok" if row.ok else "FAILED"
        echo(f"{name}: {verdict} in {row.seconds:.1f}s")
        table.rows.append(row)
    return table
