"""The drill's verdict: per signal, what the client sent and had acknowledged, against what
the primary received, counted by item name.

    lost        acknowledged names the primary never received (must be 0)
    duplicates  deliveries beyond the first of a name (allowed: OTLP is at-least-once)
    refused     names in exports that failed at the client (the gateway answered non-2xx)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from otlp_failover.signals import Signal
from otlp_failover_dev.commands.drill_watch import Event
from otlp_failover_dev.ledger import Ledger

SHOWN_LOST = 5  # lost names printed; the count says how many more


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
