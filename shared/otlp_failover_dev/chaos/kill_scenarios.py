"""Scenarios that kill the drain and the probe at random points while clients keep sending.

The drain: a backlog from a real outage, sharded, replayed by several workers at once
(one per waiting (signal, shard)), each killed at a random call of a random operation
(after a POST was accepted, around a checkpoint write, around a delete, while reading)
and restarted fresh; a last clean drain finishes the job. Only a batch accepted but not
yet checkpointed may arrive twice.

The probe: outages one after another, each followed by a probe killed after a level
accepted its probe but before the state write (or after the write, before it starts the
drain); the next probe run must still bring every signal back. The probe works on the
signals side by side: the others' threads finish their pass (a real kill would stop them
too; they only recover sooner). The outages' backlog, spread over the shards, is left for
the last drain, which deals the waiting (signal, shard) units to several workers at once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from otlp_failover.aws.dynamodb_drain import DynamoDBDrainStore
from otlp_failover.drain.drainer import Drainer
from otlp_failover.drain.pacer import Pacer
from otlp_failover.drain.ports import DrainUnit
from otlp_failover.drain.sender import BatchSender
from otlp_failover.settings.environment import BACKUP_SHARDS, DrainLimits
from otlp_failover.signals import Signal
from otlp_failover_dev.chaos.harness import Chaos
from otlp_failover_dev.chaos.scenario import Scenario
from otlp_failover_dev.faults import (
    Killed,
    KillingCheckpoints,
    KillSwitch,
    killing_level,
    killing_reader,
)

# Small batches over many objects: many calls, so a kill lands mid-object and mid-batch.
KILL_LIMITS = DrainLimits(rate=1000.0, batch_lines=3, read_ahead_bytes=4096, readers=2)
KILLED_WORKERS = 3  # workers side by side in each round, on different units
DEFAULT_SHARDS = {BACKUP_SHARDS: None}  # the deployment's shard count, not the suite's two
# Drain kill points, and whether the batch in flight may then arrive twice.
DRAIN_POINTS = {
    "post:after": True,  # accepted, not yet checkpointed: sent again
    "save:before": True,  # the same window, seen from the checkpoint write
    "save:after": False,
    "delete:before": False,
    "delete:after": False,
    "read:before": False,
}
PROBE_POINTS = ("export:after", "drain:before")
DRAIN_RUN_SECONDS = 60.0


def outage_then_heal(chaos: Chaos) -> None:
    chaos.primary.set_mode("refuse")
    chaos.expect(chaos.wait_level(1, chaos.scale.fault + 10), "the backup never became current")
    chaos.hold(chaos.scale.fault / 2)
    chaos.primary.set_mode("healthy")


def drain_killed(chaos: Chaos) -> None:
    chaos.start_clients()
    chaos.hold(chaos.scale.warmup)
    outage_then_heal(chaos)
    chaos.expect(chaos.recover(0), "the probe did not bring the primary back")
    runtime = chaos.ops.runtime
    backup = runtime.backup
    assert backup is not None
    checkpoints = DynamoDBDrainStore(runtime.aws.dynamodb, runtime.settings.state_table)
    may_repeat: set[str] = set()
    kills: Counter[str] = Counter()
    killed_units: set[DrainUnit] = set()
    most_at_once = 0
    lock = threading.Lock()

    def worker(unit: DrainUnit, point: str, at: int) -> None:
        switch = KillSwitch(point, at=at)
        level = killing_level(runtime.levels[0], switch, "post")
        drainer = Drainer(
            unit,
            BatchSender(unit.signal, level, Pacer(KILL_LIMITS.rate), KILL_LIMITS.batch_bytes),
            killing_reader(backup, switch),
            KillingCheckpoints(checkpoints, switch),
            limits=KILL_LIMITS,
        )
        try:
            drainer.run(time.monotonic() + DRAIN_RUN_SECONDS)
        except Killed:
            with lock:
                kills[point] += 1
                if DRAIN_POINTS[point]:
                    may_repeat.update(switch.in_flight)

    rounds = max(1, chaos.scale.kills // KILLED_WORKERS)
    for _ in range(rounds):
        waiting = [
            DrainUnit(signal, shard) for signal in Signal for shard in backup.waiting_shards(signal)
        ]
        if not waiting:
            break
        units = chaos.rng.sample(waiting, min(KILLED_WORKERS, len(waiting)))
        killed_units.update(units)
        most_at_once = max(most_at_once, len(units))
        # The kill points are drawn here, in order, so a seed replays the same run.
        points = [chaos.rng.choice(sorted(DRAIN_POINTS)) for _ in units]
        calls = [chaos.rng.randint(1, 3) for _ in units]
        with ThreadPoolExecutor(len(units), thread_name_prefix="killed-drain") as pool:
            list(pool.map(worker, units, points, calls))
    chaos.expect(sum(kills.values()) > 0, "no kill landed: the backlog was too small")
    chaos.settle()  # the last, clean drain
    repeated = {name for name, times in chaos.received().items() if times > 1}
    chaos.expect(
        repeated <= may_repeat,
        f"{len(repeated - may_repeat)} items sent again though a checkpoint covered them",
    )
    chaos.note(
        f"{sum(kills.values())} drain kills ({', '.join(sorted(kills))}) "
        f"over {len(killed_units)} (signal, shard) units, up to {most_at_once} workers at once"
    )


def probe_killed(chaos: Chaos) -> None:
    chaos.start_clients()
    chaos.hold(chaos.scale.warmup)
    runtime = chaos.ops.runtime
    kills: Counter[str] = Counter()
    for cycle in range(max(2, chaos.scale.kills // 3)):
        outage_then_heal(chaos)
        point = PROBE_POINTS[cycle % len(PROBE_POINTS)]  # both points, whatever the seed
        cut = chaos.rng.choice(list(Signal))  # the signal whose recovery is cut short
        # The kill lands on the recovery: after the last of the probe_successes probes in
        # a row it needs, or before the one drain start it makes.
        needed = runtime.settings.failover.probe_successes
        switch = KillSwitch(point, at=needed if point.startswith("export") else 1, signal=cut)
        levels = tuple(killing_level(level, switch, "export") for level in runtime.levels)
        prober = runtime.prober(_starter(switch), levels=levels)
        try:
            for _ in range(needed):
                prober.probe_once()
        except Killed:
            kills[point] += 1
            # Cut before the write: it never happened; after it: only the drain's start is lost.
            expected = 1 if point == "export:after" else 0
            level = chaos.watch.read()[cut]
            chaos.expect(level == expected, f"{cut} on level {level} after a kill at {point}")
        chaos.expect(chaos.recover(0, timeout=15), f"the probe after a kill at {point} failed")
    chaos.expect(sum(kills.values()) > 0, "no probe kill landed")
    # What the last drain finds: the outages' backlog over many shards, dealt to workers.
    plan = chaos.ops.drain_job.plan()
    units = [unit for group in plan.groups for unit in group]
    chaos.expect(
        len(plan.groups) > 1,
        f"{len(units)} waiting shards went to {len(plan.groups)} drain worker(s), not several",
    )
    chaos.settle()
    chaos.note(
        f"{sum(kills.values())} probe kills ({', '.join(sorted(kills))}); backlog of "
        f"{len(units)} shards drained by {len(plan.groups)} workers at once"
    )


def _starter(switch: KillSwitch) -> Callable[[Signal], None]:
    """The probe's "start the drain" (a no-op here: the scenario drains), as a kill point."""

    def start_drain(signal: Signal) -> None:
        switch.around("drain", lambda: None, signal)

    return start_drain


SCENARIOS = [
    Scenario(
        "drain-killed",
        "The drain killed at random points and restarted: nothing lost, no checkpointed resend.",
        drain_killed,
        operations=False,
        environment=DEFAULT_SHARDS,
    ),
    Scenario(
        "probe-killed",
        "The probe killed between a level's acceptance and the state write: the next run recovers.",
        probe_killed,
        operations=False,
        environment=DEFAULT_SHARDS,
    ),
]
