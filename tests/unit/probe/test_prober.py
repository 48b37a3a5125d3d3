"""The Prober on a manual clock: the order and spacing of the probes, the consecutive
successes a recovery needs, what an answer means, and when a drain is started (what a
run reports first: test_prober_reports.py; its cadence: test_prober_cadence.py)."""

from __future__ import annotations

import time

import pytest

from otlp_failover.failover.levels import Level
from otlp_failover.failover.outcomes import ExportResult, Outcome
from otlp_failover.failover.state import SignalState
from otlp_failover.metrics import CURRENT_LEVEL, RECOVERIES
from otlp_failover.probe.prober import PROBE_TIMEOUT, Recovery
from tests.unit.fakes import (
    WALL_START,
    ScriptedExporter,
)
from tests.unit.probe.scripted import FAIL, OK, TRACES, Probe

# ------------------------------------------------------------------- order of the levels


def test_levels_are_probed_highest_priority_first_retry_gap_apart() -> None:
    probe = Probe(level=2, retry_gap=3.0)
    probe.prober().probe_once()
    assert probe.probed() == [[0.0], [3.0], []]  # the current level itself is not probed
    assert probe.clock.sleeps == [3.0]


def test_level_2_to_1_when_only_the_secondary_answers() -> None:
    probe = Probe(level=2, successes=1).answer(FAIL, OK, OK)
    assert probe.prober().probe_once() == [Recovery(TRACES, 2, 1)]
    assert probe.store.states[TRACES].level == 1


def test_level_2_to_0_stops_at_the_primary_without_probing_the_secondary() -> None:
    probe = Probe(level=2, successes=1).answer(OK, OK, OK)
    assert probe.prober().probe_once() == [Recovery(TRACES, 2, 0)]
    assert probe.probed() == [[0.0], [], []] and probe.clock.sleeps == []


def test_probes_are_single_attempts_of_an_empty_export_with_a_short_deadline() -> None:
    probe = Probe(level=1)
    probe.prober().probe_once()
    (call,) = probe.exporters[0].calls
    assert (call.retry, call.body.signal, call.body.raw) == (False, TRACES, b"")
    assert 0 < call.deadline - time.monotonic() <= PROBE_TIMEOUT


def test_a_canary_probe_sends_one_item() -> None:
    probe = Probe(level=1, request="canary")
    probe.prober().probe_once()
    (body,) = probe.exporters[0].bodies
    assert body.raw and len(body.message.resource_spans[0].scope_spans[0].spans) == 1


# --------------------------------------------------------- consecutive successes to recover


def test_level_1_to_0_on_the_second_probe_in_a_row_the_primary_accepts() -> None:
    probe = Probe(level=1).answer([FAIL, OK], FAIL, FAIL)
    assert probe.run() == [Recovery(TRACES, 1, 0)]
    assert probe.probed()[0] == [0.0, 10.0, 20.0]  # down, up once, up twice: back
    assert probe.store.states[TRACES].level == 0
    assert probe.metrics.total(RECOVERIES, TRACES) == 1


def test_one_lucky_answer_between_failures_moves_nothing() -> None:
    probe = Probe(level=1).answer([OK, FAIL, OK, FAIL], FAIL, FAIL)
    assert probe.run(budget=35.0) == []  # passes at 0, 10, 20, 30
    assert probe.store.states[TRACES].level == 1
    assert probe.metrics.total(RECOVERIES) == 0


def test_a_move_of_the_signal_meanwhile_starts_the_count_again() -> None:
    probe = Probe(level=1).answer(OK, FAIL, FAIL)
    prober = probe.prober()
    assert prober.probe_once() == []  # one success
    # Another instance recovered it and traffic failed it over again: a new epoch.
    probe.store.states[TRACES] = SignalState(1, 0, changed_at=WALL_START + 30)
    assert prober.probe_once() == []  # one success in this epoch, not two
    assert prober.probe_once() == [Recovery(TRACES, 1, 0)]


