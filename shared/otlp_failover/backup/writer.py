"""The backup level's exporter: one object per export request, OTLP/JSON lines in it.

The object is written before the client is answered, so a 200 means the data is stored.
It is encrypted by the bucket's default encryption (SSE-S3, or the KMS key the template
names), so the writer needs no key of its own.
The line format is the collector file exporter's, so each line replays with curl.
An export is one line unless it is larger than ``LINE_BYTES`` of protobuf; a larger one
is cut into complete export requests that mean the same together (``codec/split.py``),
one line each, so that the drain never parses a line of tens of MB at once. The lines
are streamed into the store as they are encoded (``encode_json_chunks``): an export at
the decompressed cap never exists as a whole document of Python objects, nor as one
40-50 MB bytes object.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from typing import Any

from otlp_failover.backup.layout import BackupLayout
from otlp_failover.backup.ports import ObjectStore
from otlp_failover.codec import ExportBody, check_ids
from otlp_failover.codec.json_stream import encode_json_chunks
from otlp_failover.codec.split import split_request
from otlp_failover.errors import BackupError, BadRequestError
from otlp_failover.failover.outcomes import ExportResult, Outcome
from otlp_failover.signals import Signal

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-ndjson"
# Writes in flight at once per instance; Lambda serves one request at a time, the local
# stack and the chaos suite several.
WRITERS = 4
# Protobuf bytes per backup line at most (a single larger item stays whole): about 4-5 MB
# of OTLP/JSON, which the drain parses in about 50 MB.
LINE_BYTES = 2 * 1024 * 1024


class BackupWriter:
    """An ``Exporter`` whose destination is the backup bucket."""

    def __init__(
        self,
        name: str,
        store: ObjectStore,
        layout: BackupLayout,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.store = store
        self.layout = layout
        self._now = now
        self._clock = clock
        # The write runs beside the caller, who waits only until the deadline: boto3's own
        # timeouts and retries could take about 15 s whatever time the level has left.
        self._writers = ThreadPoolExecutor(WRITERS, thread_name_prefix="backup-write")

    def export(self, body: ExportBody, deadline: float, *, retry: bool = True) -> ExportResult:
        try:
            return self._write(body, deadline)
        except Exception as exc:  # the Exporter contract: a failure is a result, never raised
            log.exception("backup write failed unexpectedly")
            return ExportResult(
                Outcome.FAILED, self.name, reason=f"unexpected error ({type(exc).__name__})"
            )

    def _write(self, body: ExportBody, deadline: float) -> ExportResult:
        try:
            # A backend refuses ids of the wrong length (400); the backup refuses them too,
            # rather than keep a line that could never be replayed. Checked here, not on the
            # healthy path, where walking every span would cost more than parsing it.
            check_ids(body)
        except BadRequestError as exc:
            return ExportResult(Outcome.REJECTED, self.name, reason=exc.message)
        key = self.layout.new_key(body.signal, self._now())
        metadata = {"items": str(body.item_count)}
        # Encoded in the writer's thread, as the store takes it: the encoding of a large
        # export counts against the deadline too.
        late = threading.Event()
        lines = _until(late, object_chunks(body.signal, body.message))
        write = self._writers.submit(self.store.put_stream, key, lines, CONTENT_TYPE, metadata)
        try:
            stored = write.result(timeout=max(0.0, deadline - self._clock()))
        except FutureTimeout:
            # Not acknowledged, so the client sends it again: a late write is a duplicate at
            # worst. One that has not started yet never will, and one still encoding stops
            # at its next piece (a multipart upload is aborted).
            late.set()
            write.cancel()
            return ExportResult(Outcome.FAILED, self.name, reason="S3 PutObject: deadline reached")
        except BackupError as exc:
            return ExportResult(Outcome.FAILED, self.name, reason=str(exc))
        return ExportResult(
            Outcome.ACCEPTED,
            self.name,
            reason=f"s3://{self.store.bucket}/{key}",
            stored_bytes=stored,
        )

    def close(self) -> None:
        """The store's client is shared and outlives the writer; its threads do not."""
        self._writers.shutdown(wait=False, cancel_futures=True)


def object_chunks(signal: Signal, message: Any) -> Iterator[bytes]:
    """A backup object's bytes, in pieces: the export's OTLP/JSON line, or, past
    ``LINE_BYTES`` of protobuf, one line per complete export request cut from it."""
    for piece in split_request(signal, message, LINE_BYTES):
        yield from encode_json_chunks(piece)
        yield b"\n"


def _until(late: threading.Event, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """``chunks``, until the caller stopped waiting for them."""
    for chunk in chunks:
        if late.is_set():
            raise BackupError("the write outlived its deadline and was abandoned", "Timeout")
        yield chunk
