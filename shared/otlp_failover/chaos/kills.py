"""Killing the drain or the probe at a chosen point of its own work.

A kill is a ``BaseException`` raised from inside one of their calls, as a Lambda timeout
or an out-of-memory kill ends an invocation: no ``except Exception`` catches it, and no
cleanup that a real kill would skip gets to run. The next run is a fresh object, like the
next invocation. The wrappers are subclasses of the real adapters, so the drain and the
probe run their production code around them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from otlp_failover.backup_layout import BackupLayout
from otlp_failover.backup_reader import BackupReader
from otlp_failover.codec import ExportBody
from otlp_failover.commands.drill_report import item_names
from otlp_failover.drain_store import Checkpoint, DrainStore
from otlp_failover.exporters import Exporter, ExportResult
from otlp_failover.router import Level
from otlp_failover.signals import Signal

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client

T = TypeVar("T")


class Killed(BaseException):
    """The process died here."""


class KillSwitch:
    """Counts the calls of one operation and kills at call number ``at``, before or after
    it runs (``point`` is ``"<operation>:<before|after>"``). With ``signal``, only that
    signal's calls count (the probe works on the signals side by side, in threads)."""

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


class KillingExporter(Exporter):
    """An exporter whose export is the switch's ``operation`` ("post" for the drain's
    replay, "export" for the probe's empty request)."""

    def __init__(self, inner: Exporter, switch: KillSwitch, operation: str) -> None:
        super().__init__(inner.name)
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


def killing_level(level: Level, switch: KillSwitch, operation: str) -> Level:
    exporters = tuple(KillingExporter(e, switch, operation) for e in level.exporters)
    return Level(level.index, exporters)


class KillingReader(BackupReader):
    def __init__(
        self, client: S3Client, bucket: str, layout: BackupLayout, switch: KillSwitch
    ) -> None:
        super().__init__(client, bucket, layout)
        self.switch = switch

    def lines(self, key: str) -> list[bytes]:
        return self.switch.around("read", partial(super().lines, key))

    def delete(self, keys: list[str]) -> None:
        self.switch.around("delete", partial(super().delete, keys))


class KillingDrainStore(DrainStore):
    def __init__(self, client: DynamoDBClient, table: str, switch: KillSwitch) -> None:
        super().__init__(client, table)
        self.switch = switch

    def save(self, signal: Signal, checkpoint: Checkpoint) -> None:
        self.switch.around("save", partial(super().save, signal, checkpoint))
