"""The probe's cadence: every retry_interval inside one budget, every wait ending by the
budget, and the long-interval schedule across runs that drift."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otlp_failover.errors import ConfigError
from otlp_failover.metrics import CURRENT_LEVEL
from otlp_failover.probe.prober import PROBE_TIMEOUT
from otlp_failover.settings.chain import (
    FailoverConfig,
)
from otlp_failover.signals import Signal
from tests.unit.fakes import (
    WALL_START,
    ManualClock,
)
from tests.unit.probe.scripted import FAIL, OK, TRACES, Probe


def test_a_short_interval_probes_every_interval_inside_one_budget() -> None:
    probe = Probe(level=1, retry_interval=10.0)
    assert probe.run(budget=45.0) == []
    assert probe.probed() == [[0.0, 10.0, 20.0, 30.0, 40.0], [], []]  # not at 50: past 45
    assert probe.clock.sleeps == [10.0] * 4


def test_one_pass_only_when_every_signal_is_on_level_0() -> None:
    probe = Probe(level=0)
    assert probe.run(budget=55.0) == []
    assert probe.probed() == [[], [], []] and probe.clock.sleeps == []
    for signal in Signal:
        assert probe.metrics.gauged(CURRENT_LEVEL, signal) == [0]


def allowed_timings() -> Iterator[tuple[float, float]]:
    """(retry_interval, retry_gap) pairs the three-level chain accepts, short to long."""
    for interval in (1.0, 2.0, 5.0, 10.0, 30.0, 59.0, 60.0, 120.0, 300.0):
        for gap in (0.0, 0.5, 2.0, 5.0, 20.0, 30.0):
            try:
                FailoverConfig.from_mapping(
                    {
                        "priority_levels": [
                            [{"otlphttp/a": {"endpoint": "http://a"}}],
                            [{"otlphttp/b": {"endpoint": "http://b"}}],
                            [{"s3": {"bucket": "backup"}}],
                        ],
                        "retry_interval": interval,
                        "retry_gap": gap,
                    }
                )
            except ConfigError:
                continue
            yield interval, gap


@pytest.mark.parametrize(("interval", "gap"), list(allowed_timings()))
def test_with_hanging_backends_every_wait_ends_by_the_budget(interval: float, gap: float) -> None:
    probe = Probe(level=2, retry_interval=interval, retry_gap=gap)
    probe.answer(probe.hangs, probe.hangs, FAIL)
    probe.run(budget=55.0)
    assert probe.clock.now <= 55.0
    assert probe.given and max(probe.given) <= PROBE_TIMEOUT
    assert len(probe.exporters[1].calls) >= 1  # the first pass reached the secondary
    assert probe.metrics.journal[0] == "flush CurrentLevel"


def test_each_probe_gets_at_most_what_is_left_of_the_budget() -> None:
    probe = Probe(level=1, retry_interval=4.0)
    probe.answer(probe.hangs, FAIL, FAIL)
    probe.run(budget=7.0)
    assert probe.given == [PROBE_TIMEOUT, 2.0]  # the second pass starts at 5 with 2 s left
    assert probe.clock.now == pytest.approx(7.0, abs=0.01)


def test_a_gap_that_leaves_no_time_for_a_probe_is_not_slept() -> None:
    probe = Probe(level=2, retry_gap=3.0)
    probe.answer(probe.hangs, OK, FAIL)
    probe.run(budget=6.0)
    assert probe.probed()[1] == []  # 5 s for the primary, then a 3 s gap would pass 6 s
    assert probe.clock.sleeps == [] and probe.clock.now <= 6.0


@pytest.mark.parametrize("offset", [0.0, 60.0])
def test_a_fresh_prober_with_a_long_interval_probes_at_once(offset: float) -> None:
    probe = Probe(level=1, retry_interval=120.0, clock=ManualClock(wall=WALL_START + offset))
    probe.run()
    assert probe.probed()[0] == [0.0]
    assert probe.clock.sleeps == []
    assert probe.metrics.gauged(CURRENT_LEVEL, TRACES) == [1]


def test_a_long_interval_is_never_skipped_when_runs_drift() -> None:
    # EventBridge runs about a minute apart; a gap of 62 s made the old test (against
    # now - 60 s) miss the interval that began at 120.
    probe = Probe(level=1, retry_interval=120.0)
    prober = probe.prober()
    for run_at in (0.0, 61.0, 119.0, 181.0, 240.0):
        probe.clock.advance(run_at - probe.clock.now)
        prober.run(budget=55.0)
        assert probe.metrics.gauged(CURRENT_LEVEL, TRACES)[-1] == 1  # reported every run
    assert probe.probed()[0] == [0.0, 181.0, 240.0]
