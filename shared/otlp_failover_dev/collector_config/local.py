"""The local stack from a translation: its levels, its headers secrets created in the
emulator under the names the chain gives, its failover settings for the schedules."""

from __future__ import annotations

from typing import Any

from otlp_failover_dev.collector_config.translation import Translation
from otlp_failover_dev.local.stack import LocalStackConfig


def local_stack_config(translation: Translation, **values: Any) -> LocalStackConfig:
    """``values``: the other LocalStackConfig fields (ports, token, names)."""
    chain = translation.chain()
    return LocalStackConfig(
        failover_config=translation.failover_config,
        headers_secrets={secret.name: dict(secret.headers) for secret in translation.secrets},
        max_retries=chain.max_retries,
        retry_interval=chain.retry_interval,  # the probe's schedule
        retry_gap=chain.retry_gap,
        **values,
    )
