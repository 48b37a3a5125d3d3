"""Exporters to OTLP backends; each implements ``failover.ports.Exporter``.

The backup level's exporter is ``backup.writer.BackupWriter``, beside the rest of the backup.
"""
