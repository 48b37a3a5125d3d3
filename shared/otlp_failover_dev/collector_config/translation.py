"""What a collector configuration becomes: the gateway's chain, the headers secrets it
names, and notes on what was left behind. Header values are held, never shown: they
stay out of ``repr`` and out of every rendering but ``secret_string``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from otlp_failover.settings.chain import FailoverConfig
from otlp_failover.settings.environment import BACKUP_BUCKET, FAILOVER_CONFIG, failover_config


@dataclass(frozen=True)
class HeaderSecret:
    """One exporter's headers, kept in one Secrets Manager secret as a JSON object."""

    exporter: str  # otlphttp/primary
    name: str  # the secret's name: otlp-failover/primary-headers
    headers: Mapping[str, str] = field(repr=False)  # name -> value: credentials
    origins: Mapping[str, str] = field(default_factory=dict)  # name -> "${API_TOKEN}"

    @property
    def header_names(self) -> list[str]:
        return sorted(self.headers)

    def describe(self) -> str:
        """``x-api-token (from ${API_TOKEN})``: names and where each value comes from."""
        return ", ".join(
            f"{name} ({self.origins[name]})" if name in self.origins else name
            for name in self.header_names
        )

    def secret_string(self) -> str:
        """The secret's value, for Secrets Manager only."""
        return json.dumps(dict(self.headers), sort_keys=True)


@dataclass(frozen=True)
class Level:
    exporters: tuple[str, ...]  # the gateway's exporter names: otlphttp/primary, s3/backup
    pipelines: tuple[str, ...]  # the collector pipelines it came from: traces/primary


@dataclass(frozen=True)
class Translation:
    source: str  # the file, for the commands printed with it
    failover_config: Mapping[str, Any]  # FAILOVER_CONFIG; its s3 level is the stack's bucket
    levels: tuple[Level, ...]
    secrets: tuple[HeaderSecret, ...] = ()
    notes: tuple[str, ...] = ()

    def failover_json(self, indent: int | None = None) -> str:
        separators = (",", ": ") if indent else (",", ":")
        return json.dumps(self.failover_config, indent=indent, separators=separators)

    def chain(self, bucket: str = "stack-backup-bucket") -> FailoverConfig:
        """FAILOVER_CONFIG read as the functions read it at cold start, ``bucket`` as the
        stack's backup bucket: the gateway's own validation."""
        return failover_config({FAILOVER_CONFIG: self.failover_json(), BACKUP_BUCKET: bucket})

    def secret(self, exporter: str) -> HeaderSecret | None:
        return next((s for s in self.secrets if s.exporter == exporter), None)
