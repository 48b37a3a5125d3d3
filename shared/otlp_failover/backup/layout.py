"""Where backup objects live in the bucket; one place for the key layout.

    <prefix>/<signal>/<shard>/YYYY/MM/DD/HH/<YYYYmmddTHHMMSS.ffffffZ>-<id>.jsonl   waiting
    <prefix>/<signal>/YYYY/MM/DD/HH/...        waiting, written before shards (still drained)
    processed/<prefix>/<signal>/...            drained (lifecycle expires)
    deadletter/<prefix>/<signal>/...           lines a backend refused

Each write picks a shard at random, so the writes of one signal spread over ``shards`` key
ranges instead of one time-ordered range (S3 serves about 3,500 PUT/s per partitioned
prefix), and the drain replays the shards in parallel. Keys sort by time within a shard.
Shard names (``s00``...) never start with a digit, so the older layout's years (``20..``)
list apart from them. The drain finds the shards by listing the folders under a signal,
not from ``shards``: a lowered shard count leaves nothing behind in the shards it dropped.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from otlp_failover.signals import Signal

PROCESSED = "processed"
DEADLETTER = "deadletter"
LEGACY = "legacy"  # the pseudo-shard of keys written before shards: <prefix>/<signal>/20YY/...
_LEGACY_LISTING = "20"  # the years 2000-2099, the only ones that layout ever wrote
_SHARD_FOLDER = re.compile(r"s\d{2,}")
_LEGACY_FOLDER = re.compile(r"20\d\d")


@dataclass(frozen=True)
class BackupLayout:
    prefix: str = "backup"
    shards: int = 8

    def signal_prefix(self, signal: Signal) -> str:
        """Every waiting object of the signal, whatever its shard."""
        return f"{self.prefix}/{signal.value}/"

    def shard_names(self) -> tuple[str, ...]:
        """The shards new writes go to."""
        return tuple(_shard_name(n) for n in range(self.shards))

    @staticmethod
    def shards_in(folders: Iterable[str]) -> list[str]:
        """The shards that the folders under a signal's prefix stand for, whatever shard
        count wrote them, then ``LEGACY`` when a year folder of the older layout is there.
        Anything else under the prefix was not written by the gateway and is left alone."""
        names = set(folders)
        shards = sorted(name for name in names if _SHARD_FOLDER.fullmatch(name))
        if any(_LEGACY_FOLDER.fullmatch(name) for name in names):
            shards.append(LEGACY)
        return shards

    def shard_prefix(self, signal: Signal, shard: str) -> str:
        if shard == LEGACY:
            return f"{self.signal_prefix(signal)}{_LEGACY_LISTING}"
        return f"{self.signal_prefix(signal)}{shard}/"

    def new_key(
        self, signal: Signal, now: datetime, unique: str | None = None, shard: str | None = None
    ) -> str:
        moment = now.astimezone(UTC)
        stamp = moment.strftime("%Y%m%dT%H%M%S.%fZ")
        shard = shard or _shard_name(random.randrange(self.shards))  # noqa: S311 - spreading, not secrecy
        return (
            f"{self.shard_prefix(signal, shard)}{moment:%Y/%m/%d/%H}/"
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


def _shard_name(number: int) -> str:
    return f"s{number:02d}"
