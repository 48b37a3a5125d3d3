"""The goals, the table printed at the end, and bench-results.json."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.measure import say

# key -> (comparison, goal), or None for a figure shown without a goal; the keys are those
# of bench-results.json, dotted when nested.
GOALS: dict[str, tuple[str, float] | None] = {
    "forward_overhead_ratio.1KiB": ("<=", 1.3),
    "forward_overhead_ratio.100KiB": ("<=", 1.3),
    "forward_overhead_ratio.1MiB": ("<=", 1.5),
    "forward_overhead_vs_floor.1KiB": ("<=", 1.15),
    "forward_overhead_vs_floor.100KiB": ("<=", 1.15),
    "forward_overhead_vs_floor.1MiB": ("<=", 1.15),
    "ddb_requests_per_1000_exports_steady": ("<=", 5),
    "json_encode_speedup.traces": (">=", 4),
    "json_encode_speedup.metrics": (">=", 4),
    "json_encode_speedup.logs": (">=", 4),
    "json_decode_speedup.traces": (">=", 4),
    "json_decode_speedup.metrics": (">=", 4),
    "json_decode_speedup.logs": (">=", 4),
    # Shown for reference: its goal moved to drain_scaleout_ratio and the drain's memory.
    "drain_speedup_vs_seed_script": None,
    "ingest_import_vs_boto3_import": ("<=", 1.5),
    "peak_rss_mib_failover_max_export": ("<=", 300),
    "drain_scaleout_ratio": (">=", 5),
    "peak_rss_mib_drain_large_backlog": ("<=", 300),
}
_COMPARE: dict[str, Callable[[float, float], bool]] = {"<=": operator.le, ">=": operator.ge}


def flatten(results: dict[str, Any]) -> dict[str, float]:
    """Dotted keys of the goal figures (cost_inputs aside)."""
    flat: dict[str, float] = {}
    for key, value in results.items():
        if isinstance(value, dict) and key != "cost_inputs":
            flat.update({f"{key}.{inner}": figure for inner, figure in value.items()})
        elif isinstance(value, int | float):
            flat[key] = value
    return flat


def _shown(key: str, value: float) -> str:
    if key.startswith("ddb_"):
        return f"{value:g}"
    if key.startswith("peak_rss"):
        return f"{value:.0f}"
    return f"{value:.2f}"


def table(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    flat = flatten(results)
    rows = []
    for key, target in GOALS.items():
        if key not in flat:
            continue
        if target is None:
            rows.append((key, _shown(key, flat[key]), "-", "-"))
            continue
        comparison, goal = target
        met = _COMPARE[comparison](flat[key], goal)
        rows.append((key, _shown(key, flat[key]), f"{comparison} {goal:g}", "yes" if met else "NO"))
    return rows


def print_table(results: dict[str, Any]) -> None:
    header = ("key", "measured", "goal", "met?")
    rows = table(results)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    line = "-+-".join("-" * width for width in widths)
    say(" | ".join(text.ljust(width) for text, width in zip(header, widths, strict=True)))
    say(line)
    for row in rows:
        say(" | ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)))


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {key: _rounded(inner) for key, inner in value.items()}
    return value


def write(results: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(_rounded(results), indent=2) + "\n", encoding="utf-8")
