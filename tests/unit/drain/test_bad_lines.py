"""Bad data in the backlog: a line that does not decode is set aside at once; a batch the
backend refuses is halved until each bad line is alone, every settled half checkpointed,
so even runs too short to finish the search make progress."""

from __future__ import annotations

from otlp_failover.drain.ports import Checkpoint
from otlp_failover.failover.outcomes import Outcome
from tests.unit.drain.backlog import LAYOUT, UNIT, backlog_keys, names, seed, sent
from tests.unit.drain.scripted import Drain, backend, refusing
from tests.unit.fakes import ExportCall, ScriptedExporter


def test_an_undecodable_line_is_dead_lettered_and_the_rest_is_sent() -> None:
    drain = Drain()
    (a,) = seed(drain.store, ["a0", b"{not json", "a2"])
    primary = backend()
    tally = drain.run(primary)
    assert sent(primary) == [["a0", "a2"]]
    assert (tally.lines, tally.dead_lettered, tally.objects) == (2, 1, 1)
    target = LAYOUT.deadletter_key(a.removesuffix(".jsonl") + "-line1.jsonl")
    assert drain.store.objects[target] == b"{not json\n"
    assert drain.store.metadata[target]["source"] == a
    assert drain.store.metadata[target]["reason"].startswith("does not decode")


def test_a_refused_batch_is_halved_until_the_bad_line_is_alone_and_set_aside() -> None:
    drain = Drain()
    (a,) = seed(drain.store, ["g0", "bad", "g2"])
    primary = refusing("bad")
    tally = drain.run(primary)
    assert sent(primary) == [["g0", "bad", "g2"], ["g0"], ["bad", "g2"], ["bad"], ["g2"]]
    assert (tally.lines, tally.dead_lettered, tally.requests) == (2, 1, 5)
    target = LAYOUT.deadletter_key(a.removesuffix(".jsonl") + "-line1.jsonl")
    assert drain.store.metadata[target]["reason"] == "refused by the backend as bad data"
    assert backlog_keys(drain.store) == []


def test_bisection_finds_one_bad_line_among_many_in_a_logarithmic_number_of_requests() -> None:
    drain = Drain()
    seed(drain.store, [f"g{n}" for n in range(200)] + ["bad"] + [f"h{n}" for n in range(55)])
    primary = refusing("bad")
    tally = drain.run(primary, batch_lines=256)
    assert (tally.lines, tally.dead_lettered) == (255, 1)
    assert tally.requests <= 2 * 8 + 1  # one line by one would take 257


def test_each_settled_half_is_checkpointed_so_a_failure_keeps_what_was_settled() -> None:
    drain = Drain()
    keys = seed(drain.store, ["g0", "bad", "g2"])
    primary = backend(Outcome.REJECTED, Outcome.ACCEPTED, Outcome.FAILED)
    tally = drain.run(primary)
    assert tally.stopped.startswith("level 0 (otlphttp/primary) failed")
    assert (tally.lines, tally.dead_lettered) == (1, 0)
    assert drain.checkpoints.checkpoints[UNIT] == Checkpoint(partial=keys[0], line=1)
    again = backend()
    drain.run(again)
    assert sent(again) == [["bad", "g2"]]  # g0 is not sent again


def test_runs_too_short_to_isolate_a_bad_line_still_progress_and_finish() -> None:
    """The livelock of line-by-line isolation: each run ends before the batch is done.
    With checkpointed halves every run settles something, so a few runs finish."""
    drain = Drain()
    seed(drain.store, [f"g{n}" for n in range(63)] + ["bad"])
    accepted: list[str] = []

    def slow_refusing(call: ExportCall) -> Outcome:
        drain.clock.advance(2.0)
        if "bad" in names(call.body.message):
            return Outcome.REJECTED
        accepted.extend(names(call.body.message))
        return Outcome.ACCEPTED

    primary = ScriptedExporter("otlphttp/primary", script=slow_refusing)
    runs = 0
    while backlog_keys(drain.store) and runs < 20:
        drain.run(primary, deadline=drain.clock() + 10.0, batch_lines=64)  # ~2 sends a run
        runs += 1
    assert backlog_keys(drain.store) == [] and runs > 1
    assert sorted(accepted) == sorted(f"g{n}" for n in range(63))  # each accepted once
