"""The drain of one unit (a shard of one signal's backlog): oldest first into a level.

Lines are sent in batches (OTLP requests of one signal merge by concatenation) through a
``BatchSender``. After each accepted batch the checkpoint records what was settled before
anything is deleted, so a crash or a timeout neither loses a line nor re-sends one that a
checkpoint covers. A batch the backend refuses as bad data (400/413) is halved until the
bad lines are found; each settled half is checkpointed, so a run that ends in the middle
keeps its progress. Bad lines are set aside under ``deadletter/`` with the reason; any
other failure stops the run and leaves the rest.

Memory is bounded in bytes: objects are read ahead up to ``read_ahead_bytes`` and a batch
closes at ``batch_bytes``, whatever the object sizes.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from otlp_failover.backup.ports import StoredObject
from otlp_failover.backup.reader import BackupReader
from otlp_failover.codec import decode_json
from otlp_failover.drain.batch import Batch, Entry
from otlp_failover.drain.ports import Checkpoint, CheckpointStore, DrainUnit
from otlp_failover.drain.sender import BatchSender, Sent
from otlp_failover.errors import BadRequestError
from otlp_failover.settings.environment import DrainLimits

log = logging.getLogger(__name__)

OUT_OF_TIME = "time budget used up"
SEND_MARGIN_SECONDS = 5.0  # stop gathering this long before the deadline, to send what we have
_PENDING_PER_READER = 8  # objects queued per reader at most, however small they are


@dataclass
class DrainTally:
    unit: DrainUnit
    objects: int = 0  # objects fully drained and deleted
    lines: int = 0  # export requests accepted by the backend
    requests: int = 0  # POSTs made
    dead_lettered: int = 0
    rejected_items: int = 0  # items a backend dropped inside a 200 (OTLP partial success)
    stopped: str = ""  # why the run ended early ("" = backlog empty)


class Drainer:
    def __init__(
        self,
        unit: DrainUnit,
        sender: BatchSender,
        backup: BackupReader,
        checkpoints: CheckpointStore,
        *,
        limits: DrainLimits,
        clock: Callable[[], float] = time.monotonic,
        on_progress: Callable[[DrainTally], None] = lambda _: None,
    ) -> None:
        self.unit = unit
        self._sender = sender
        self._backup = backup
        self._checkpoints = checkpoints
        self._limits = limits
        self._clock = clock
        self._on_progress = on_progress
        self._tally = DrainTally(unit)

    def run(self, deadline: float) -> DrainTally:
        """Drain until the backlog is empty, a send fails, or ``deadline`` (monotonic) nears."""
        tally = self._tally
        checkpoint = self._finish_deletes(self._checkpoints.load(self.unit))
        batch = Batch()
        pool = ThreadPoolExecutor(self._limits.readers, thread_name_prefix="drain-read")
        try:
            for key, lines in self._objects(pool):
                for number in range(checkpoint.lines_done(key), len(lines)):
                    batch.add(key, number, lines[number])
                    if batch.full(self._limits):
                        checkpoint = self._send(batch, checkpoint, deadline)
                        if tally.stopped:
                            return self._done()
                        batch = Batch()
                batch.complete(key)
                if batch.full(self._limits):
                    checkpoint = self._send(batch, checkpoint, deadline)
                    if tally.stopped:
                        return self._done()
                    batch = Batch()
                if self._clock() >= deadline - SEND_MARGIN_SECONDS:
                    tally.stopped = OUT_OF_TIME
                    break
            if batch:
                self._send(batch, checkpoint, deadline)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return self._done()

    def _done(self) -> DrainTally:
        self._tally.requests = self._sender.requests
        self._tally.rejected_items = self._sender.rejected_items
        return self._tally

    # -- reading ---------------------------------------------------------------------------

    def _objects(self, pool: ThreadPoolExecutor) -> Iterator[tuple[str, list[bytes]]]:
        """Objects with their lines, read ahead in parallel up to ``read_ahead_bytes``, but
        yielded oldest first. An object larger than that is read alone."""
        pending: deque[tuple[StoredObject, Future[list[bytes]]]] = deque()
        queued_bytes = 0
        most_queued = self._limits.readers * _PENDING_PER_READER
        for entry in self._backup.objects(self.unit.signal, self.unit.shard):
            while pending and (
                queued_bytes + entry.size > self._limits.read_ahead_bytes
                or len(pending) >= most_queued
            ):
                done, lines = pending.popleft()
                queued_bytes -= done.size
                yield done.key, lines.result()
            pending.append((entry, pool.submit(self._backup.lines, entry.key)))
            queued_bytes += entry.size
        while pending:
            done, lines = pending.popleft()
            yield done.key, lines.result()

    # -- sending ---------------------------------------------------------------------------

    def _send(self, batch: Batch, checkpoint: Checkpoint, deadline: float) -> Checkpoint:
        """Settle every line of the batch (accepted or set aside), checkpointing as it goes,
        and delete the finished objects. Returns the checkpoint that holds."""
        decoded: list[Any] = []  # per entry: the message, or None if it was set aside
        for entry in batch.entries:
            try:
                decoded.append(decode_json(self.unit.signal, entry.line))
            except BadRequestError as exc:
                self._set_aside(entry, f"does not decode: {exc.message}")
                decoded.append(None)
        settled = self._settle(batch, decoded, 0, len(decoded), deadline)
        return checkpoint if settled is None else settled

    def _settle(
        self, batch: Batch, decoded: list[Any], start: int, end: int, deadline: float
    ) -> Checkpoint | None:
        """Send the lines of ``entries[start:end]``; if refused as bad data, halve them,
        left half first, until each bad line is alone and set aside. Every settled part is
        checkpointed, so a run that stops part-way keeps what it settled. None when the
        backend failed (or time ran out) before the part was settled."""
        sent_at = [i for i in range(start, end) if decoded[i] is not None]
        if not sent_at:
            return self._settled(batch, end - 1)
        sent = self._sender.send([decoded[i] for i in sent_at], deadline)
        if sent is Sent.ACCEPTED:
            self._tally.lines += len(sent_at)
            return self._settled(batch, end - 1)
        if sent is Sent.REFUSED and len(sent_at) == 1:
            self._set_aside(batch.entries[sent_at[0]], "refused by the backend as bad data")
            return self._settled(batch, end - 1)
        if sent is Sent.REFUSED:
            middle = sent_at[len(sent_at) // 2]
            if self._settle(batch, decoded, start, middle, deadline) is None:
                return None
            return self._settle(batch, decoded, middle, end, deadline)
        self._tally.stopped = OUT_OF_TIME if sent is Sent.NO_TIME else self._sender.last_failure
        return None

    def _set_aside(self, entry: Entry, reason: str) -> None:
        self._backup.dead_letter(entry.key, entry.number, entry.line, reason)
        self._tally.dead_lettered += 1

    def _settled(self, batch: Batch, index: int) -> Checkpoint:
        checkpoint = batch.settled_through(index)
        self._checkpoints.save(self.unit, checkpoint)
        batch.finished.update(checkpoint.done)
        return self._finish_deletes(checkpoint)

    def _finish_deletes(self, checkpoint: Checkpoint) -> Checkpoint:
        if not checkpoint.done:
            return checkpoint
        self._backup.delete(list(checkpoint.done))
        self._tally.objects += len(checkpoint.done)
        checkpoint = replace(checkpoint, done=())
        self._checkpoints.save(self.unit, checkpoint)
        self._on_progress(self._tally)
        return checkpoint
