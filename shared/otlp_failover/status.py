"""The /status document: level and failures per signal, and the backup's backlog."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from otlp_failover.backlog import measure_backlog
from otlp_failover.errors import StateStoreError
from otlp_failover.signals import Signal

if TYPE_CHECKING:
    from otlp_failover.runtime import Runtime


def status_document(runtime: Runtime, now: datetime) -> dict[str, Any]:
    signals: dict[str, Any] = {}
    for signal in Signal:
        try:
            state = runtime.store.read(signal)
        except StateStoreError as exc:
            signals[signal.value] = {"level": None, "failures": None, "error": str(exc)}
            continue
        signals[signal.value] = {
            "level": state.level,
            "level_name": runtime.levels[min(state.level, len(runtime.levels) - 1)].name,
            "failures": state.failures,
            "changed_at": _iso(state.changed_at),
        }
    backlog: dict[str, Any] = {}
    backup = runtime.backup
    for signal in Signal:
        if backup is None:
            backlog[signal.value] = {"objects": 0, "bytes": 0, "oldest_age_seconds": None}
            continue
        bucket, layout = backup
        try:
            measured = measure_backlog(runtime.s3, bucket, layout, signal)
        except (BotoCoreError, ClientError) as exc:
            backlog[signal.value] = {"objects": None, "error": type(exc).__name__}
            continue
        backlog[signal.value] = measured.as_dict(now)
    return {
        "signals": signals,
        "backlog": backlog,
        "levels": [{"level": level.index, "name": level.name} for level in runtime.levels],
        "max_retries": runtime.settings.failover.max_retries,
        "time": now.isoformat(),
    }


def _iso(epoch: float) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat() if epoch else None
