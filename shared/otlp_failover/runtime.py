"""The composition root: builds each function's object graph from ``Settings``, once per
cold start. Nothing below it builds a client or reads the environment.

    Runtime.build(settings)   clients, secrets, state store, levels, backup, metrics
      .ingest_gateway()       the ingest function: router, auth, /status
      .prober(start_drain)    the probe function
      .drain_job()            the drain function (and ``otlp-failover drain``)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import urllib3

from otlp_failover.aws.clients import AwsClients
from otlp_failover.aws.dynamodb_drain import DynamoDBDrainStore
from otlp_failover.aws.dynamodb_state import DynamoDBStateStore
from otlp_failover.aws.s3 import S3ObjectStore
from otlp_failover.aws.secrets import SecretReader
from otlp_failover.backup.layout import BackupLayout
from otlp_failover.backup.reader import BackupReader
from otlp_failover.backup.writer import BackupWriter
from otlp_failover.drain.job import DrainJob
from otlp_failover.drain.ports import CheckpointStore, DrainLeases, DrainUnit
from otlp_failover.exporters.otlphttp import OtlpHttpExporter, new_pool
from otlp_failover.failover.cached_store import CachedStateStore
from otlp_failover.failover.health import LevelHealth
from otlp_failover.failover.levels import Level
from otlp_failover.failover.ports import Exporter, StateStore
from otlp_failover.failover.router import FailoverRouter
from otlp_failover.failover.rules import Rules
from otlp_failover.gateway.auth import Authenticator, IamAuthenticator, TokenAuthenticator
from otlp_failover.gateway.ingest import BodyLimits, IngestGateway
from otlp_failover.gateway.status import StatusPage
from otlp_failover.probe.prober import Prober
from otlp_failover.settings.chain import ExporterConfig, S3Config
from otlp_failover.settings.environment import DrainLimits, Settings
from otlp_failover.signals import Signal
from otlp_failover.telemetry import Telemetry


@dataclass
class Runtime:
    settings: Settings
    aws: AwsClients
    secrets: SecretReader  # the ingest tokens
    store: StateStore  # the shared state, uncached: the probe, the drain and /status read it
    http: urllib3.PoolManager
    levels: tuple[Level, ...]
    backup: BackupReader | None  # the S3 level's bucket, if the chain ends in one
    telemetry: Telemetry

    @classmethod
    def build(cls, settings: Settings | None = None, session: Any = None) -> Runtime:
        settings = settings or Settings.from_environment()
        aws = AwsClients.build(session)
        secrets = SecretReader(aws.secretsmanager, ttl=settings.token_cache_ttl)
        # Backend headers: read at a level's first export, not here, so a secret that cannot
        # be read fails only its level (the S3 level needs none) and never the cold start.
        headers = SecretReader(aws.secretsmanager, ttl=settings.headers_cache_ttl)
        http = new_pool()
        # One site (bucket + key layout) per s3 exporter: its writer and, for the chain's
        # backup level, the reader of the probe, the drain and /status.
        sites = {
            config.name: BackupReader(
                S3ObjectStore(aws.s3, config.bucket), BackupLayout(config.prefix, config.shards)
            )
            for level in settings.failover.priority_levels
            for config in level
            if isinstance(config, S3Config)
        }
        backup_config = settings.failover.backup
        levels = tuple(
            Level(index, tuple(_exporter(config, http, sites, headers) for config in level))
            for index, level in enumerate(settings.failover.priority_levels)
        )
        return cls(
            settings=settings,
            aws=aws,
            secrets=secrets,
            store=DynamoDBStateStore(aws.dynamodb, settings.state_table),
            http=http,
            levels=levels,
            backup=sites[backup_config.name] if backup_config else None,
            telemetry=Telemetry(settings.metrics_namespace, log_level=settings.log_level),
        )

    @property
    def rules(self) -> Rules:
        failover = self.settings.failover
        return Rules(failover.max_retries, failover.level_count, failover.probe_successes)

    def ingest_gateway(self, init_started: float | None = None) -> IngestGateway:
        """``init_started``: when the cold start began (monotonic), so that the first
        request's deadline counts it as API Gateway does."""
        settings = self.settings
        state = CachedStateStore(self.store, ttl=settings.state_cache_ttl)
        router = FailoverRouter(
            self.levels, state, LevelHealth(state, self.rules, self.telemetry), self.telemetry
        )
        status = StatusPage(self.store, self.levels, self.backup, settings.failover.max_retries)
        limits = BodyLimits(settings.max_body_bytes, settings.max_decompressed_bytes)
        return IngestGateway(
            router, self._authenticator(), status, limits, self.telemetry, init_started=init_started
        )

    def prober(
        self,
        start_drain: Callable[[Signal], None],
        *,
        levels: Sequence[Level] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Prober:
        """``levels`` replaces the chain's own (the chaos suite wraps them in faults)."""
        return Prober(
            config=self.settings.failover,
            levels=self.levels if levels is None else levels,
            health=LevelHealth(self.store, self.rules, self.telemetry),
            backup=self.backup,
            metrics=self.telemetry,
            start_drain=start_drain,
            clock=clock,
            wall_clock=wall_clock,
            sleep=sleep,
        )

    def drain_job(
        self,
        continue_later: Callable[[Sequence[DrainUnit]], bool] | None = None,
        *,
        leases: DrainLeases | None = None,
        checkpoints: CheckpointStore | None = None,
        levels: Sequence[Level] | None = None,
        limits: DrainLimits | None = None,
    ) -> DrainJob:
        """The drain as deployed; each keyword replaces one part (the chaos suite and the
        benchmarks pass fault wrappers or other limits)."""
        drain_store = DynamoDBDrainStore(self.aws.dynamodb, self.settings.state_table)
        return DrainJob(
            backup=self.backup,
            state=self.store,
            levels=self.levels if levels is None else levels,
            otlp_levels=self.settings.failover.otlp_levels,
            leases=leases or drain_store,
            checkpoints=checkpoints or drain_store,
            limits=limits or self.settings.drain,
            metrics=self.telemetry,
            continue_later=continue_later,
        )

    def _authenticator(self) -> Authenticator:
        secret = self.settings.ingest_token()
        if secret is None:
            return IamAuthenticator()
        return TokenAuthenticator(lambda: self.secrets.tokens(secret))


def _exporter(
    config: ExporterConfig,
    http: urllib3.PoolManager,
    sites: dict[str, BackupReader],
    headers: SecretReader,
) -> Exporter:
    if isinstance(config, S3Config):
        site = sites[config.name]
        return BackupWriter(config.name, site.store, site.layout)
    if config.headers_secret is None:
        return OtlpHttpExporter(config, http)
    return OtlpHttpExporter(config, http, headers.header_source(config.headers_secret))
