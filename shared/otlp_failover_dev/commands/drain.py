"""``otlp-failover drain``: replay the S3 backup now, with a progress bar and a final tally.

It runs the drain Lambda's own code on this machine, with the environment of the local
stack or of a deployed drain function (``--function``): one worker thread per group of
(signal, shard), each under the same lease a drain Lambda takes, so it never drains a
shard beside a scheduled drain. One progress bar per signal.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from otlp_failover.settings.durations import parse_duration


def add_drain_command(commands: Any) -> None:
    parser = commands.add_parser(
        "drain",
        help="replay the S3 backup into the current OTLP level now",
        description="Replay the backlog oldest first, as the drain Lambda does.",
    )
    parser.add_argument(
        "--function",
        metavar="NAME",
        help="a deployed drain (or ingest) function whose environment names the resources; "
        "default: the local stack",
    )
    parser.add_argument(
        "--signal", action="append", choices=["traces", "metrics", "logs"], help="repeatable"
    )
    parser.add_argument("--rate", type=float, help="requests per second (default: the function's)")
    parser.add_argument(
        "--workers",
        type=int,
        help="units (signal, shard) drained at once (default: the function's)",
    )
    parser.add_argument("--budget", default="15m", help="stop after this long (15m)")
    parser.set_defaults(run=run_drain_command)


def run_drain_command(args: argparse.Namespace) -> int:
    from otlp_failover.errors import FailoverError  # noqa: PLC0415
    from otlp_failover_dev.commands.target import LocalTarget, TargetError  # noqa: PLC0415

    try:
        environment = _environment(args.function, LocalTarget.load())
        os.environ.update(environment)  # boto3 and Settings read the same variables
        return _drain(args)
    except (TargetError, FailoverError, ValueError) as exc:
        print(f"otlp-failover drain: {exc}", file=sys.stderr)
        return 1


def _environment(function: str | None, local: Any) -> dict[str, str]:
    from otlp_failover_dev.commands.target import TargetError  # noqa: PLC0415

    if function:
        import boto3  # noqa: PLC0415

        configuration = boto3.client("lambda").get_function_configuration(FunctionName=function)
        variables: dict[str, str] = configuration.get("Environment", {}).get("Variables", {})
        return variables
    if local is None:
        raise TargetError("no local stack is running; pass --function for a deployed stack")
    return dict(local.environment)


def _drain(args: argparse.Namespace) -> int:
    from otlp_failover.drain.drainer import DrainTally  # noqa: PLC0415
    from otlp_failover.runtime import Runtime  # noqa: PLC0415
    from otlp_failover.signals import Signal  # noqa: PLC0415
    from otlp_failover_dev.commands.progress import ProgressBars  # noqa: PLC0415

    runtime = Runtime.build()
    backup = runtime.backup
    if backup is None:
        print("otlp-failover drain: this chain has no S3 backup level", file=sys.stderr)
        return 1
    signals = [Signal(s) for s in args.signal or [s.value for s in Signal]]
    # The bars' totals: counted in full (someone is watching, not an API limit).
    totals = {
        s.value: backup.backlog(s, max_objects=sys.maxsize, max_seconds=60).objects for s in signals
    }
    bars = ProgressBars(totals)
    finished: dict[str, int] = {}  # unit -> objects drained
    requests: dict[str, int] = {}
    lock = threading.Lock()

    def progress(tally: DrainTally) -> None:
        signal = tally.unit.signal.value
        with lock:
            finished[str(tally.unit)], requests[str(tally.unit)] = tally.objects, tally.lines
            done = sum(n for unit, n in finished.items() if unit.startswith(f"{signal}/"))
            sent = sum(n for unit, n in requests.items() if unit.startswith(f"{signal}/"))
        bars.update(signal, done, f"{sent} requests")

    limits = runtime.settings.drain
    if args.rate:
        limits = replace(limits, rate=args.rate)
    if args.workers:
        limits = replace(limits, concurrency=args.workers)
    job = runtime.drain_job(limits=limits)
    report = job.run(parse_duration(args.budget), signals, on_progress=progress)
    bars.close()
    if not report.ran:
        print(f"not drained: {report.skipped.get('*', 'unknown reason')}")
        return 1
    now = datetime.now(UTC)
    print(
        f"{'signal':8} {'shards':>6} {'objects':>8} {'requests':>9} {'set aside':>9} "
        f"{'left':>6}  note"
    )
    for signal in signals:
        tallies = [t for t in report.tallies if t.unit.signal is signal]
        left = backup.backlog(signal)
        stopped = sorted({t.stopped for t in tallies if t.stopped})
        skipped = sorted(
            {why for unit, why in report.skipped.items() if unit.startswith(signal.value)}
        )
        note = "; ".join(stopped + skipped) or "done"
        age = left.oldest_age_seconds(now)
        if age is not None:
            note += f" (oldest left: {age:.0f}s)"
        print(
            f"{signal.value:8} {len(tallies):>6} {sum(t.objects for t in tallies):>8} "
            f"{sum(t.lines for t in tallies):>9} {sum(t.dead_lettered for t in tallies):>9} "
            f"{left.objects:>6}  {note}"
        )
    stopped_any = any(t.stopped for t in report.tallies)
    return 1 if stopped_any else 0
