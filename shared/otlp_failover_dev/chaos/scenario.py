"""What a chaos scenario is: a name, what it proves, and how it breaks and heals the stack."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from otlp_failover_dev.chaos.harness import Chaos


@dataclass(frozen=True)
class Scenario:
    name: str
    proves: str  # one sentence, for --list and the README
    run: Callable[[Chaos], None]  # ends with chaos.settle()
    secondary: bool = False  # a three-level chain: primary -> secondary -> S3
    operations: bool = True  # the probe and the drain on their schedules
    race: bool = False  # many more clients (Scale.race_clients)
    # The primary demands these headers, kept in a secret as a deployment keeps them.
    primary_headers: Mapping[str, str] = field(default_factory=dict)
    # Settings of the gateway's own, over the suite's shortened ones (None: the default).
    environment: Mapping[str, str | None] = field(default_factory=dict)


def outage(
    chaos: Chaos,
    break_: Callable[[], object],
    heal: Callable[[], object],
    *,
    level: int | None = 1,
) -> tuple[float, float]:
    """Clients on, ``break_()``, hold for the scale's fault time, ``heal()``; returns the
    fault window. ``level``: where every signal must get during the fault (None: no
    check)."""
    chaos.start_clients()
    chaos.hold(chaos.scale.warmup)
    began = chaos.now()
    break_()
    if level is not None:
        chaos.expect(
            chaos.wait_level(level, chaos.scale.fault + 10),
            f"not every signal reached level {level} during the fault",
        )
    chaos.hold(max(0.0, began + chaos.scale.fault - chaos.now()))
    ended = chaos.now()
    heal()
    return began, ended


def expect_served(chaos: Chaos, since: float, until: float) -> None:
    """Every export that ran during the window, even in part, was acknowledged: a lower
    level absorbed the fault. Checked after ``settle()``, when every export has its answer
    (one that was still running at the heal is not recorded before it ends)."""
    answers = chaos.answers(since, until)
    failed = [a for a in answers if a.status != 200]
    chaos.expect(bool(answers), "no export ran inside the fault window")
    chaos.expect(
        not failed,
        f"{len(failed)} of {len(answers)} exports in the fault window were answered "
        f"{sorted({a.status for a in failed})} though a lower level was there",
    )
