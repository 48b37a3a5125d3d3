"""The Drainer over a dict bucket, in-memory checkpoints and a scripted backend: batching,
order, checkpoints before deletes, resuming, failures, time, rate, Retry-After, gzip and
the bounds in bytes and keys (bad data: test_bad_lines.py)."""

from __future__ import annotations

import gzip

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from otlp_failover.codec import encode_json
from otlp_failover.drain.drainer import OUT_OF_TIME
from otlp_failover.drain.ports import MAX_DONE_KEYS, Checkpoint
from otlp_failover.drain.sender import THROTTLED_TRIES
from otlp_failover.failover.outcomes import ExportResult, Outcome
from tests.unit.drain.backlog import UNIT, backlog_keys, line, names, seed, sent
from tests.unit.drain.scripted import TRACES, Drain, backend
from tests.unit.fakes import ExportCall, ScriptedExporter


def test_batches_hold_at_most_batch_lines_lines_and_go_oldest_first() -> None:
    drain = Drain()
    seed(drain.store, ["a0", "a1", "a2"], ["b0", "b1", "b2"], ["c0", "c1", "c2"])
    primary = backend()
    tally = drain.run(primary, batch_lines=4)
    assert sent(primary) == [["a0", "a1", "a2", "b0"], ["b1", "b2", "c0", "c1"], ["c2"]]
    assert (tally.objects, tally.lines, tally.requests, tally.stopped) == (3, 9, 3, "")
    assert backlog_keys(drain.store) == []


def test_batches_hold_at_most_batch_bytes() -> None:
    drain = Drain()
    seed(drain.store, ["a0", "a1", "a2"], ["b0", "b1"])
    primary = backend()
    drain.run(primary, batch_bytes=2 * len(line("a0")))
    assert sent(primary) == [["a0", "a1"], ["a2", "b0"], ["b1"]]


def test_the_checkpoint_is_saved_after_each_accepted_batch_before_any_delete() -> None:
    drain = Drain()
    a, b = seed(drain.store, ["a0", "a1"], ["b0", "b1"])
    drain.journal.clear()
    drain.run(backend(), batch_lines=2)
    steps = [entry.replace(a, "A").replace(b, "B") for entry in drain.journal]
    assert steps == [
        "export otlphttp/primary",
        "save done=",  # a0 a1 accepted: A's first two lines
        "export otlphttp/primary",
        "save done=A",  # b0 b1 accepted, and A is complete: recorded first...
        "delete A",  # ...then deleted
        "save done=",
        "save done=B",
        "delete B",
        "save done=",
    ]
    assert drain.checkpoints.saves[0] == (UNIT, Checkpoint(partial=a, line=2))


def test_a_run_resumes_inside_an_object_without_resending_what_the_checkpoint_covers() -> None:
    drain = Drain()
    a, _ = seed(drain.store, ["a0", "a1", "a2"], ["b0"])
    drain.checkpoints.checkpoints[UNIT] = Checkpoint(partial=a, line=2)
    primary = backend()
    tally = drain.run(primary)
    assert sent(primary) == [["a2", "b0"]]
    assert (tally.lines, tally.objects) == (2, 2)


def test_a_run_first_deletes_the_objects_a_checkpoint_marks_done() -> None:
    drain = Drain()
    a, _ = seed(drain.store, ["a0"], ["b0"])
    drain.checkpoints.checkpoints[UNIT] = Checkpoint(done=(a,))
    drain.journal.clear()
    primary = backend()
    tally = drain.run(primary)
    assert drain.journal[0] == f"delete {a}"
    assert sent(primary) == [["b0"]]
    assert tally.objects == 2 and backlog_keys(drain.store) == []


def test_the_first_backend_failure_stops_the_run_and_the_next_run_resumes_after_it() -> None:
    drain = Drain()
    keys = seed(drain.store, ["a0", "a1"], ["b0", "b1"], ["c0", "c1"])
    primary = backend(Outcome.ACCEPTED, Outcome.FAILED)
    tally = drain.run(primary, batch_lines=2)
    assert tally.stopped == "level 0 (otlphttp/primary) failed: HTTP 503"
    assert sent(primary) == [["a0", "a1"], ["b0", "b1"]]  # c was never sent
    assert backlog_keys(drain.store) == keys  # nothing deleted: b's batch completed a
    assert drain.checkpoints.checkpoints[UNIT] == Checkpoint(partial=keys[0], line=2)
    again = backend()
    assert drain.run(again, batch_lines=2).stopped == ""
    assert sent(again) == [["b0", "b1"], ["c0", "c1"]]


def test_the_run_stops_out_of_time_near_the_deadline_after_sending_what_it_has() -> None:
    drain = Drain()
    keys = seed(drain.store, ["a0", "a1"], ["b0", "b1"], ["c0", "c1"])

    def slow(_: ExportCall) -> Outcome:
        drain.clock.advance(6.0)  # past deadline - SEND_MARGIN_SECONDS
        return Outcome.ACCEPTED

    primary = ScriptedExporter("otlphttp/primary", script=slow)
    tally = drain.run(primary, deadline=10.0, batch_lines=2)
    assert (tally.stopped, tally.objects, tally.requests) == (OUT_OF_TIME, 1, 1)
    assert backlog_keys(drain.store) == keys[1:]


