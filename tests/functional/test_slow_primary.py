"""A primary that drips its answer, with the default export settings: each export costs
at most the export timeout plus the backup write, and the level moves after max_retries."""

from __future__ import annotations

import time

from otlp_failover.settings import environment as settings
from otlp_failover.settings.chain import (
    DEFAULT_EXPORT_TIMEOUT,
    DEFAULT_MAX_RETRIES,
    DEFAULT_RETRY_MAX_ELAPSED,
)
from otlp_failover.signals import Signal
from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.backend import OtlpBackend
from tests.functional.gateway import Gateway
from tests.functional.test_ingest import backup_lines, spans

# The backup write to moto, on a loaded machine: generous, and still far below what a
# drip holds an export without the deadline (until API Gateway's 30 s).
BACKUP_WRITE_ALLOWANCE = 3.0


def test_a_dripping_primary_costs_each_export_its_timeout_and_moves_the_level(
    chain_env: dict[str, str], backend: OtlpBackend, aws: AwsEmulator, backup_bucket: str
) -> None:
    defaults = {
        k: v
        for k, v in chain_env.items()
        if k not in (settings.EXPORT_TIMEOUT, settings.EXPORT_RETRY_BUDGET)
    }
    gateway = Gateway.build(defaults)
    backend.set_mode("drip", period=0.4)
    # One attempt (the retry budget is shorter than the timeout), then the backup.
    limit = max(DEFAULT_EXPORT_TIMEOUT, DEFAULT_RETRY_MAX_ELAPSED) + BACKUP_WRITE_ALLOWANCE
    for number in range(DEFAULT_MAX_RETRIES):
        started = time.monotonic()
        reply = gateway.send("/v1/traces", spans(name=f"drip{number}").SerializeToString())
        took = time.monotonic() - started
        assert reply.status == 200, reply.rpc_message()
        assert took <= limit, f"export {number} took {took:.1f}s (limit {limit}s)"
    assert gateway.runtime.store.read(Signal.TRACES).level == 1
    assert len(backup_lines(aws, backup_bucket, Signal.TRACES)) == DEFAULT_MAX_RETRIES
    started = time.monotonic()
    assert gateway.send("/v1/traces", spans(name="after").SerializeToString()).status == 200
    assert time.monotonic() - started < DEFAULT_EXPORT_TIMEOUT  # straight to the backup now
