"""Every chaos scenario, small and short: no acknowledged item is lost and each scenario's
own checks hold (a 503 with Retry-After when no level can keep an export, one level move
per outage, recovery after a killed probe, no re-send past a drain checkpoint)."""

from __future__ import annotations

import pytest

from otlp_failover_dev.chaos.scale import QUICK
from otlp_failover_dev.chaos.scenario import Scenario
from otlp_failover_dev.chaos.suite import SCENARIOS, run_scenario


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_no_acknowledged_item_is_lost_and_the_scenario_holds(scenario: Scenario) -> None:
    row = run_scenario(scenario, QUICK, seed=0)

    assert row.acknowledged > 0, "nothing was acknowledged: the scenario showed nothing"
    assert row.lost == (), f"{len(row.lost)} acknowledged items lost: {row.lost[:5]}"
    assert row.problems == (), row.problems
    assert row.delivered >= row.acknowledged
