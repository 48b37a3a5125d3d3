"""One cold ingest function handling one event, then its peak RSS. Run by ``bench.memory``.

    python -m bench.rss_child EVENT_JSON_FILE RESULT_JSON_FILE

Imports only what Lambda would: the handler module (cold start, environment from the
parent), then the event read and parsed from JSON as the runtime client does. The peak is
``VmHWM`` (see ``bench.child_process``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bench.child_process import load_handler, status_kib


def main() -> None:
    event_file, result_file = sys.argv[1], sys.argv[2]
    app = load_handler("ingest")
    from otlp_failover_dev.local._payload import LambdaContext  # noqa: PLC0415 - stdlib only

    cold = status_kib("VmRSS")
    event = json.loads(Path(event_file).read_bytes())
    started = time.perf_counter()
    reply = app.lambda_handler(event, LambdaContext("ingest", "rss", time.monotonic() + 30))
    elapsed = time.perf_counter() - started
    peak = status_kib("VmHWM")
    result = {"status": reply["statusCode"], "peak_kib": peak, "cold_kib": cold, "s": elapsed}
    Path(result_file).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
