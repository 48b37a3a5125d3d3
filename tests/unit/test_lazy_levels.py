"""The composition root reads no secret at cold start: a header secret that cannot be read
fails the level that needs it, at its export, and nothing else."""

from __future__ import annotations

from typing import Any

from otlp_failover.backup.writer import BackupWriter
from otlp_failover.failover.outcomes import Outcome
from otlp_failover.runtime import Runtime
from otlp_failover.settings.environment import Settings
from tests.unit.fakes import export_body
from tests.unit.secret_fakes import FakeSecretsManager

PRIMARY_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:primary-headers-AbC123"
ENV = {
    "STATE_TABLE": "state",
    "BACKUP_BUCKET": "backup",
    "PRIMARY_ENDPOINT": "https://otlp.example.com",
    "PRIMARY_HEADERS_SECRET": PRIMARY_SECRET,
    "AUTH_MODE": "iam",
}


class FakeSession:
    """A boto3 session whose clients are fakes; none of them is called while building."""

    def __init__(self, secretsmanager: FakeSecretsManager) -> None:
        self.clients: dict[str, Any] = {"secretsmanager": secretsmanager}

    def client(self, service: str, **_: Any) -> Any:
        return self.clients.get(service, object())


def test_cold_start_reads_no_secret_and_the_unreadable_level_fails_alone() -> None:
    secrets = FakeSecretsManager()
    secrets.failing = "AccessDeniedException"

    runtime = Runtime.build(Settings.from_environment(ENV), session=FakeSession(secrets))
    assert secrets.reads == []

    primary, backup = runtime.levels
    result = primary.export(export_body(), deadline=float("inf"))
    assert result.outcome is Outcome.FAILED
    assert result.reason == (
        "headers unavailable: reading secret primary-headers-AbC123 failed: AccessDeniedException"
    )
    assert secrets.reads == [PRIMARY_SECRET]
    assert isinstance(backup.exporters[0], BackupWriter)  # built, and needs no secret