def test_an_accepted_but_unconfirmed_level_lets_the_pass_go_on_below() -> None:
    probe = Probe(level=2).answer(OK, OK, FAIL)
    prober = probe.prober()
    assert prober.probe_once() == []  # the primary and the secondary: one success each
    assert probe.probed() == [[0.0], [1.0], []]
    assert prober.probe_once() == [Recovery(TRACES, 2, 0)]  # the primary's second
    assert probe.probed() == [[0.0, 1.0], [1.0], []]


def test_a_confirmed_secondary_takes_the_traffic_while_the_primary_is_unconfirmed() -> None:
    probe = Probe(level=2).answer([FAIL, OK], OK, FAIL)
    prober = probe.prober()
    assert prober.probe_once() == []
    assert prober.probe_once() == [Recovery(TRACES, 2, 1)]  # 2nd for the secondary, 1st for 0


@pytest.mark.parametrize(
    ("status", "outcome", "recovers"),
    [
        (200, Outcome.ACCEPTED, True),
        (400, Outcome.REJECTED, True),  # up, and judging payloads
        (413, Outcome.REJECTED, True),
        (401, Outcome.FAILED, False),  # a misconfiguration: traffic would fail there too
        (403, Outcome.FAILED, False),
        (404, Outcome.FAILED, False),
        (429, Outcome.FAILED, False),
        (503, Outcome.FAILED, False),
        (None, Outcome.FAILED, False),  # no answer
    ],
)
def test_what_an_answer_to_the_probe_means(
    status: int | None, outcome: Outcome, recovers: bool
) -> None:
    answer = ExportResult(outcome, "otlphttp/primary", status=status, reason=f"HTTP {status}")
    probe = Probe(level=1, successes=1).answer(answer, FAIL, FAIL)
    assert bool(probe.prober().probe_once()) is recovers


def test_a_level_is_up_only_when_every_exporter_of_it_is() -> None:
    probe = Probe(level=1, successes=1)
    audit = ScriptedExporter("otlphttp/audit", then=FAIL)
    prober = probe.answer(OK, FAIL, FAIL).prober()
    prober.levels = (Level(0, (probe.exporters[0], audit)), *prober.levels[1:])
    assert prober.probe_once() == []
    assert len(audit.calls) == 1


# ------------------------------------------------------------------------- the drain


def test_a_recovery_to_an_otlp_level_with_a_backup_starts_the_drain() -> None:
    probe = Probe(level=2, successes=1).answer(FAIL, OK, OK)
    probe.prober().probe_once()
    assert probe.drains == [TRACES]


def test_a_recovery_without_a_backup_starts_no_drain() -> None:
    probe = Probe(level=1, backup=False, successes=1).answer(OK, OK, OK)
    assert probe.prober().probe_once() == [Recovery(TRACES, 1, 0)]
    assert probe.drains == []


def test_no_recovery_starts_no_drain() -> None:
    probe = Probe(level=1)
    probe.run()
    assert probe.drains == []


def test_a_recovery_another_instance_made_first_starts_no_drain_here() -> None:
    probe = Probe(level=1, successes=1).answer(OK, OK, OK)
    probe.store.before_next("move", lambda: probe.store.states.update({TRACES: SignalState(0)}))
    assert probe.prober().probe_once() == []
    assert probe.drains == []
    assert probe.metrics.gauged(CURRENT_LEVEL, TRACES) == [1, 0]  # then what the store said


def test_a_stored_level_past_the_chains_end_never_probes_the_backup_level() -> None:
    probe = Probe(level=5).answer(FAIL, FAIL, OK)  # a chain shortened since the item was set
    probe.prober().probe_once()
    assert probe.exporters[0].calls and probe.exporters[1].calls
    assert probe.exporters[2].calls == []  # no probe request written into the backup
