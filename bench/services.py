"""What the measurements run against: moto and a fast sink in child processes, and the
ingest function loaded from ``functions/ingest/app.py`` exactly as Lambda loads it.

The emulator and the sink run in processes of their own, so neither takes the GIL or the
memory of the process being measured.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import requests

from otlp_failover.runtime import Runtime
from otlp_failover.settings import environment as settings
from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.template import Template

REPO = Path(__file__).resolve().parents[1]
INGEST_APP = REPO / "functions" / "ingest" / "app.py"
TOKEN = "bench-token"  # noqa: S105 - a throwaway token for the local emulator
_app_numbers = itertools.count()


@dataclass
class Child:
    """A helper process that printed ``port <n>`` and serves until its stdin closes."""

    process: subprocess.Popen[str]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(timeout=10)


def start_child(module: str, *args: str) -> Child:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().split()
    if len(line) != 2 or line[0] != "port":
        process.kill()
        raise RuntimeError(f"{module} did not start (said {line!r})")
    return Child(process, int(line[1]))


def refusing_url() -> str:
    """A local URL where nothing listens: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class Services:
    """moto and the sink, each in its own process; fresh AWS resources on demand."""

    def __init__(self) -> None:
        self._aws_child = start_child("bench.aws_server")
        try:
            self.sink = start_child("bench.sink")
        except Exception:
            self._aws_child.stop()
            raise
        template = Template.load(REPO / "template.yaml")
        # Not started here: it only addresses the server running in the child process.
        self.aws = AwsEmulator(port=self._aws_child.port, template=template)
        os.environ.update(self.aws.environment())  # boto3 in the ingest function reads these
        self.token_secret = self.aws.create_token_secret(f"token-{_unique()}", [TOKEN])

    def close(self) -> None:
        self.sink.stop()
        self._aws_child.stop()

    @property
    def aws_pid(self) -> int:
        """moto's process: the drain benchmarks count its CPU time apart."""
        return self._aws_child.process.pid

    def sink_stats(self) -> dict[str, int]:
        stats: dict[str, int] = requests.get(self.sink.url + "/stats", timeout=10).json()
        return stats

    def environment(self, primary: str) -> dict[str, str]:
        """The ingest function's environment as template.yaml sets it, with fresh resources."""
        return {
            **self.aws.environment(),
            "POWERTOOLS_SERVICE_NAME": "otlp-failover",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            settings.METRICS_NAMESPACE: "OtlpFailover",
            settings.STATE_TABLE: self.aws.create_state_table(f"state-{_unique()}"),
            settings.BACKUP_BUCKET: self.aws.create_backup_bucket(f"backup-{_unique()}"),
            settings.BACKUP_PREFIX: "backup",
            settings.PRIMARY_ENDPOINT: primary,
            settings.INGEST_TOKEN_SECRET: self.token_secret,
            settings.EXPORT_TIMEOUT: "5s",
            settings.MAX_RETRIES: "3",
            settings.RETRY_INTERVAL: "30s",
            settings.RETRY_GAP: "5s",
        }


def _unique() -> str:
    return uuid.uuid4().hex[:12]


def load_ingest_app(env: dict[str, str]) -> ModuleType:
    """A fresh copy of ``functions/ingest/app.py``, cold-started with ``env`` in os.environ."""
    os.environ.update(env)
    name = f"bench_ingest_app_{next(_app_numbers)}"
    spec = importlib.util.spec_from_file_location(name, INGEST_APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def runtime_of(app: ModuleType) -> Runtime:
    """The Runtime the function built at cold start, wherever the module keeps it."""
    for value in vars(app).values():
        if isinstance(value, Runtime):
            return value
        found = getattr(value, "runtime", None)
        if isinstance(found, Runtime):
            return found
    raise LookupError(f"{INGEST_APP} keeps no Runtime at module level")


def aws_clients(runtime: Runtime) -> list[Any]:
    """Every botocore client the runtime holds, one level inside its parts too."""
    from botocore.client import BaseClient  # noqa: PLC0415 - only the bench needs it here

    found: dict[int, Any] = {}
    parts = [runtime, *vars(runtime).values()]
    for part in parts:
        for value in [part, *getattr(part, "__dict__", {}).values()]:
            if isinstance(value, BaseClient):
                found.setdefault(id(value.meta.events), value)
    return list(found.values())
