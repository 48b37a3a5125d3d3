"""What became of every item in one scenario, and the table of all scenarios.

Counts are of items (spans, log records, metric data points), each uniquely named:

    sent          items the SDK clients produced
    acknowledged  items in exports the gateway answered 200
    delivered     unique items the primary or the secondary received, directly or drained
    lost          acknowledged items never delivered (must be 0)
    duplicates    deliveries beyond the first of an item (allowed: OTLP is at-least-once)
    refused(503)  items in exports the SDK gave up on: the gateway answered 503
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from otlp_failover_dev.ledger import Ledger

SHOWN_LOST = 5
HEADERS = (
    "scenario",
    "sent",
    "acknowledged",
    "delivered",
    "lost",
    "duplicates",
    "refused(503)",
    "notes",
)


@dataclass(frozen=True)
class Row:
    scenario: str
    sent: int
    acknowledged: int
    delivered: int
    lost: tuple[str, ...]
    duplicates: int
    refused: int
    notes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # the scenario's own checks that failed
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.lost and not self.problems

    @classmethod
    def count(
        cls,
        scenario: str,
        ledgers: Iterable[Ledger],
        received: Mapping[str, int],
        notes: Sequence[str] = (),
        problems: Sequence[str] = (),
    ) -> Row:
        """``received``: how many times the backends got each item name."""
        sent, acknowledged, refused = 0, set(), 0
        for ledger in ledgers:
            with ledger.lock:
                sent += ledger.sent
                acknowledged.update(ledger.acknowledged)
                refused += len(ledger.refused)
        delivered = {name for name, times in received.items() if times}
        return cls(
            scenario=scenario,
            sent=sent,
            acknowledged=len(acknowledged),
            delivered=len(delivered),
            lost=tuple(sorted(acknowledged - delivered)),
            duplicates=sum(received.values()) - len(delivered),
            refused=refused,
            notes=tuple(notes),
            problems=tuple(problems),
        )


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    def render(self) -> str:
        cells = [HEADERS] + [
            (
                row.scenario,
                str(row.sent),
                str(row.acknowledged),
                str(row.delivered),
                str(len(row.lost)),
                str(row.duplicates),
                str(row.refused),
                "; ".join(row.notes),
            )
            for row in self.rows
        ]
        widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS) - 1)]
        lines = []
        for line in cells:
            first = [line[0].ljust(widths[0])]
            numbers = [
                cell.rjust(width) for cell, width in zip(line[1:-1], widths[1:], strict=True)
            ]
            lines.append(" | ".join([*first, *numbers, line[-1]]).rstrip())
        lines.insert(1, "-+-".join("-" * w for w in widths) + "-+-" + "-" * 5)
        return "\n".join(lines + self._verdict())

    def _verdict(self) -> list[str]:
        lines = [""]
        for row in self.rows:
            if row.lost:
                shown = ", ".join(row.lost[:SHOWN_LOST])
                more = len(row.lost) - SHOWN_LOST
                extra = f" and {more} more" if more > 0 else ""
                lines.append(f"LOST {row.scenario}: {len(row.lost)} acknowledged: {shown}{extra}")
            lines += [f"FAILED {row.scenario}: {problem}" for problem in row.problems]
        if self.ok:
            lines.append(
                f"OK: {len(self.rows)} scenarios, no acknowledged item lost, every check held"
            )
        return lines
