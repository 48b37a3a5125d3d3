"""Exporters: one module per kind of destination, all behind ``Exporter.export``."""

from otlp_failover.exporters.base import Exporter, ExportResult, Outcome

__all__ = ["ExportResult", "Exporter", "Outcome"]
