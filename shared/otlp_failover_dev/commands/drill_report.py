"""The drill's verdict: per signal, what the client sent and had acknowledged, against what
the primary received, counted by item name.

    lost        acknowledged names the primary never received (must be 0)
    duplicates  deliveries beyond the first of a name (allowed: OTLP is at-least-once)
    refused     names in exports that failed at the client (the gateway answered non-2xx)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from otlp_failover.signals import Signal
from otlp_failover_dev.commands.drill_traffic import ITEM_ATTRIBUTE, Ledger
from otlp_failover_dev.commands.drill_watch import Event

SHOWN_LOST = 5  # lost names printed; the count says how many more


def item_names(signal: Signal, message: Any) -> list[str]:
    """The drill names in one decoded Export*ServiceRequest."""
    if signal is Signal.TRACES:
        return [
            span.name
            for resource in message.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        ]
    if signal is Signal.LOGS:
        return [
            record.body.string_value
            for resource in message.resource_logs
            for scope in resource.scope_logs
            for record in scope.log_records
        ]
    names = []
    for resource in message.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                kind = metric.WhichOneof("data")
                for point in getattr(metric, kind).data_points if kind else ():
                    for attribute in point.attributes:
                        if attribute.key == ITEM_ATTRIBUTE:
                            names.append(attribute.value.string_value)
    return names


def deliveries(exports: Iterable[Any], signal: Signal, prefix: str) -> Counter[str]:
    """How many times the backend received each of this drill's names of ``signal``."""
    counts: Counter[str] = Counter()
    for export in exports:
        if export.signal is signal:
            counts.update(n for n in item_names(signal, export.message) if n.startswith(prefix))
    return counts


@dataclass(frozen=True)
class Tally:
    signal: Signal
    sent: int
    acknowledged: int
    delivered: int  # unique names received
    lost: tuple[str, ...]
    duplicates: int
    refused: int

    @classmethod
    def of(cls, signal: Signal, ledger: Ledger, received: Counter[str]) -> Tally:
        with ledger.lock:
            acknowledged, refused, sent = set(ledger.acknowledged), len(ledger.refused), ledger.sent
        return cls(
            signal=signal,
            sent=sent,
            acknowledged=len(acknowledged),
            delivered=len(received),
            lost=tuple(sorted(acknowledged - set(received))),
            duplicates=sum(received.values()) - len(received),
            refused=refused,
        )


@dataclass
class DrillReport:
    protocol: str
    tallies: list[Tally]
    events: Sequence[Event] = ()
    problems: list[str] = field(default_factory=list)  # the drill could not show its story

    @property
    def lost(self) -> int:
        return sum(len(t.lost) for t in self.tallies)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and not self.problems

    def render(self) -> str:
        headers = ("signal", "sent", "acknowledged", "delivered", "lost", "duplicates", "refused")
        rows = [headers] + [
            (
                t.signal.value,
                str(t.sent),
                str(t.acknowledged),
                str(t.delivered),
                str(len(t.lost)),
                str(t.duplicates),
                str(t.refused),
            )
            for t in self.tallies
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(headers))]
        lines = [f"Tally ({self.protocol} client; delivered = unique items the primary received)"]
        lines += [
            "  "
            + "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
            for row in rows
        ]
        for tally in self.tallies:
            if tally.lost:
                shown = ", ".join(tally.lost[:SHOWN_LOST])
                more = len(tally.lost) - SHOWN_LOST
                lines.append(
                    f"LOST {len(tally.lost)} acknowledged {tally.signal} items: {shown}"
                    + (f" and {more} more" if more > 0 else "")
                )
        lines += [f"PROBLEM: {problem}" for problem in self.problems]
        if self.ok:
            lines.append(
                "OK: every acknowledged item reached the primary "
                "(duplicates are allowed: OTLP delivery is at-least-once)"
            )
        return "\n".join(lines)
