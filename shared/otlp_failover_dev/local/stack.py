"""The local stack: AWS emulator, demo primary, the handlers' environment, the HTTP API.

Started in the order a deployment creates things: resources first, then the environment
the template gives the functions, then the handler (its cold start reads that
environment), then the API in front of it. Probe and drain register on the scheduler.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import secrets
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Self

import otlp_failover
from otlp_failover.runtime import Runtime
from otlp_failover.settings import chain
from otlp_failover.settings import environment as settings
from otlp_failover.signals import Signal
from otlp_failover_dev.commands.target import LocalTarget, forget_local
from otlp_failover_dev.local import prometheus
from otlp_failover_dev.local.apigw import (
    INTEGRATION_TIMEOUT,
    Handler,
    HttpApiEmulator,
    LocalRequest,
    LocalResponse,
)
from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.backend import OtlpBackend
from otlp_failover_dev.local.operations import LocalOperations
from otlp_failover_dev.local.template import Template

log = logging.getLogger(__name__)

# Powertools' own variable (settings names only the gateway's); the template sets it too.
POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"


def repo_root() -> Path:
    """The checkout this package runs from (an editable install: shared/otlp_failover)."""
    return Path(otlp_failover.__file__).resolve().parents[2]


@dataclass(frozen=True)
class LocalStackConfig:
    port: int = 4318
    aws_port: int = 4566
    host: str = "127.0.0.1"
    primary: str | None = None  # None: start the demo primary
    secondary: str | None = None
    # Each backend's own headers, kept in a secret of the emulator as a deployment keeps
    # them; the demo primary, when it runs, demands the primary's.
    primary_headers: Mapping[str, str] = field(default_factory=dict)
    secondary_headers: Mapping[str, str] = field(default_factory=dict)
    # A whole chain in FAILOVER_CONFIG's form (`local --collector-config`) instead of the
    # primary and secondary: its s3 level without a bucket is this stack's bucket, and the
    # headers secrets its exporters name are created from ``headers_secrets`` (by name).
    failover_config: Mapping[str, Any] | None = None
    headers_secrets: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    max_retries: int = chain.DEFAULT_MAX_RETRIES
    retry_interval: float = chain.DEFAULT_RETRY_INTERVAL
    retry_gap: float = chain.DEFAULT_RETRY_GAP
    timeout: float = INTEGRATION_TIMEOUT
    functions_dir: Path | None = None  # default: <repo>/functions
    template: Path | None = None  # default: <repo>/template.yaml
    table_name: str = "otlp-failover-state"
    bucket_name: str = "otlp-failover-backup"
    token_secret_name: str = "otlp-failover/ingest-token"  # noqa: S105 - a name, not a value
    primary_headers_secret_name: str = "otlp-failover/primary-headers"  # noqa: S105 - a name
    secondary_headers_secret_name: str = "otlp-failover/secondary-headers"  # noqa: S105
    service_name: str = "otlp-failover"
    metrics_namespace: str = settings.DEFAULT_METRICS_NAMESPACE
    drain_interval: float = 10.0  # the drain's schedule; the probe also starts it on recovery
    operations: bool = True  # run the probe and the drain on their schedules
    publish: bool = False  # leave a file so `otlp-failover status`/`drain` find this stack
    # Set last, over the template's variables: e.g. a fault proxy's AWS_ENDPOINT_URL_S3.
    extra_environment: Mapping[str, str | None] = field(default_factory=dict)


class Scheduler:
    """Runs each registered ``fn()`` every ``interval`` seconds, each on its own thread, so
    a long drain never delays the probe. Errors are logged; the schedule goes on."""

    def __init__(self) -> None:
        self._jobs: list[tuple[str, float, Callable[[], object]]] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._running = False

    def every(self, interval: float, fn: Callable[[], object], name: str) -> None:
        if interval <= 0:
            raise ValueError(f"{name}: the interval must be > 0")
        self._jobs.append((name, interval, fn))
        if self._running:
            self._spawn(name, interval, fn)

    def start(self) -> None:
        self._stop.clear()
        self._running = True
        for job in self._jobs:
            self._spawn(*job)

    def stop(self) -> None:
        """Waits for a job that is running to finish: a drain is not cut mid-object."""
        self._stop.set()
        self._running = False
        for thread in self._threads:
            thread.join()
        self._threads = []

    def _spawn(self, name: str, interval: float, fn: Callable[[], object]) -> None:
        thread = threading.Thread(
            target=self._loop, args=(name, interval, fn), name=f"schedule-{name}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _loop(self, name: str, interval: float, fn: Callable[[], object]) -> None:
        while not self._stop.wait(interval):
            try:
                fn()
            except Exception:
                log.exception("scheduled %s failed", name)


class Environment:
    """Sets variables and puts back what was there before; ``None`` removes one."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def set(self, values: Mapping[str, str | None]) -> None:
        for name, value in values.items():
            self._saved.setdefault(name, os.environ.get(name))
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def restore(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved = {}


def _json_or_none(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value)


def load_handler(path: Path, attribute: str = "lambda_handler") -> Handler:
    """The handler in ``path`` (a function's app.py), imported as Lambda does at cold start."""
    handler: Handler = getattr(load_module(path), attribute)
    return handler


def load_module(path: Path) -> ModuleType:
    """Import a function's app.py by path, under a name of its own."""
    name = f"otlp_failover_local_{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load a handler from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up there
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


class LocalStack:
    """``handler_factory`` stands in for loading functions/ingest/app.py (tests); like that
    cold start it is called once the environment is set."""

    def __init__(
        self,
        config: LocalStackConfig | None = None,
        handler_factory: Callable[[], Handler] | None = None,
    ) -> None:
        self.config = config or LocalStackConfig()
        self.scheduler = Scheduler()
        self.aws: AwsEmulator | None = None
        self.primary: OtlpBackend | None = None  # the demo primary, when it runs
        self.api: HttpApiEmulator | None = None
        self.token_secret_arn = ""
        # "primary", "secondary" or a name of config.headers_secrets -> the secret's ARN
        self.headers_secret_arns: dict[str, str] = {}
        self.operations: LocalOperations | None = None
        self._ingest_module: ModuleType | None = None
        self._published: LocalTarget | None = None
        self._handler_factory = handler_factory
        self._env = Environment()

    @property
    def api_url(self) -> str:
        return self.api.url if self.api else f"http://{self.config.host}:{self.config.port}"

    @property
    def primary_url(self) -> str:
        return self.config.primary or (self.primary.url if self.primary else "")

    def chain_config(self) -> chain.FailoverConfig | None:
        """The chain ``config.failover_config`` gives, as the functions read it."""
        if self.config.failover_config is None:
            return None
        environment = {
            settings.FAILOVER_CONFIG: json.dumps(self.config.failover_config),
            settings.BACKUP_BUCKET: self.config.bucket_name,
        }
        return settings.failover_config(environment)

    @property
    def functions_dir(self) -> Path:
        return self.config.functions_dir or repo_root() / "functions"

    def start(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        config = self.config
        template = Template.load(config.template or repo_root() / "template.yaml")
        self.aws = AwsEmulator(config.host, config.aws_port, template=template).start()
        self._env.set(self.aws.environment())
        self.aws.create_state_table(config.table_name)
        self.aws.create_backup_bucket(config.bucket_name)
        self.token_secret_arn = self.aws.create_token_secret(
            config.token_secret_name, [config.token]
        )
        for backend, headers, name in (
            ("primary", config.primary_headers, config.primary_headers_secret_name),
            ("secondary", config.secondary_headers, config.secondary_headers_secret_name),
        ):
            if headers:
                self.headers_secret_arns[backend] = self.aws.create_headers_secret(name, headers)
        for name, headers in config.headers_secrets.items():
            self.headers_secret_arns[name] = self.aws.create_headers_secret(name, headers)
        if config.primary is None and config.failover_config is None:
            self.primary = OtlpBackend(config.host).start()
            self.primary.require_headers(config.primary_headers)
        self._env.set(self.handler_environment())
        if self._handler_factory is not None:
            handler = self._handler_factory()
        else:
            self._ingest_module = load_module(self.functions_dir / "ingest" / "app.py")
            handler = self._ingest_module.lambda_handler
        self.api = HttpApiEmulator(
            handler, host=config.host, port=config.port, timeout=config.timeout
        )
        self.api.add_route("/metrics", self._metrics)
        if config.operations:
            self.operations = LocalOperations(Runtime.build())
            self.scheduler.every(config.retry_interval, self.operations.probe, "probe")
            self.scheduler.every(config.drain_interval, self.operations.drain, "drain")
        self.api.start()
        self.scheduler.start()
        if config.publish:
            environment = {**self.aws.environment(), **self.handler_environment()}
            self._published = LocalTarget(
                self.api_url,
                config.token,
                {k: v for k, v in environment.items() if v is not None},
            )
            self._published.save()

    def _metrics(self, _request: LocalRequest) -> LocalResponse:
        """Levels from the state table, counters from this process's gateway and operations."""
        runtime = self.operations.runtime if self.operations else Runtime.build()
        states = {signal.value: runtime.store.read(signal) for signal in Signal}
        totals = [runtime.telemetry.totals()]
        ingest = getattr(self._ingest_module, "runtime", None)
        if isinstance(ingest, Runtime):
            totals.append(ingest.telemetry.totals())
        text = prometheus.render(
            {name: state.level for name, state in states.items()},
            {name: state.failures for name, state in states.items()},
            totals,
        )
        return LocalResponse(200, text.encode(), "text/plain; version=0.0.4; charset=utf-8")

    def handler_environment(self) -> dict[str, str | None]:
        """What template.yaml gives the functions, with this stack's names and flags."""
        config = self.config
        return {
            settings.STATE_TABLE: config.table_name,
            settings.BACKUP_BUCKET: config.bucket_name,
            settings.PRIMARY_ENDPOINT: self.primary_url,
            settings.SECONDARY_ENDPOINT: config.secondary,
            # None unless a flag gave headers: one left in the shell would not be this stack's.
            settings.PRIMARY_HEADERS_SECRET: self.headers_secret_arns.get("primary"),
            settings.SECONDARY_HEADERS_SECRET: self.headers_secret_arns.get("secondary"),
            settings.MAX_RETRIES: str(config.max_retries),
            settings.RETRY_INTERVAL: f"{config.retry_interval}s",
            settings.RETRY_GAP: f"{config.retry_gap}s",
            settings.INGEST_TOKEN_SECRET: self.token_secret_arn,
            settings.METRICS_NAMESPACE: config.metrics_namespace,
            # EMF lines would flood the console; /metrics serves the same figures.
            "POWERTOOLS_METRICS_DISABLED": "true",
            POWERTOOLS_SERVICE_NAME: config.service_name,
            # Left from the user's shell it would change the chain behind the flags' back.
            settings.FAILOVER_CONFIG: _json_or_none(config.failover_config),
            **config.extra_environment,
        }

    def stop(self) -> None:
        if self._published is not None:
            forget_local(self._published)
            self._published = None
        self.scheduler.stop()
        if self.operations is not None:
            self.operations.join()
        for part in (self.api, self.primary, self.aws):
            if part is not None:
                part.stop()
        self.api = self.primary = self.aws = None
        self._env.restore()

    def __enter__(self) -> Self:
        return self if self.api is not None else self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
