"""``python -m otlp_failover_dev.chaos`` (``make chaos``): every scenario, then the table.

Exits 1 when an acknowledged item was lost or a scenario's own check failed. ``--quick``
is the bounded run ``make test`` also makes (through tests/chaos).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from otlp_failover_dev.chaos.scale import FULL, QUICK
from otlp_failover_dev.chaos.suite import BY_NAME, SCENARIOS, run_suite

# Loggers that would talk over the table: the gateway's export failures, the SDK's
# failed exports (counted as refused), boto's retries, werkzeug's request lines.
NOISY = ("otlp_failover", "opentelemetry", "botocore", "urllib3", "werkzeug")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m otlp_failover_dev.chaos",
        description="Drive the local stack with concurrent OpenTelemetry SDK clients while "
        "faults are injected; count what was sent, acknowledged, delivered, lost, "
        "duplicated and refused.",
    )
    parser.add_argument("--quick", action="store_true", help="small and short (make test)")
    parser.add_argument("--seed", type=int, default=0, help="where the kills land (0)")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(BY_NAME), metavar="NAME", help="these scenarios"
    )
    parser.add_argument("--list", action="store_true", help="name and purpose of each scenario")
    parser.add_argument("--verbose", action="store_true", help="keep the gateway's own logs")
    args = parser.parse_args(argv)

    if args.list:
        for scenario in SCENARIOS:
            _say(f"{scenario.name:24} {scenario.proves}")
        return 0
    scale = QUICK if args.quick else FULL
    names = args.only or [scenario.name for scenario in SCENARIOS]
    _say(f"chaos ({scale.name}): {len(names)} scenarios, seed {args.seed}")
    with _quiet(not args.verbose):
        table = run_suite(names, scale, args.seed, echo=_say)
    _say("")
    _say(table.render())
    return 0 if table.ok else 1


@contextmanager
def _quiet(quiet: bool) -> Iterator[None]:
    """Only critical lines from the stack and the SDK while the run talks."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not quiet:
        yield
        return
    saved = {name: logging.getLogger(name).level for name in NOISY}
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
