"""Scenarios at production size: a collector's exports of several MiB beside the SDK
traffic, through an outage of the primary and the drain that follows it."""

from __future__ import annotations

from otlp_failover.settings import environment as settings
from otlp_failover.signals import Signal
from otlp_failover_dev.chaos.harness import Chaos
from otlp_failover_dev.chaos.large_exports import LargeAnswer, LargeExports, export_prefix
from otlp_failover_dev.chaos.scale import MIB
from otlp_failover_dev.chaos.scenario import Scenario, expect_served
from otlp_failover_dev.items import item_names
from otlp_failover_dev.local.backend import ReceivedExport

# Large exports the backup must have kept during the fault before the primary heals: the
# outage is held until then (a count, not a time: a large export takes seconds here).
KEPT_DURING_FAULT = 2
# The deployment's export timeout (5 s), not the suite's 1 s: a backend takes longer than
# 1 s to accept 16 MiB on this machine, so each large live export would fail in time on a
# healthy primary and be sent again (see the README). Replays are cut to the batch size.
ENVIRONMENT: dict[str, str | None] = {settings.EXPORT_TIMEOUT: None}


def large_exports(chaos: Chaos) -> None:
    """Large gzip exports go straight to the primary, then to S3 while it refuses
    connections, then come back through the drain: every item arrives, replayed
    gzip-compressed."""
    scale = chaos.scale
    sender = LargeExports(
        chaos.stack.api_url,
        chaos.stack.config.token,
        size=scale.large_bytes,
        prefix=f"{chaos.prefix}large",
        senders=scale.large_senders,
        seed=chaos.rng.randrange(2**32),
    )
    chaos.add_client(sender)  # flushed and counted with the SDK clients
    chaos.start_clients()
    sender.start()
    chaos.expect(
        chaos.wait_for(lambda: bool(_acknowledged(sender)), scale.settle),
        "no large export was acknowledged before the fault",
    )
    began = chaos.now()
    chaos.primary.set_mode("refuse")
    chaos.expect(chaos.wait_level(1, scale.fault + 10), "not every signal reached level 1")
    chaos.expect(
        chaos.wait_for(
            lambda: len(_acknowledged(sender, began)) >= KEPT_DURING_FAULT, scale.settle
        ),
        f"fewer than {KEPT_DURING_FAULT} large exports were acknowledged during the fault",
    )
    chaos.hold(max(0.0, began + scale.fault - chaos.now()))
    ended = chaos.now()
    chaos.primary.set_mode("healthy")
    chaos.settle()
    expect_served(chaos, began, ended)

    # Answered wholly inside the fault, these reached the primary only through the drain.
    kept = _acknowledged(sender, began, ended)
    replays = _carrying(
        chaos.primary.exports, tuple(export_prefix(sender.prefix, a.number) for a in kept)
    )
    chaos.expect(bool(replays), "no large export kept in the backup was replayed")
    plain = [e for e in replays if e.content_encoding != "gzip"]
    chaos.expect(
        not plain,
        f"{len(plain)} of {len(replays)} replays of large exports were not gzip-compressed",
    )
    answers = sender.answers()
    largest = max((len(e.body) for e in replays), default=0)
    chaos.note(
        f"{len(answers)} exports of {scale.large_bytes / MIB:g} MiB "
        f"({sender.body_bytes / MIB:.1f} MiB gzip) from {_senders(scale.large_senders)}, "
        f"{len(kept)} kept in S3, replayed in {len(replays)} gzip POSTs "
        f"(largest {largest / MIB:.1f} MiB)"
    )


def _senders(count: int) -> str:
    return f"{count} sender" if count == 1 else f"{count} senders"


def _acknowledged(
    sender: LargeExports, since: float = 0.0, until: float = float("inf")
) -> list[LargeAnswer]:
    """Large exports answered 200 that ran wholly inside [since, until]."""
    return [
        a for a in sender.answers() if a.status == 200 and since <= a.started and a.ended <= until
    ]


def _carrying(exports: list[ReceivedExport], prefixes: tuple[str, ...]) -> list[ReceivedExport]:
    """The traces exports that carry an item named with one of ``prefixes``."""
    if not prefixes:
        return []
    return [
        export
        for export in exports
        if export.signal is Signal.TRACES
        and any(name.startswith(prefixes) for name in item_names(Signal.TRACES, export.message))
    ]


SCENARIOS = [
    Scenario(
        "large-exports",
        "Collector-sized gzip exports (MiB) through an outage: all replayed, gzip-compressed.",
        large_exports,
        environment=ENVIRONMENT,
    ),
]
