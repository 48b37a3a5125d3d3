"""``otlp-failover status`` and ``otlp-failover drain`` against a running, published stack.

The commands run as separate processes, as an operator runs them, with an environment
that holds nothing but the path of the published file (its location under test), so
everything they know about the stack comes from that file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from otlp_failover.runtime import Runtime
from otlp_failover.signals import Signal
from otlp_failover_dev.commands.target import STATE_FILE_ENV
from otlp_failover_dev.items import deliveries
from tests.e2e.conftest import StackFactory, auth, backlog
from tests.e2e.sdk import SdkClient

ITEMS = 4


def otlp_failover(*args: str, state_file: Path, home: Path) -> subprocess.CompletedProcess[str]:
    script = shutil.which("otlp-failover", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "otlp_failover_dev.cli"]
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),  # no ~/.aws of the developer's
        STATE_FILE_ENV: str(state_file),
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.run(
        [*command, *args], check=False, capture_output=True, text=True, env=environment, timeout=60
    )


def test_status_shows_the_failover_and_drain_replays_the_backlog_to_zero(
    start_stack: StackFactory, e2e_environment: Path, tmp_path: Path
) -> None:
    # No scheduled probe or drain: the command under test is the only thing that drains.
    stack = start_stack(operations=False, publish=True)
    assert stack.primary is not None
    assert e2e_environment.is_file()  # published where OTLP_FAILOVER_LOCAL_FILE points
    client = SdkClient("protobuf", stack.api_url, auth(stack))
    stack.primary.set_mode("refuse")
    names = {Signal.TRACES: [f"cli-span-{n}" for n in range(ITEMS)]}
    names[Signal.LOGS] = [f"cli-log-{n}" for n in range(ITEMS)]
    for signal, batch in names.items():
        assert [client.send(signal, name) for name in batch] == [True] * ITEMS
    client.close()

    table = otlp_failover("status", state_file=e2e_environment, home=tmp_path)
    document = otlp_failover("status", "--json", state_file=e2e_environment, home=tmp_path)

    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["signal", "level", "failures", "backlog", "oldest"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert re.match(rf"traces\s+1 \(s3/backup\)\s+0\s+{ITEMS} objects\s+\S+", rows["traces"])
    assert re.match(r"metrics\s+0 \(otlphttp/primary\)\s+0\s+0 objects\s+-", rows["metrics"])
    assert re.match(rf"logs\s+1 \(s3/backup\)\s+0\s+{ITEMS} objects", rows["logs"])
    assert document.returncode == 0, document.stderr
    parsed = json.loads(document.stdout)
    assert {s: v["level"] for s, v in parsed["signals"].items()} == {
        "traces": 1,
        "metrics": 0,
        "logs": 1,
    }
    assert parsed["backlog"]["traces"]["objects"] == ITEMS

    stack.primary.set_mode("healthy")
    # What the scheduled probe does, minus starting the drain: the command drains here.
    prober = Runtime.build().prober(start_drain=lambda _: None)
    assert prober.probe_once() == []  # one success: not yet (probe_successes is 2)
    assert len(prober.probe_once()) == 2
    drained = otlp_failover("drain", state_file=e2e_environment, home=tmp_path)

    assert drained.returncode == 0, drained.stdout + drained.stderr
    progress = drained.stderr.splitlines()
    assert progress, "no progress bar"
    # One bar per signal (plain lines off a terminal, one per change), each ending full;
    # metrics had nothing waiting, so its bar never moved.
    bars = {line.split()[0]: line for line in progress}
    assert set(bars) == {"traces", "logs"}
    assert all(re.match(r"^(traces|metrics|logs) +\[[#.]+\] ", line) for line in progress)
    for name in ("traces", "logs"):
        assert re.search(rf"\[#+\] {ITEMS}/{ITEMS} 100%", bars[name]), bars[name]
    tally = {line.split()[0]: line.split() for line in drained.stdout.splitlines()}
    assert tally["signal"][:6] == ["signal", "shards", "objects", "requests", "set", "aside"]
    # shards drained, objects, requests, set aside, left
    assert tally["traces"][2:6] == [str(ITEMS), str(ITEMS), "0", "0"]
    assert tally["logs"][2:6] == [str(ITEMS), str(ITEMS), "0", "0"]
    assert tally["metrics"][1:6] == ["0", "0", "0", "0", "0"]
    assert backlog(stack) == {"traces": 0, "metrics": 0, "logs": 0}
    for signal, batch in names.items():
        assert set(deliveries(stack.primary.exports, signal)) == set(batch)
