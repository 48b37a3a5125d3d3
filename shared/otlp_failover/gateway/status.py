"""The /status document: level and failures per signal, and the backup's backlog.

Each backlog listing is capped (``backup/backlog.py``), so the page answers in seconds
however large the backlog; ``truncated`` then says the counts are lower bounds. Errors
show the store's error code only: AWS messages can name roles and ARNs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from otlp_failover.backup.reader import BackupReader
from otlp_failover.errors import BackupError, StateStoreError
from otlp_failover.failover.levels import Level
from otlp_failover.failover.ports import StateStore
from otlp_failover.signals import Signal


class StatusPage:
    def __init__(
        self,
        state: StateStore,
        levels: Sequence[Level],
        backup: BackupReader | None,
        max_retries: int,
    ) -> None:
        self._state = state
        self._levels = tuple(levels)
        self._backup = backup
        self._max_retries = max_retries

    def document(self, now: datetime) -> dict[str, Any]:
        return {
            "signals": {signal.value: self._signal(signal) for signal in Signal},
            "backlog": {signal.value: self._backlog(signal, now) for signal in Signal},
            "levels": [{"level": level.index, "name": level.name} for level in self._levels],
            "max_retries": self._max_retries,
            "time": now.isoformat(),
        }

    def _signal(self, signal: Signal) -> dict[str, Any]:
        try:
            state = self._state.read(signal)
        except StateStoreError as exc:
            return {"level": None, "failures": None, "error": exc.code}  # no ARNs in /status
        return {
            "level": state.level,
            "level_name": self._levels[min(state.level, len(self._levels) - 1)].name,
            "failures": state.failures,
            "changed_at": _iso(state.changed_at),
        }

    def _backlog(self, signal: Signal, now: datetime) -> dict[str, Any]:
        if self._backup is None:
            return {"objects": 0, "bytes": 0, "oldest_age_seconds": None}
        try:
            return self._backup.backlog(signal).as_dict(now)
        except BackupError as exc:
            return {"objects": None, "error": exc.code}  # the code only: no ARNs in /status


def _iso(epoch: float) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat() if epoch else None
