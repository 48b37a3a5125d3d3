"""What the bench's child processes share: a handler module loaded cold, as Lambda loads
it, and the kernel's account of this process's memory.

A child reports ``VmHWM`` (its own peak), not ``ru_maxrss``: Linux carries the parent's
peak over into a child's ``ru_maxrss`` at exec, so the bench's own payloads would count.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

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
