"""One cold ingest function handling one event, then its peak RSS. Run by ``bench.memory``.

    python -m bench.rss_child EVENT_JSON_FILE RESULT_JSON_FILE

Imports only what Lambda would: the handler module (cold start, environment from the
parent), then the event read and parsed from JSON as the runtime client does.
"""

from __future__ import annotations

import importlib.util
import json
import resource
import sys
import time
from pathlib import Path

INGEST_APP = Path(__file__).resolve().parents[1] / "functions" / "ingest" / "app.py"


def _current_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    event_file, result_file = sys.argv[1], sys.argv[2]
    spec = importlib.util.spec_from_file_location("app", INGEST_APP)
    assert spec is not None and spec.loader is not None
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    from otlp_failover_dev.local._payload import LambdaContext  # noqa: PLC0415 - stdlib only

    cold = _current_rss_kib()
    event = json.loads(Path(event_file).read_bytes())
    started = time.perf_counter()
    reply = app.lambda_handler(event, LambdaContext("ingest", "rss", time.monotonic() + 30))
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    result = {"status": reply["statusCode"], "peak_kib": peak, "cold_kib": cold, "s": elapsed}
    Path(result_file).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
