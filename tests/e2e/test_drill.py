"""``otlp-failover drill`` (``make demo``), run in-process with short phases: the failover
story happens and no acknowledged item is lost, for both client protocols."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from otlp_failover.signals import Signal
from otlp_failover_dev.cli import main
from otlp_failover_dev.commands import drill_run
from otlp_failover_dev.commands.drill_report import DrillReport, Tally
from otlp_failover_dev.ledger import Ledger

SHORT = [
    *("--rate", "8", "--warmup", "1s", "--outage", "5s", "--tail", "1s", "--timeout", "30s"),
    *("--retry-interval", "1s", "--retry-gap", "200ms", "--drain-interval", "1s"),
]
ROW = re.compile(r"^\s+(traces|metrics|logs)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$")


@pytest.mark.parametrize("protocol", ["protobuf", "json"])
def test_the_drill_fails_over_recovers_and_loses_no_acknowledged_item(
    protocol: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["drill", "--protocol", protocol, *SHORT])
    out = capsys.readouterr().out

    assert code == 0, out
    rows = {m[1]: [int(n) for n in m.groups()[1:]] for m in map(ROW.match, out.splitlines()) if m}
    assert set(rows) == {"traces", "metrics", "logs"}, out
    for signal, (sent, acknowledged, delivered, lost, _duplicates, refused) in rows.items():
        assert lost == 0, signal
        assert refused == 0, signal
        assert sent == acknowledged == delivered > 0, (signal, out)
    events = [line.split(None, 1)[1] for line in out.splitlines() if line.startswith("t+")]
    for signal in Signal:
        assert any(e.startswith(f"{signal} level 0 -> 1") for e in events), out
        assert any(e.startswith(f"{signal} level 1 -> 0") for e in events), out
    story = ["primary down", "primary back", "backlog 0", "backlog empty and every"]
    assert [next(i for i, e in enumerate(events) if e.startswith(s)) for s in story] == sorted(
        next(i for i, e in enumerate(events) if e.startswith(s)) for s in story
    ), out
    assert f"Tally ({protocol} client" in out


def test_the_drill_exits_1_and_names_the_items_when_an_acknowledged_item_is_lost(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lost = Tally(Signal.LOGS, 10, 10, 8, ("drill-x-logs-000003", "drill-x-logs-000007"), 0, 0)
    kept = Tally(Signal.TRACES, 10, 10, 10, (), 2, 0)
    report = DrillReport("protobuf", [kept, lost])
    monkeypatch.setattr(drill_run.Drill, "run", lambda self: report)

    code = main(["drill"])
    out = capsys.readouterr().out

    assert code == 1
    assert "LOST 2 acknowledged logs items: drill-x-logs-000003, drill-x-logs-000007" in out
    assert "OK:" not in out


def test_the_tally_counts_losses_and_duplicates_by_name() -> None:
    ledger = Ledger(sent=4, acknowledged=["a", "b", "c"], refused=["d"])
    tally = Tally.of(Signal.TRACES, ledger, Counter({"a": 3, "c": 1}))

    assert (tally.sent, tally.acknowledged, tally.delivered) == (4, 3, 2)
    assert tally.lost == ("b",)
    assert (tally.duplicates, tally.refused) == (2, 1)
