"""Fault switches over the ports: a process killed at a chosen call of its own work.

A kill is a ``BaseException`` raised from inside one of the drain's or the probe's calls,
as a Lambda timeout or an out-of-memory kill ends an invocation: no ``except Exception``
catches it, and no cleanup that a real kill would skip gets to run. The next run is a
fresh object, like the next invocation. The wrappers wrap the ports (exporter, object
store, checkpoint store) around the real adapters, so the code under test is production
code. The chaos suite's kill scenarios and the functional drain-crash test use them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import TypeVar

from otlp_failover.backup.ports import ObjectStore, StoredObject
from otlp_failover.backup.reader import BackupReader
from otlp_failover.codec import ExportBody
from otlp_failover.drain.ports import Checkpoint, CheckpointStore, DrainUnit
from otlp_failover.failover.levels import Level
from otlp_failover.failover.outcomes import ExportResult
from otlp_failover.failover.ports import Exporter
from otlp_failover.signals import Signal
from otlp_failover_dev.items import item_names

T = TypeVar("T")


class Killed(BaseException):
    """The process died here."""


class KillSwitch:
    """Counts the calls of one operation and kills at call number ``at``, before or after
    it runs (``point`` is ``"<operation>:<before|after>"``; any other word, say "never",
    only counts). With ``signal``, only that signal's calls count (the probe works on the
    signals side by side, in threads)."""

    def __init__(self, point: str, at: int, signal: Signal | None = None) -> None:
        self.point = point
        self.operation, _, self.when = point.partition(":")
        self.at = at
        self.signal = signal
        self.calls = 0
        self.fired = False
        self.in_flight: list[str] = []  # item names of the last export a backend accepted
        self._lock = threading.Lock()

    def around(self, operation: str, call: Callable[[], T], signal: Signal | None = None) -> T:
        if operation != self.operation or (self.signal and signal is not self.signal):
            return call()
        with self._lock:
            self.calls += 1
            number = self.calls
        if number == self.at and self.when == "before":
            self._kill()
        result = call()
        if number == self.at and self.when == "after":
            self._kill()
        return result

    def _kill(self) -> None:
        self.fired = True
        raise Killed(self.point)


class KillingExporter:
    """An exporter whose export is the switch's ``operation`` ("post" for the drain's
    replay, "export" for the probe's empty request)."""

    def __init__(self, inner: Exporter, switch: KillSwitch, operation: str) -> None:
        self.name = inner.name
        self._inner = inner
        self._switch = switch
        self._operation = operation

    def export(self, body: ExportBody, deadline: float, *, retry: bool = True) -> ExportResult:
        def send() -> ExportResult:
            result = self._inner.export(body, deadline, retry=retry)
            if result.accepted:
                self._switch.in_flight = item_names(body.signal, body.message)
            return result

        return self._switch.around(self._operation, send, body.signal)

    def close(self) -> None:
        self._inner.close()


def killing_level(level: Level, switch: KillSwitch, operation: str) -> Level:
    exporters = tuple(KillingExporter(e, switch, operation) for e in level.exporters)
    return Level(level.index, exporters)


class KillingObjectStore:
    """The backup bucket, with reads ("read") and deletes ("delete") as kill points."""

    def __init__(self, inner: ObjectStore, switch: KillSwitch) -> None:
        self.bucket = inner.bucket
        self._inner = inner
        self.switch = switch

    def put(self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        self._inner.put(key, body, content_type, metadata)

    def put_stream(
        self, key: str, chunks: Iterable[bytes], content_type: str, metadata: Mapping[str, str]
    ) -> int:
        return self._inner.put_stream(key, chunks, content_type, metadata)

    def list(self, prefix: str) -> Iterator[StoredObject]:
        return self._inner.list(prefix)

    def folders(self, prefix: str) -> Sequence[str]:
        return self._inner.folders(prefix)

    def get(self, key: str) -> bytes:
        return self.switch.around("read", partial(self._inner.get, key))

    def delete(self, keys: Sequence[str]) -> None:
        self.switch.around("delete", partial(self._inner.delete, keys))


def killing_reader(reader: BackupReader, switch: KillSwitch) -> BackupReader:
    """The same backup, read through a ``KillingObjectStore``."""
    return BackupReader(KillingObjectStore(reader.store, switch), reader.layout)


class KillingCheckpoints:
    """The drain's checkpoints, with each save ("save") a kill point."""

    def __init__(self, inner: CheckpointStore, switch: KillSwitch) -> None:
        self._inner = inner
        self.switch = switch

    def load(self, unit: DrainUnit) -> Checkpoint:
        return self._inner.load(unit)

    def save(self, unit: DrainUnit, checkpoint: Checkpoint) -> None:
        self.switch.around("save", partial(self._inner.save, unit, checkpoint))
