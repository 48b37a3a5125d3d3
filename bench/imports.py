"""Cold import time of what the ingest function imports, against ``import boto3``.

Each sample is a fresh interpreter (``python -c``), so nothing is cached in the process;
the byte-code caches on disk are warm, as in a deployed layer. Interpreter start-up
(``python -c pass``) is measured beside them and subtracted. The modules are read from
``functions/ingest/app.py`` itself, so the figure follows the handler's imports.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

from bench.measure import median, say
from bench.services import INGEST_APP

ROUNDS = 20


def handler_modules() -> list[str]:
    """The modules ``functions/ingest/app.py`` imports (``__future__`` aside)."""
    modules: list[str] = []
    for node in ast.parse(INGEST_APP.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__":
            modules.append(node.module)
        elif isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
    return modules


def _runner(code: str, cwd: str) -> Callable[[], float]:
    command = [sys.executable, "-c", code]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}

    def run() -> float:
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=env, check=True, timeout=60)  # noqa: S603
        return time.perf_counter() - started

    return run


def _top_imports(code: str, cwd: str, count: int = 8) -> str:
    """The costliest packages by ``-X importtime``: self time summed per top-level package."""
    result = subprocess.run(  # noqa: S603 - our interpreter
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    totals: dict[str, int] = {}
    for line in result.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        root = parts[2].strip().split(".")[0]
        totals[root] = totals.get(root, 0) + int(parts[0])
    ranked = sorted(totals.items(), key=lambda item: -item[1])[:count]
    return ", ".join(f"{name} {micros / 1000:.0f} ms" for name, micros in ranked)


def import_ratio(quick: bool) -> float:
    modules = handler_modules()
    code = "import " + ", ".join(modules)
    with tempfile.TemporaryDirectory() as cwd:
        runs = {
            "pass": _runner("pass", cwd),
            "handler": _runner(code, cwd),
            "boto3": _runner("import boto3", cwd),
        }
        names = list(runs)
        for name in names:  # the first start of each reads files the others may not have
            runs[name]()
        samples: dict[str, list[float]] = {name: [] for name in names}
        for number in range(6 if quick else ROUNDS):
            order = names[number % 3 :] + names[: number % 3]
            for name in order:
                samples[name].append(runs[name]())
        top = _top_imports(code, cwd)
    start = median(samples["pass"])
    handler = median(samples["handler"]) - start
    boto3 = median(samples["boto3"]) - start
    say(f"  {code}")
    say(
        f"  handler imports {handler * 1e3:.0f} ms, boto3 {boto3 * 1e3:.0f} ms "
        f"(interpreter start {start * 1e3:.0f} ms subtracted) -> x{handler / boto3:.2f}"
    )
    say(f"  -X importtime, top level: {top}")
    return handler / boto3
