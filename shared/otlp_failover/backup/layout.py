"""Where backup objects live in the bucket; one place for the key layout.

    <prefix>/<signal>/YYYY/MM/DD/HH/<YYYYmmddTHHMMSS.ffffffZ>-<id>.jsonl   waiting to be drained
    processed/<prefix>/<signal>/...                                      drained (lifecycle expires)
    deadletter/<prefix>/<signal>/...                                     lines a backend refused

Keys sort by time, so listing a signal's prefix yields its backlog oldest first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from otlp_failover.signals import Signal

PROCESSED = "processed"
DEADLETTER = "deadletter"


@dataclass(frozen=True)
class BackupLayout:
    prefix: str = "backup"

    def signal_prefix(self, signal: Signal) -> str:
        return f"{self.prefix}/{signal.value}/"

    def new_key(self, signal: Signal, now: datetime, unique: str | None = None) -> str:
        moment = now.astimezone(UTC)
        stamp = moment.strftime("%Y%m%dT%H%M%S.%fZ")
        return (
            f"{self.signal_prefix(signal)}{moment:%Y/%m/%d/%H}/"
            f"{stamp}-{unique or uuid.uuid4().hex}.jsonl"
        )

    def processed_key(self, key: str) -> str:
        return f"{PROCESSED}/{key}"

    def deadletter_key(self, key: str) -> str:
        return f"{DEADLETTER}/{key}"

    @staticmethod
    def written_at(key: str) -> datetime | None:
        """The time encoded in a backup key's file name, if it has one."""
        name = key.rsplit("/", 1)[-1]
        try:
            return datetime.strptime(name.split("-", 1)[0], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
        except ValueError:
            return None
