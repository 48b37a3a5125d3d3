"""Builds the long-lived parts once per cold start: clients, exporters, levels, state store.

Handlers receive a ``Runtime``; nothing below builds a client per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import urllib3
from botocore.config import Config

from otlp_failover.backup_layout import BackupLayout
from otlp_failover.config import OtlpHttpConfig, S3Config
from otlp_failover.exporters import Exporter
from otlp_failover.exporters.otlphttp import OtlpHttpExporter, new_pool
from otlp_failover.exporters.s3 import S3BackupExporter
from otlp_failover.policy import Policy
from otlp_failover.router import Level
from otlp_failover.secrets import SecretReader
from otlp_failover.settings import Settings
from otlp_failover.state_store import DynamoDBStateStore
from otlp_failover.telemetry import Telemetry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client

# Short timeouts and few retries: a slow AWS call must not use up the client's deadline.
_AWS_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"max_attempts": 2, "mode": "standard"},
    max_pool_connections=16,
)


@dataclass
class Runtime:
    settings: Settings
    store: DynamoDBStateStore
    secrets: SecretReader
    dynamodb: DynamoDBClient
    s3: S3Client
    http: urllib3.PoolManager
    levels: tuple[Level, ...]
    policy: Policy
    telemetry: Telemetry

    @property
    def backup(self) -> tuple[str, BackupLayout] | None:
        """(bucket, layout) of the S3 backup level, if the chain has one."""
        config = self.settings.failover.backup
        return (config.bucket, BackupLayout(config.prefix)) if config else None

    @classmethod
    def build(cls, settings: Settings | None = None, session: Any = None) -> Runtime:
        settings = settings or Settings.from_environment()
        aws = session or boto3.session.Session()
        # A short TTL: a rotated ingest token is honoured within a minute, per instance.
        secrets = SecretReader(aws.client("secretsmanager", config=_AWS_CONFIG), ttl=60.0)
        s3 = aws.client("s3", config=_AWS_CONFIG)
        dynamodb = aws.client("dynamodb", config=_AWS_CONFIG)
        http = new_pool()
        levels = tuple(
            Level(index, tuple(_exporter(config, http, s3, secrets) for config in level))
            for index, level in enumerate(settings.failover.priority_levels)
        )
        return cls(
            settings=settings,
            store=DynamoDBStateStore(
                dynamodb, settings.state_table, cache_ttl=settings.state_cache_ttl
            ),
            secrets=secrets,
            dynamodb=dynamodb,
            s3=s3,
            http=http,
            levels=levels,
            policy=Policy(settings.failover.max_retries, settings.failover.level_count),
            telemetry=Telemetry(settings.metrics_namespace),
        )


def _exporter(
    config: OtlpHttpConfig | S3Config,
    http: urllib3.PoolManager,
    s3: S3Client,
    secrets: SecretReader,
) -> Exporter:
    if isinstance(config, S3Config):
        return S3BackupExporter(config, s3)
    headers = secrets.headers(config.headers_secret) if config.headers_secret else {}
    return OtlpHttpExporter(config, http, headers)
