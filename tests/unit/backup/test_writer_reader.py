"""BackupWriter and BackupReader over a dict bucket: what is written, what is read back."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from otlp_failover.backup.backlog import Backlog
from otlp_failover.backup.layout import BackupLayout
from otlp_failover.backup.reader import BackupReader
from otlp_failover.backup.writer import CONTENT_TYPE, BackupWriter
from otlp_failover.codec import ExportBody, MediaType, decode_json
from otlp_failover.failover.outcomes import Outcome
from otlp_failover.signals import Signal
from tests.unit.fakes import MemoryObjectStore

TRACES = Signal.TRACES
LAYOUT = BackupLayout("backup", shards=1)  # one shard: keys sort by time across writes
MOMENT = datetime(2026, 11, 27, 9, 5, 7, tzinfo=UTC)


def spans(*names: str, trace_id: bytes = bytes(range(16))) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for name in names:
        span = scope.spans.add()
        span.name, span.trace_id, span.span_id = name, trace_id, bytes(8)
    return request


def body(request: ExportTraceServiceRequest) -> ExportBody:
    return ExportBody(TRACES, MediaType.PROTOBUF, None, request, request.SerializeToString())


DEADLINE = 30.0  # on the writers' clock, which stays at 0: never reached


def writer(store: MemoryObjectStore, moments: list[datetime] | None = None) -> BackupWriter:
    clock = iter(moments or [MOMENT] * 10)
    return BackupWriter("s3/backup", store, LAYOUT, now=lambda: next(clock), clock=lambda: 0.0)


def test_an_export_becomes_one_object_holding_one_otlp_json_line() -> None:
    store = MemoryObjectStore()
    result = writer(store).export(body(spans("a", "b")), deadline=DEADLINE)
    (key,) = store.objects
    assert key.startswith("backup/traces/s00/2026/11/27/09/20261127T090507.000000Z-")
    line = store.objects[key]
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode_json(TRACES, line.rstrip(b"\n")) == spans("a", "b")
    assert store.content_types[key] == CONTENT_TYPE
    assert store.metadata[key] == {"items": "2"}
    assert (result.outcome, result.stored_bytes) == (Outcome.ACCEPTED, len(line))
    assert result.reason == f"s3://backup-bucket/{key}"


def test_a_failing_bucket_fails_the_level() -> None:
    store = MemoryObjectStore()
    store.failing.add("put")
    result = writer(store).export(body(spans("a")), deadline=DEADLINE)
    assert (result.outcome, store.objects) == (Outcome.FAILED, {})
    assert "put on s3://backup-bucket failed" in result.reason


def test_ids_of_the_wrong_length_are_rejected_rather_than_kept_unreplayable() -> None:
    store = MemoryObjectStore()
    result = writer(store).export(body(spans("a", trace_id=b"abc")), deadline=DEADLINE)
    assert (result.outcome, store.objects) == (Outcome.REJECTED, {})
    assert result.reason.endswith("spans[0].traceId: trace_id must be 16 bytes, got 3")


def test_the_reader_lists_the_backlog_oldest_first_and_reads_its_lines() -> None:
    store = MemoryObjectStore()
    later, earlier = MOMENT + timedelta(hours=2), MOMENT
    backup = writer(store, [later, earlier])
    backup.export(body(spans("late")), DEADLINE)
    backup.export(body(spans("early")), DEADLINE)
    reader = BackupReader(store, LAYOUT)
    keys = list(reader.keys(TRACES))
    assert [LAYOUT.written_at(key) for key in keys] == [earlier, later]
    assert [decode_json(TRACES, line) for line in reader.lines(keys[0])] == [spans("early")]
    assert list(reader.keys(Signal.LOGS)) == []


def test_empty_lines_are_not_lines() -> None:
    store = MemoryObjectStore()
    store.put("backup/traces/x.jsonl", b'{"a":1}\n\n  \n{"b":2}\n', CONTENT_TYPE, {})
    assert BackupReader(store, LAYOUT).lines("backup/traces/x.jsonl") == [b'{"a":1}', b'{"b":2}']


def test_delete_removes_drained_objects() -> None:
    store = MemoryObjectStore()
    writer(store).export(body(spans("a")), DEADLINE)
    reader = BackupReader(store, LAYOUT)
    reader.delete(list(reader.keys(TRACES)))
    assert store.objects == {}


def test_a_dead_lettered_line_is_kept_out_of_the_backlog_with_a_safe_reason() -> None:
    store = MemoryObjectStore()
    reader = BackupReader(store, LAYOUT)
    key = "backup/traces/2026/11/27/09/20261127T090507.000000Z-x.jsonl"
    target = reader.dead_letter(key, 3, b"{bad}", "refus\u00e9\n" + "x" * 2000)
    assert target == "deadletter/backup/traces/2026/11/27/09/20261127T090507.000000Z-x-line3.jsonl"
    assert store.objects[target] == b"{bad}\n"
    reason = store.metadata[target]["reason"]
    assert reason.startswith("refus??x") and len(reason) == 1024
    assert store.metadata[target]["source"] == key
    assert list(reader.keys(TRACES)) == []


def test_the_backlog_counts_objects_and_bytes_and_dates_the_oldest_by_its_key() -> None:
    store = MemoryObjectStore()
    backup = writer(store, [MOMENT, MOMENT + timedelta(minutes=1)])
    sizes = [backup.export(body(spans(name)), DEADLINE).stored_bytes for name in ("a", "b")]
    backlog = BackupReader(store, LAYOUT).backlog(TRACES)
    assert backlog == Backlog(objects=2, bytes=sum(sizes), oldest=MOMENT, shards={"s00": 2})
    assert backlog.oldest_age_seconds(MOMENT + timedelta(seconds=90)) == 90.0
    assert BackupReader(store, LAYOUT).backlog(Signal.LOGS) == Backlog(0, 0, None)


class StuckStore(MemoryObjectStore):
    """A bucket whose PutObject hangs until released (S3 slower than the level's time)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def put(self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        self.release.wait(10)
        super().put(key, body, content_type, metadata)


def test_a_write_that_outlives_the_levels_deadline_fails_the_level_in_time() -> None:
    store = StuckStore()
    backup = BackupWriter("s3/backup", store, LAYOUT, clock=lambda: 0.0)
    result = backup.export(body(spans("a")), deadline=0.05)  # 50 ms left on its clock
    store.release.set()
    assert (result.outcome, result.reason) == (Outcome.FAILED, "S3 PutObject: deadline reached")
    backup.close()


class BrokenStore(MemoryObjectStore):
    def put(self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        raise RuntimeError("a bug in the store")


def test_an_unexpected_error_in_the_backup_write_is_a_failed_result_never_raised() -> None:
    backup = BackupWriter("s3/backup", BrokenStore(), LAYOUT, clock=lambda: 0.0)
    result = backup.export(body(spans("a")), deadline=DEADLINE)
    assert (result.outcome, result.reason) == (Outcome.FAILED, "unexpected error (RuntimeError)")
