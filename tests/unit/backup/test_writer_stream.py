"""BackupWriter streams its line into the store: same bytes, same metadata, same deadline."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otlp_failover.backup import writer as writer_module
from otlp_failover.backup.layout import BackupLayout
from otlp_failover.backup.writer import CONTENT_TYPE, BackupWriter
from otlp_failover.codec import ExportBody, MediaType, decode_json, encode_json
from otlp_failover.codec.json_stream import BATCH
from otlp_failover.errors import BackupError
from otlp_failover.failover.outcomes import Outcome
from otlp_failover.signals import Signal
from tests.unit.fakes import MemoryObjectStore

MOMENT = datetime(2026, 11, 27, 9, 5, 7, tzinfo=UTC)
DEADLINE = 30.0  # on the writers' clock, which stays at 0: never reached


def many_spans(count: int) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    for resource_number in range(2):
        scope = request.resource_spans.add().scope_spans.add()
        scope.scope.name = f"lib{resource_number}"
        for number in range(count // 2):
            span = scope.spans.add(name=f"span-{resource_number}-{number}")
            span.trace_id, span.span_id = bytes(range(16)), bytes(8)
    return request


def body(request: ExportTraceServiceRequest) -> ExportBody:
    return ExportBody(Signal.TRACES, MediaType.PROTOBUF, None, request, b"")


def writer(store: MemoryObjectStore) -> BackupWriter:
    return BackupWriter("s3/backup", store, BackupLayout("backup"), lambda: MOMENT, lambda: 0.0)


class PieceCountingStore(MemoryObjectStore):
    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[int] = []

    def put_stream(
        self, key: str, chunks: Iterable[bytes], content_type: str, metadata: Mapping[str, str]
    ) -> int:
        pieces = list(chunks)
        self.pieces.append(len(pieces))
        return super().put_stream(key, pieces, content_type, metadata)


def test_a_large_export_reaches_the_store_in_pieces_as_encode_json_writes_it() -> None:
    store = PieceCountingStore()
    request = many_spans(4 * BATCH)
    result = writer(store).export(body(request), DEADLINE)
    ((key, line),) = store.objects.items()
    assert line == encode_json(request) + b"\n"
    assert store.pieces[0] > 4  # streamed, not one document
    assert (store.metadata[key], store.content_types[key]) == (
        {"items": str(4 * BATCH)},
        CONTENT_TYPE,
    )
    assert (result.outcome, result.stored_bytes) == (Outcome.ACCEPTED, len(line))


class SlowUploadStore(MemoryObjectStore):
    """Takes the first piece, then waits (a part upload slower than the level's time)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.finished = threading.Event()
        self.stopped_by: list[BackupError] = []

    def put_stream(
        self, key: str, chunks: Iterable[bytes], content_type: str, metadata: Mapping[str, str]
    ) -> int:
        pieces = iter(chunks)
        try:
            first = next(pieces)
            self.release.wait(10)
            line = first + b"".join(pieces)
        except BackupError as exc:
            self.stopped_by.append(exc)
            raise
        finally:
            self.finished.set()
        self.put(key, line, content_type, metadata)
        return len(line)


def test_a_streamed_write_past_the_deadline_fails_in_time_and_stops_at_its_next_piece() -> None:
    store = SlowUploadStore()
    backup = BackupWriter("s3/backup", store, BackupLayout("backup"), clock=lambda: 0.0)
    result = backup.export(body(many_spans(4 * BATCH)), deadline=0.05)  # 50 ms on its clock
    assert (result.outcome, result.reason) == (Outcome.FAILED, "S3 PutObject: deadline reached")
    store.release.set()
    assert store.finished.wait(10)
    # The write did not go on in the background: abandoned, nothing stored.
    assert [exc.code for exc in store.stopped_by] == ["Timeout"] and store.objects == {}
    backup.close()


def test_an_export_larger_than_a_line_becomes_complete_requests_one_per_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = PieceCountingStore()
    request = many_spans(4 * BATCH)
    monkeypatch.setattr(writer_module, "LINE_BYTES", request.ByteSize() // 5)
    result = writer(store).export(body(request), DEADLINE)
    ((key, stored),) = store.objects.items()
    lines = stored.removesuffix(b"\n").split(b"\n")
    assert len(lines) >= 5 and result.stored_bytes == len(stored)
    pieces = [decode_json(Signal.TRACES, line) for line in lines]
    joined = request.__class__()
    for piece in pieces:
        joined.MergeFrom(piece)
    names = [s.name for r in joined.resource_spans for sc in r.scope_spans for s in sc.spans]
    assert names == [
        s.name for r in request.resource_spans for sc in r.scope_spans for s in sc.spans
    ]
    assert store.metadata[key] == {"items": str(4 * BATCH)}  # the export's, not a line's
