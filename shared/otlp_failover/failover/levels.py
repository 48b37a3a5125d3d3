"""A priority level: one or more exporters that must all accept an export."""

from __future__ import annotations

from dataclasses import dataclass

from otlp_failover.codec import ExportBody
from otlp_failover.failover.outcomes import ExportResult
from otlp_failover.failover.ports import Exporter


@dataclass(frozen=True)
class Level:
    index: int
    exporters: tuple[Exporter, ...]

    @property
    def name(self) -> str:
        return "+".join(exporter.name for exporter in self.exporters)

    def export(self, body: ExportBody, deadline: float, *, retry: bool = True) -> ExportResult:
        """Accepted only when every exporter accepts; the first exporter's answer is kept."""
        first: ExportResult | None = None
        for exporter in self.exporters:
            result = exporter.export(body, deadline, retry=retry)
            if not result.accepted:
                return result
            first = first or result
        assert first is not None  # a level has at least one exporter (config validates it)
        return first
