"""One cold ingest function handling one event, then its peak RSS. Run by ``bench.memory``.

    python -m bench.rss_child EVENT_JSON_FILE RESULT_JSON_FILE

Imports only what Lambda would: the handler module (cold start, environment from the
parent), then the event read and parsed from JSON as the runtime client does. The peak is
``VmHWM`` (see ``bench.child_process``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.child_process import run_cold


def main() -> None:
    event_file, result_file = sys.argv[1], sys.argv[2]
    run = run_cold("ingest", event_file, timeout=30)
    status = run.reply["statusCode"]
    result = {
        "status": status,
        "peak_kib": run.peak_kib,
        "cold_kib": run.cold_kib,
        "s": run.seconds,
    }
    Path(result_file).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
