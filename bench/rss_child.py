"""One cold ingest function handling one event, then its peak RSS. Run by ``bench.memory``.

    python -m bench.rss_child EVENT_JSON_FILE RESULT_JSON_FILE

Imports only what Lambda would: the handler module (cold start, environment from the
parent), then the event read and parsed from JSON as the runtime client does.

The peak is the kernel's high-water mark of this process's own memory (``VmHWM``), not
``ru_maxrss``: Linux carries the parent's peak over into a child's ``ru_maxrss`` at exec,
so the bench's own payloads would be counted.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

INGEST_APP = Path(__file__).resolve().parents[1] / "functions" / "ingest" / "app.py"


def _status_kib(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (the peak) of this process, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(f"/proc/self/status has no {field}")


def main() -> None:
    event_file, result_file = sys.argv[1], sys.argv[2]
    spec = importlib.util.spec_from_file_location("app", INGEST_APP)
    assert spec is not None and spec.loader is not None
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    from otlp_failover_dev.local._payload import LambdaContext  # noqa: PLC0415 - stdlib only

    cold = _status_kib("VmRSS")
    event = json.loads(Path(event_file).read_bytes())
    started = time.perf_counter()
    reply = app.lambda_handler(event, LambdaContext("ingest", "rss", time.monotonic() + 30))
    elapsed = time.perf_counter() - started
    peak = _status_kib("VmHWM")
    result = {"status": reply["statusCode"], "peak_kib": peak, "cold_kib": cold, "s": elapsed}
    Path(result_file).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
