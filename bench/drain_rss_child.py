"""A fresh process for the drain's memory figures. Run by ``bench.drain_memory``.

    python -m bench.drain_rss_child worker EVENT_JSON RESULT_JSON
    python -m bench.drain_rss_child steps SIGNAL KEY RESULT_JSON

``worker``: cold-starts ``functions/drain/app.py`` (the environment from the parent) and
handles one worker event (``{"units": [...]}``) as Lambda hands it over, then reports the
peak RSS (``VmHWM``). ``steps``: replays one backup line of the bucket the way the
drain does, step by step, and reports each step's own peak: Linux's peak (``VmHWM``) is
reset before each step (``/proc/self/clear_refs``), and each step's objects are kept while
the next runs, as the drain keeps them.
"""

from __future__ import annotations

import gc
import gzip
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from bench.child_process import run_cold, status_kib


def worker(event_file: str, result_file: str) -> None:
    run = run_cold("drain", event_file, timeout=900)
    result = {
        "reply": run.reply,
        "peak_kib": run.peak_kib,
        "cold_kib": run.cold_kib,
        "s": run.seconds,
    }
    Path(result_file).write_text(json.dumps(result))


def _step(name: str, run: Callable[[], Any], steps: list[dict[str, Any]]) -> Any:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    before = status_kib("VmRSS")
    started = time.perf_counter()
    value = run()
    elapsed = time.perf_counter() - started
    peak = status_kib("VmHWM")
    steps.append(
        {
            "step": name,
            "rss_before_mib": round(before / 1024, 1),
            "peak_mib": round(peak / 1024, 1),
            "peak_above_before_mib": round((peak - before) / 1024, 1),
            "held_after_mib": round((status_kib("VmRSS") - before) / 1024, 1),
            "s": round(elapsed, 2),
        }
    )
    return value


def _loads_without_gc(line: bytes) -> Any:
    gc.disable()  # as decode_json does: the collector would walk the new objects again and again
    try:
        return orjson.loads(line)
    finally:
        gc.enable()


def steps(signal_name: str, key: str, result_file: str) -> None:
    # Imported here: the worker mode imports only what the drain function does.
    from otlp_failover.codec import decode_json  # noqa: PLC0415
    from otlp_failover.drain.sender import GZIP_LEVEL  # noqa: PLC0415
    from otlp_failover.runtime import Runtime  # noqa: PLC0415
    from otlp_failover.signals import Signal  # noqa: PLC0415

    backup = Runtime.build().backup
    assert backup is not None
    signal = Signal(signal_name)
    done: list[dict[str, Any]] = []
    line = _step("GetObject: the line as bytes", lambda: backup.lines(key)[0], done)
    document = _step("orjson.loads of the line (alone)", lambda: _loads_without_gc(line), done)
    del document
    gc.collect()
    message = _step(
        "decode_json: orjson + builders + message", lambda: decode_json(signal, line), done
    )

    def merge() -> Any:
        merged = signal.request_class()
        merged.MergeFrom(message)
        return merged

    merged = _step("MergeFrom into the batch's request", merge, done)
    raw = _step("SerializeToString", merged.SerializeToString, done)
    body = _step("gzip", lambda: gzip.compress(raw, compresslevel=GZIP_LEVEL, mtime=0), done)
    result = {"line_bytes": len(line), "protobuf_bytes": len(raw), "gzip_bytes": len(body)}
    Path(result_file).write_text(json.dumps({**result, "steps": done}))


def main() -> None:
    mode, *args = sys.argv[1:]
    modes: dict[str, Callable[..., None]] = {"worker": worker, "steps": steps}
    modes[mode](*args)


if __name__ == "__main__":
    main()
