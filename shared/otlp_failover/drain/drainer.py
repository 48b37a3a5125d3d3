"""The drain: replays the S3 backup into the signal's current OTLP level, oldest first.

Lines are sent in batches (OTLP requests of one signal merge by concatenation), at a
bounded rate. After each accepted batch the checkpoint records what was accepted before
anything is deleted, so a crash or a timeout neither loses a line nor re-sends one that a
checkpoint covers. Lines the backend refuses as bad data (400/413) are set aside under
``deadletter/`` with the reason; any other failure stops the run and leaves the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

from otlp_failover.backup.reader import BackupReader
from otlp_failover.codec import (
    ExportBody,
    MediaType,
    decode_export_response,
    decode_json,
    media_type_of,
)
from otlp_failover.drain.ports import Checkpoint, CheckpointStore
from otlp_failover.errors import BadRequestError
from otlp_failover.failover.levels import Level
from otlp_failover.failover.outcomes import ExportResult, Outcome
from otlp_failover.settings.environment import DrainLimits
from otlp_failover.signals import Signal

log = logging.getLogger(__name__)


@dataclass
class DrainTally:
    signal: Signal
    objects: int = 0  # objects fully drained and deleted
    lines: int = 0  # export requests accepted by the backend
    requests: int = 0  # POSTs made
    dead_lettered: int = 0
    rejected_items: int = 0  # items a backend dropped inside a 200 (OTLP partial success)
    stopped: str = ""  # why the run ended early ("" = backlog empty)


@dataclass
class _Batch:
    """Lines gathered for one POST, where each came from, and the objects it completes."""

    lines: list[tuple[str, int, bytes]] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    size: int = 0

    def add(self, key: str, number: int, line: bytes) -> None:
        self.lines.append((key, number, line))
        self.size += len(line)

    def full(self, limits: DrainLimits) -> bool:
        return len(self.lines) >= limits.batch_lines or self.size >= limits.batch_bytes

    def checkpoint(self) -> Checkpoint:
        """What is true once this batch was accepted."""
        if not self.lines or self.lines[-1][0] in self.completed:
            return Checkpoint(done=tuple(self.completed))
        key, number, _ = self.lines[-1]
        return Checkpoint(done=tuple(self.completed), partial=key, line=number + 1)


# Decoded lines: (key, line number, raw line, message); refused ones carry a reason instead.
_Line = tuple[str, int, bytes, Any]
_BadLine = tuple[str, int, bytes, str]

OUT_OF_TIME = "time budget used up"
SEND_MARGIN_SECONDS = 5.0  # stop gathering this long before the deadline, to send what we have


class Drainer:
    def __init__(
        self,
        signal: Signal,
        level: Level,
        backup: BackupReader,
        checkpoints: CheckpointStore,
        *,
        limits: DrainLimits,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_progress: Callable[[DrainTally], None] = lambda _: None,
    ) -> None:
        self.signal = signal
        self.level = level
        self._backup = backup
        self._checkpoints = checkpoints
        self._limits = limits
        self._clock = clock
        self._sleep = sleep
        self._on_progress = on_progress
        self._next_send = 0.0

    def run(self, deadline: float) -> DrainTally:
        """Drain until the backlog is empty, a send fails, or ``deadline`` (monotonic) nears."""
        tally = DrainTally(self.signal)
        checkpoint = self._finish_deletes(self._checkpoints.load(self.signal), tally)
        batch = _Batch()
        for key, lines in self._objects():
            for number in range(checkpoint.lines_done(key), len(lines)):
                batch.add(key, number, lines[number])
                if batch.full(self._limits):
                    checkpoint = self._send(batch, checkpoint, tally, deadline)
                    if tally.stopped:
                        return tally
                    batch = _Batch()
            batch.completed.append(key)
            if self._clock() >= deadline - SEND_MARGIN_SECONDS:
                tally.stopped = OUT_OF_TIME
                break
        if batch.lines or batch.completed:
            self._send(batch, checkpoint, tally, deadline)
        return tally

    def _objects(self) -> Iterator[tuple[str, list[bytes]]]:
        """Objects with their lines, read ahead in parallel but yielded oldest first."""
        keys = self._backup.keys(self.signal)
        with ThreadPoolExecutor(self._limits.readers, thread_name_prefix="drain-read") as pool:
            while True:
                chunk = list(islice(keys, self._limits.read_ahead))
                if not chunk:
                    return
                yield from zip(chunk, pool.map(self._backup.lines, chunk), strict=True)

    def _send(
        self, batch: _Batch, checkpoint: Checkpoint, tally: DrainTally, deadline: float
    ) -> Checkpoint:
        """POST the batch; once accepted, checkpoint it, then delete the finished objects."""
        good, bad = self._decode(batch)
        if good:
            verdict = self._post(good, deadline, tally)
            if verdict is None:  # refused as bad data: find which lines, one at a time
                isolated = self._isolate(good, deadline, tally)
                if isolated is None:
                    return checkpoint
                good, refused = isolated
                bad += refused
            elif not verdict:
                return checkpoint
        for key, number, line, reason in bad:
            self._backup.dead_letter(key, number, line, reason)
        tally.dead_lettered += len(bad)
        tally.lines += len(good)
        checkpoint = batch.checkpoint()
        self._checkpoints.save(self.signal, checkpoint)
        return self._finish_deletes(checkpoint, tally)

    def _finish_deletes(self, checkpoint: Checkpoint, tally: DrainTally) -> Checkpoint:
        if not checkpoint.done:
            return checkpoint
        self._backup.delete(list(checkpoint.done))
        tally.objects += len(checkpoint.done)
        checkpoint = replace(checkpoint, done=())
        self._checkpoints.save(self.signal, checkpoint)
        self._on_progress(tally)
        return checkpoint

    def _decode(self, batch: _Batch) -> tuple[list[_Line], list[_BadLine]]:
        good: list[_Line] = []
        bad: list[_BadLine] = []
        for key, number, line in batch.lines:
            try:
                good.append((key, number, line, decode_json(self.signal, line)))
            except BadRequestError as exc:
                bad.append((key, number, line, f"does not decode: {exc.message}"))
        return good, bad

    def _post(self, lines: list[_Line], deadline: float, tally: DrainTally) -> bool | None:
        """True if accepted, None if refused as bad data, False if the backend failed."""
        merged = self.signal.request_class()
        for _, _, _, message in lines:
            merged.MergeFrom(message)
        body = ExportBody(self.signal, MediaType.PROTOBUF, None, merged, merged.SerializeToString())
        self._pace()
        result = self.level.export(body, deadline)
        tally.requests += 1
        if result.outcome is Outcome.ACCEPTED:
            self._note_partial_success(result, tally)
            return True
        if result.outcome is Outcome.REJECTED:
            return None
        tally.stopped = f"level {self.level.index} ({self.level.name}) failed: {result.reason}"
        log.warning("drain of %s stopped: %s", self.signal, tally.stopped)
        return False

    def _note_partial_success(self, result: ExportResult, tally: DrainTally) -> None:
        """A backend may drop items inside a 200; say so, since nobody else will."""
        media = media_type_of(result.content_type)
        if not result.body or media is None:
            return
        response = decode_export_response(self.signal, result.body, media)
        partial = getattr(response, "partial_success", None)
        rejected = sum(
            getattr(partial, field, 0)
            for field in ("rejected_spans", "rejected_data_points", "rejected_log_records")
        )
        if rejected:
            tally.rejected_items += rejected
            log.warning(
                "the backend dropped %d %s items of a replayed batch: %s",
                rejected,
                self.signal,
                getattr(partial, "error_message", ""),
            )

    def _isolate(
        self, lines: list[_Line], deadline: float, tally: DrainTally
    ) -> tuple[list[_Line], list[_BadLine]] | None:
        """Resend one line at a time: refused lines are bad data, the rest are accepted.

        None when the backend failed part-way: nothing is checkpointed, so the lines accepted
        one by one are sent again next run (a duplicate, never a loss).
        """
        good: list[_Line] = []
        bad: list[_BadLine] = []
        for entry in lines:
            accepted = self._post([entry], deadline, tally)
            if accepted is False:
                return None
            if accepted is None:
                bad.append((entry[0], entry[1], entry[2], "refused by the backend as bad data"))
            else:
                good.append(entry)
        return good, bad

    def _pace(self) -> None:
        wait = self._next_send - self._clock()
        if wait > 0:
            self._sleep(wait)
        self._next_send = max(self._clock(), self._next_send) + 1.0 / self._limits.rate
