"""``make bench``: the performance figures of DESIGN.md, measured side by side in one run.

    .venv/bin/python -m bench [--quick] [--only NAME ...] [--output PATH]

Prints progress, a table (key | measured | goal | met?) and writes the same figures to
bench-results.json. ``--quick`` (or BENCH_QUICK=1) runs fewer repeats and a smaller
backlog: a smoke run, not figures to quote. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import codec, cost, drain, drain_memory, drain_scaleout, forward, imports, memory, report
from bench.measure import CountingStdout, say
from bench.services import REPO, Services

STAGES = (
    "codec",
    "imports",
    "forward",
    "drain",
    "memory",
    "cost",
    "drain_scaleout",
    "drain_memory",
)


def _run(stages: list[str], quick: bool) -> dict[str, Any]:
    results: dict[str, Any] = {}
    steps: list[tuple[str, str, Callable[[Services | None], None]]] = []

    def add(stage: str, title: str, step: Callable[[Services | None], None]) -> None:
        if stage in stages:
            steps.append((stage, title, step))

    def codec_step(_: Services | None) -> None:
        encode, decode = codec.speedups(quick)
        results["json_encode_speedup"], results["json_decode_speedup"] = encode, decode

    def imports_step(_: Services | None) -> None:
        results["ingest_import_vs_boto3_import"] = imports.import_ratio(quick)

    def forward_step(up: Services | None) -> None:
        assert up is not None
        figures, invoke = forward.forward_overhead(up, quick)
        results["forward_overhead_ratio"] = figures.overhead
        results["forward_overhead_vs_floor"] = figures.over_floor
        results["ddb_requests_per_1000_exports_steady"] = forward.steady_ddb_calls(invoke)

    def drain_step(up: Services | None) -> None:
        assert up is not None
        results["drain_speedup_vs_seed_script"] = drain.drain_speedup(up, quick)

    def memory_step(up: Services | None) -> None:
        assert up is not None
        results["peak_rss_mib_failover_max_export"] = memory.peak_rss_mib(up)

    def cost_step(up: Services | None) -> None:
        assert up is not None
        results["cost_inputs"] = cost.cost_inputs(up, quick)

    add("codec", "OTLP/JSON encode and decode vs json_format + id fix-up", codec_step)
    add("imports", "cold import of the ingest handler's modules vs boto3", imports_step)
    add("forward", "healthy forwarding vs posting directly; DynamoDB calls", forward_step)
    add("drain", "drain vs the curl-per-line script", drain_step)
    add("memory", "peak RSS, the largest export failing over to S3", memory_step)
    add("cost", "cost inputs per export", cost_step)
    add(
        "drain_scaleout",
        "drain: default workers vs one, S3 +15 ms; the catch-up model",
        lambda up: drain_scaleout.record(results, up, quick),
    )
    add(
        "drain_memory",
        "peak RSS, one drain worker over exports at the cap",
        lambda up: drain_memory.record(results, up, quick),
    )
    needs_services = any(stage not in ("codec", "imports") for stage in stages)
    up = Services() if needs_services else None
    try:
        for number, (_, title, step) in enumerate(steps, 1):
            started = time.perf_counter()
            say(f"[{number}/{len(steps)}] {title}")
            step(up)
            say(f"      ({time.perf_counter() - started:.0f} s)")
    finally:
        if up is not None:
            up.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repeats (also BENCH_QUICK=1)")
    parser.add_argument("--only", action="append", choices=STAGES, help="repeatable")
    parser.add_argument("--output", default=str(REPO / "bench-results.json"))
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    stages = args.only or list(STAGES)
    say(
        f"bench: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}{' (quick: smoke figures only)' if quick else ''}"
    )
    # The functions print EMF metrics and JSON logs: counted (a cost input), not shown.
    sys.stdout = CountingStdout()
    started = time.perf_counter()
    try:
        results = _run(stages, quick)
    finally:
        sys.stdout = sys.__stdout__
    say("")
    report.print_table(results)
    report.write(results, Path(args.output))
    say(f"\nwritten to {args.output} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
