"""What the bench's child processes share: a handler module loaded cold, as Lambda loads
it, and the kernel's account of this process's memory.

A child reports ``VmHWM`` (its own peak), not ``ru_maxrss``: Linux carries the parent's
peak over into a child's ``ru_maxrss`` at exec, so the bench's own payloads would count.
"""

from __future__ import annotations

import importlib.util
import json
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"


def load_handler(function: str) -> ModuleType:
    """``functions/<function>/app.py`` imported fresh: its cold start, in this process."""
    spec = importlib.util.spec_from_file_location("app", FUNCTIONS / function / "app.py")
    assert spec is not None and spec.loader is not None
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    return app


def status_kib(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (the peak) of this process, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(f"/proc/self/status has no {field}")


@dataclass(frozen=True)
class ColdRun:
    reply: Any
    cold_kib: int  # RSS after the cold start, before the event
    peak_kib: int  # VmHWM after the invocation
    seconds: float  # the invocation alone


def run_cold(function: str, event_file: str, timeout: float) -> ColdRun:
    """Cold-start ``function``, read the event as the runtime client does, invoke it once."""
    app = load_handler(function)
    from otlp_failover_dev.local._payload import LambdaContext  # noqa: PLC0415 - after the cold start

    cold = status_kib("VmRSS")
    event = json.loads(Path(event_file).read_bytes())
    started = time.perf_counter()
    reply = app.lambda_handler(event, LambdaContext(function, "rss", time.monotonic() + timeout))
    return ColdRun(reply, cold, status_kib("VmHWM"), time.perf_counter() - started)
