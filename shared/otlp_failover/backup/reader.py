"""Reading the backup back: each shard's backlog oldest first, its lines, deletes, set-aside
lines."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

from otlp_failover.backup.backlog import (
    MAX_COUNTED_OBJECTS,
    MAX_COUNTING_SECONDS,
    Backlog,
    measure_backlog,
)
from otlp_failover.backup.layout import BackupLayout
from otlp_failover.backup.ports import ObjectStore, StoredObject
from otlp_failover.signals import Signal

_UNSAFE_METADATA = re.compile(r"[^\x20-\x7e]")


class BackupReader:
    def __init__(self, store: ObjectStore, layout: BackupLayout) -> None:
        self.store = store
        self.layout = layout

    @property
    def bucket(self) -> str:
        return self.store.bucket

    def waiting_shards(self, signal: Signal) -> list[str]:
        """The signal's shards that hold a waiting object, in one LIST request."""
        return self.layout.shards_in(self.store.folders(self.layout.signal_prefix(signal)))

    def objects(self, signal: Signal, shard: str) -> Iterator[StoredObject]:
        """The shard's waiting objects, oldest first (keys sort by time within a shard)."""
        return self.store.list(self.layout.shard_prefix(signal, shard))

    def keys(self, signal: Signal) -> Iterator[str]:
        """The signal's waiting objects, every shard, each shard oldest first."""
        for shard in self.waiting_shards(signal):
            for entry in self.store.list(self.layout.shard_prefix(signal, shard)):
                yield entry.key

    def lines(self, key: str) -> list[bytes]:
        """The non-empty lines of one object (one OTLP/JSON export request each)."""
        body = self.store.get(key)
        if body.count(b"\n") <= 1 and not body.startswith(b"\n"):
            # One export per object, the usual case: no copy of a line that may be large.
            return [body] if body.strip() else []
        return [line for line in body.split(b"\n") if line.strip()]

    def delete(self, keys: list[str]) -> None:
        """Remove drained objects; bucket versioning keeps their last copy for a while."""
        self.store.delete(keys)

    def dead_letter(self, key: str, line_number: int, line: bytes, reason: str) -> str:
        """Keep a line the backend refused as bad data, with the reason, out of the backlog."""
        stem = key.removesuffix(".jsonl")
        target = self.layout.deadletter_key(f"{stem}-line{line_number}.jsonl")
        metadata = {"reason": _UNSAFE_METADATA.sub("?", reason)[:1024], "source": key}
        self.store.put(target, line + b"\n", "application/x-ndjson", metadata)
        return target

    def backlog(
        self,
        signal: Signal,
        *,
        max_objects: int = MAX_COUNTED_OBJECTS,
        max_seconds: float = MAX_COUNTING_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> Backlog:
        """How much of ``signal`` is waiting, the listing capped (see ``backlog.py``)."""
        return measure_backlog(
            self.store,
            self.layout,
            signal,
            max_objects=max_objects,
            max_seconds=max_seconds,
            clock=clock,
        )
