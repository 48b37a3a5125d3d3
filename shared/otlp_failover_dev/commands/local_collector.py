"""``otlp-failover local --collector-config FILE``: the local stack's configuration from a
collector's, and the banner's lines for its levels (header names, never values)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from otlp_failover.errors import FailoverError
from otlp_failover.settings.chain import FailoverConfig, OtlpHttpConfig, S3Config
from otlp_failover_dev.collector_config import CollectorConfigError, translate

if TYPE_CHECKING:
    from otlp_failover_dev.local.stack import LocalStack, LocalStackConfig

# Flags whose settings the file gives: given too, one would silently lose.
_REPLACED_FLAGS = (
    ("primary", "--primary"),
    ("secondary", "--secondary"),
    ("primary_header", "--primary-header"),
    ("secondary_header", "--secondary-header"),
    ("max_retries", "--max-retries"),
    ("retry_interval", "--retry-interval"),
    ("retry_gap", "--retry-gap"),
)


def collector_stack_config(args: argparse.Namespace, **values: Any) -> LocalStackConfig:
    """``values``: the stack's other settings (ports, token, schedules)."""
    from otlp_failover_dev.collector_config.local import local_stack_config  # noqa: PLC0415

    given = [flag for name, flag in _REPLACED_FLAGS if getattr(args, name) not in (None, [])]
    if given:
        raise FailoverError(
            f"--collector-config gives the levels, their headers and the failover settings; "
            f"drop {', '.join(given)}"
        )
    path: Path = args.collector_config
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FailoverError(
            f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    try:
        translation = translate(text, os.environ, source=str(path))
    except CollectorConfigError as exc:
        raise FailoverError(f"{path}: {exc}") from None
    return local_stack_config(translation, **values)


def level_lines(stack: LocalStack, chain: FailoverConfig) -> list[str]:
    """``levels  0  otlphttp/primary  https://...`` rows, then each exporter's headers."""
    exporters = [e for level in chain.priority_levels for e in level]
    width = max(len(e.name) for e in exporters)
    lines: list[str] = []
    for index, level in enumerate(chain.priority_levels):
        for position, exporter in enumerate(level):
            label = "" if lines else "levels"
            number = str(index) if position == 0 else ""
            lines.append(f"  {label:<14} {number:>1}  {exporter.name:<{width}}  {_where(exporter)}")
    for exporter in exporters:
        if isinstance(exporter, OtlpHttpConfig) and exporter.headers_secret:
            secret = exporter.headers_secret
            names = ", ".join(sorted(stack.config.headers_secrets.get(secret, {})))
            arn = stack.headers_secret_arns.get(secret, secret)
            lines.append(f"  headers        {exporter.name}: {names}  (secret {arn})")
    return lines


def _where(exporter: OtlpHttpConfig | S3Config) -> str:
    if isinstance(exporter, S3Config):
        return f"s3://{exporter.bucket}/{exporter.prefix}"
    return exporter.endpoint or exporter.url("/v1/traces")
