"""``otlp-failover drill``: a failover drill on this machine, start to finish (``make demo``).

It starts a local stack of its own, sends traffic with the OpenTelemetry SDK, takes the
demo primary down, brings it back, and prints a timeline as it goes and a tally at the end:
per signal what was sent, acknowledged, delivered, lost, duplicated and refused. The exit
status is 1 when an acknowledged item was lost or the drill could not complete its story.

Only argument parsing lives here; the SDK, moto and the stack load when the drill runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from otlp_failover_dev.commands import arguments

PROTOCOLS = ("protobuf", "json")
FAILURE_MODES = ("refuse", "reset", "503", "429")
SIGNAL_NAMES = ("traces", "metrics", "logs")


def add_drill_command(commands: Any) -> None:
    parser = commands.add_parser(
        "drill",
        help="run a failover drill on a local stack: outage, recovery, drain, tally",
        description="Start a local stack, send OpenTelemetry SDK traffic, take the demo "
        "primary down and bring it back; print a timeline and a per-signal tally. Exits 1 "
        "if an acknowledged item never reached the primary.",
    )
    parser.add_argument(
        "--protocol", choices=PROTOCOLS, default="protobuf", help="the SDK exporter (protobuf)"
    )
    parser.add_argument(
        "--signals",
        type=_signals,
        default=SIGNAL_NAMES,
        metavar="LIST",
        help="comma-separated signals to send (traces,metrics,logs)",
    )
    parser.add_argument(
        "--rate",
        type=arguments.positive_float,
        default=10.0,
        metavar="N",
        help="items/s per signal (10)",
    )
    durations = (
        ("--warmup", "5s", "healthy traffic before the outage"),
        ("--outage", "15s", "how long the primary is down"),
        ("--tail", "5s", "traffic after every signal is back on level 0"),
        ("--timeout", "60s", "longest wait for the recovery, and again for the drain"),
        ("--retry-interval", "2s", "how often the probe tries the primary"),
        ("--retry-gap", "1s", "pause between probing two levels"),
        ("--drain-interval", "2s", "how often the drain runs"),
    )
    for flag, default, text in durations:
        parser.add_argument(
            flag,
            type=arguments.duration,
            default=default,
            metavar="DURATION",
            help=f"{text} ({default})",
        )
    parser.add_argument(
        "--failure", choices=FAILURE_MODES, default="refuse", help="how the primary fails (refuse)"
    )
    parser.add_argument(
        "--max-retries",
        type=arguments.positive_int,
        default=3,
        metavar="N",
        help="failures per switch (3)",
    )
    parser.add_argument(
        "--port", type=arguments.port, default=0, help="HTTP API port (0: a free one)"
    )
    parser.add_argument(
        "--aws-port", type=arguments.port, default=0, help="AWS emulator port (0: free)"
    )
    parser.add_argument("--verbose", action="store_true", help="keep the gateway's own logs")
    parser.set_defaults(run=run_drill)


def run_drill(args: argparse.Namespace) -> int:
    # Imported here: `otlp-failover status` must not pay for the SDK, moto and boto3.
    from otlp_failover.errors import FailoverError  # noqa: PLC0415
    from otlp_failover.signals import Signal  # noqa: PLC0415
    from otlp_failover_dev.commands.drill_run import Drill, DrillOptions  # noqa: PLC0415

    options = DrillOptions(
        protocol=args.protocol,
        signals=tuple(Signal(name) for name in args.signals),
        rate=args.rate,
        warmup=args.warmup,
        outage=args.outage,
        failure=args.failure,
        tail=args.tail,
        timeout=args.timeout,
        port=args.port,
        aws_port=args.aws_port,
        max_retries=args.max_retries,
        retry_interval=args.retry_interval,
        retry_gap=args.retry_gap,
        drain_interval=args.drain_interval,
        verbose=args.verbose,
    )
    print(f"otlp-failover drill: {options.protocol} client, primary fails by {options.failure}")
    try:
        report = Drill(options, echo=lambda line: print(line, flush=True)).run()
    except (OSError, FailoverError) as exc:  # a port in use, a bad flag combination
        print(f"otlp-failover drill: cannot run: {exc}", file=sys.stderr)
        return 1
    print()
    print(report.render(), flush=True)
    return 0 if report.ok else 1


def _signals(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in SIGNAL_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"signals are {', '.join(SIGNAL_NAMES)}; got {text!r}")
    return names