def test_the_rate_paces_requests_on_the_injected_clock() -> None:
    drain = Drain()
    seed(drain.store, ["a0", "a1", "a2"])
    primary = ScriptedExporter("otlphttp/primary", clock=drain.clock)
    drain.run(primary, batch_lines=1, rate=2.0)
    assert primary.times == [0.0, 0.5, 1.0]
    assert drain.clock.sleeps == [0.5, 0.5]


def test_items_a_backend_drops_inside_a_200_are_tallied() -> None:
    drain = Drain()
    seed(drain.store, ["a0"])
    response = ExportTraceServiceResponse()
    response.partial_success.rejected_spans = 2
    accepted = ExportResult(
        Outcome.ACCEPTED,
        "otlphttp/primary",
        status=200,
        body=response.SerializeToString(),
        content_type="application/x-protobuf",
    )
    assert drain.run(backend(accepted)).rejected_items == 2


def test_replays_are_gzip_compressed_protobuf_of_the_merged_lines() -> None:
    drain = Drain()
    seed(drain.store, ["a0"], ["b0"])
    primary = backend()
    drain.run(primary)
    (body,) = primary.bodies
    assert body.encoding == "gzip"
    assert gzip.decompress(body.raw) == body.message.SerializeToString()
    assert names(body.message) == ["a0", "b0"]


def test_a_retry_after_pauses_every_send_and_the_batch_is_sent_again() -> None:
    drain = Drain()
    seed(drain.store, ["a0"])
    throttled = ExportResult(Outcome.FAILED, "otlphttp/primary", status=429, retry_after=7.0)
    primary = ScriptedExporter("otlphttp/primary", (throttled,), clock=drain.clock)
    tally = drain.run(primary)
    assert (tally.stopped, tally.lines, tally.requests) == ("", 1, 2)
    assert primary.times[1] - primary.times[0] >= 7.0


def test_a_backend_that_keeps_asking_for_a_pause_stops_the_run() -> None:
    drain = Drain()
    keys = seed(drain.store, ["a0"])
    throttled = ExportResult(Outcome.FAILED, "otlphttp/primary", status=429, retry_after=1.0)
    primary = backend(*[throttled] * THROTTLED_TRIES)
    tally = drain.run(primary)
    assert tally.stopped.startswith("level 0 (otlphttp/primary) failed")
    assert tally.requests == THROTTLED_TRIES and backlog_keys(drain.store) == keys


def test_a_checkpoint_lists_at_most_max_done_keys_objects_whatever_the_batch_size() -> None:
    drain = Drain()
    seed(drain.store, *[[f"x{n}"] for n in range(MAX_DONE_KEYS * 2 + 3)])
    primary = backend()
    tally = drain.run(primary, batch_lines=10_000)
    assert max(len(checkpoint.done) for _, checkpoint in drain.checkpoints.saves) == MAX_DONE_KEYS
    assert tally.objects == MAX_DONE_KEYS * 2 + 3 and len(primary.calls) == 3


def test_objects_are_read_ahead_within_the_byte_bound() -> None:
    drain = Drain()
    seed(drain.store, *[[f"y{n}" * 50] for n in range(12)])
    size = len(drain.store.objects[backlog_keys(drain.store)[0]])
    drain.run(backend(), batch_lines=1, read_ahead_bytes=3 * size)
    # Read and not yet deleted: the read-ahead, the object in hand and the one whose
    # deletion waits for the next checkpoint. Without the byte bound all 12 are read at once.
    assert drain.store.most_outstanding_bytes <= 5 * size
    assert backlog_keys(drain.store) == []


def big_line(items: int) -> bytes:
    message = TRACES.request_class()
    spans = message.resource_spans.add().scope_spans.add().spans
    for n in range(items):
        spans.add().name = f"big{n:04d}"
    return bytes(encode_json(message))


def test_a_line_larger_than_the_batch_is_replayed_in_pieces_of_the_batch_size() -> None:
    drain = Drain()
    seed(drain.store, [big_line(600)])
    primary = backend()
    tally = drain.run(primary, batch_bytes=2_000)
    assert len(primary.bodies) > 3
    assert all(len(body.message.SerializeToString()) <= 2_000 for body in primary.bodies)
    assert [n for names_ in sent(primary) for n in names_] == [f"big{n:04d}" for n in range(600)]
    assert (tally.lines, tally.objects) == (1, 1)


def test_a_piece_that_fails_leaves_the_whole_line_for_the_next_run() -> None:
    drain = Drain()
    keys = seed(drain.store, [big_line(600)])
    primary = backend(Outcome.ACCEPTED, Outcome.FAILED)
    tally = drain.run(primary, batch_bytes=2_000)
    assert tally.stopped.startswith("level 0") and backlog_keys(drain.store) == keys
    again = backend()
    drain.run(again, batch_bytes=2_000)
    assert [n for names_ in sent(again) for n in names_] == [f"big{n:04d}" for n in range(600)]


def test_an_empty_backlog_sends_nothing() -> None:
    drain = Drain()
    primary = backend()
    tally = drain.run(primary)
    assert (tally.objects, tally.lines, tally.requests, primary.calls) == (0, 0, 0, [])
