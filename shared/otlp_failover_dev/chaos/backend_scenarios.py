"""Scenarios where OTLP backends fail: the primary in each way a backend fails, flapping,
the secondary failing too, and many instances racing on one outage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from otlp_failover.signals import Signal
from otlp_failover_dev.chaos.harness import Chaos
from otlp_failover_dev.chaos.scenario import Scenario, expect_served, outage

# name -> (backend mode, options, how it fails)
PRIMARY_FAULTS: dict[str, tuple[str, dict[str, Any], str]] = {
    "primary-refuse": ("refuse", {}, "refusing connections"),
    "primary-reset": ("reset", {}, "resetting connections mid-request"),
    "primary-500": ("status", {"status": 500}, "answering 500"),
    "primary-503": ("status", {"status": 503}, "answering 503"),
    "primary-429": ("throttle", {"retry_after": 1}, "answering 429 with Retry-After: 1"),
    "primary-hang": ("hang", {}, "holding requests past the export timeout"),
    "primary-401": ("status", {"status": 401}, "answering 401 (a bad credential)"),
}


def primary_down(mode: str, options: dict[str, Any]) -> Callable[[Chaos], None]:
    def run(chaos: Chaos) -> None:
        window = outage(
            chaos, lambda: chaos.primary.set_mode(mode, **options), chaos.primary.set_mode
        )
        chaos.settle()
        expect_served(chaos, *window)

    return run


def flapping(chaos: Chaos) -> None:
    """Failure and health alternate every second: the level may move many times."""
    window = outage(
        chaos,
        lambda: chaos.primary.set_mode("flap", fail="refuse", period=1.0),
        chaos.primary.set_mode,
        level=None,
    )
    chaos.settle()
    expect_served(chaos, *window)


def secondary_down_too(chaos: Chaos) -> None:
    """Both OTLP levels fail: down to the backup one step at a time, then back up the same
    way as each heals, with traffic flowing throughout."""
    secondary = chaos.secondary
    assert secondary is not None
    chaos.start_clients()
    chaos.hold(chaos.scale.warmup)
    began = chaos.now()
    chaos.primary.set_mode("refuse")
    secondary.set_mode("status", status=503)
    chaos.expect(chaos.wait_level(2, chaos.scale.fault + 10), "not every signal reached level 2")
    chaos.hold(max(0.0, began + chaos.scale.fault - chaos.now()))
    secondary.set_mode("healthy")
    chaos.expect(chaos.recover(1, timeout=15), "the healed secondary did not become current")
    chaos.hold(chaos.scale.warmup)  # traffic on the secondary
    ended = chaos.now()
    chaos.primary.set_mode("healthy")
    chaos.settle()  # every export has ended: each move it made is counted
    moves = [chaos.instances.failovers(signal) for signal in Signal]
    for signal, count in zip(Signal, moves, strict=True):
        chaos.expect(count == 2, f"{signal}: {count} level moves for 0→1→2 (must be 2)")
    chaos.note(f"level moves per signal {'/'.join(map(str, moves))}")
    expect_served(chaos, began, ended)


def race(chaos: Chaos) -> None:
    """Many clients, many cold-started instances, one outage of the primary with the
    secondary healthy: exactly one conditional write moves each signal, to level 1."""
    window = outage(chaos, lambda: chaos.primary.set_mode("refuse"), chaos.primary.set_mode)
    chaos.settle()
    # Counted once every export has ended: on a loaded machine the instance whose write
    # moved a signal may still be reading DynamoDB's answer when the heal comes.
    moves = {signal: chaos.instances.failovers(signal) for signal in Signal}
    deepest = chaos.watch.deepest()
    expect_served(chaos, *window)
    for signal, count in moves.items():
        chaos.expect(count == 1, f"{signal}: {count} level moves for one outage (must be 1)")
    chaos.expect(deepest == 1, f"level {deepest} was reached while the secondary was healthy")
    writes = chaos.proxies.dynamodb.seen["UpdateItem"]
    chaos.note(
        f"{chaos.instances.count} instances, {writes} UpdateItem calls, "
        f"level moves per signal {'/'.join(str(moves[s]) for s in Signal)}"
    )


SCENARIOS = [
    *(
        Scenario(name, f"The primary {how}: a lower level takes every export.", primary_down(m, o))
        for name, (m, o, how) in PRIMARY_FAULTS.items()
    ),
    Scenario("primary-flapping", "The primary fails and heals every second.", flapping),
    Scenario(
        "secondary-down-too",
        "Primary and secondary down: the level walks 0→1→2 one step at a time, and back.",
        secondary_down_too,
        secondary=True,
    ),
    Scenario(
        "race-one-outage",
        "Many instances race on one outage: one level move per signal, never a skip.",
        race,
        secondary=True,
        race=True,
    ),
]
