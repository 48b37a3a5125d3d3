"""Functional tier: real servers on 127.0.0.1 free ports (moto's, local OTLP backends).

``aws`` is one moto server for the session, with the environment set so that any boto3
client (the handlers' too) reaches it; ``state_table`` and ``backup_bucket`` are fresh,
uniquely named resources per test, created as template.yaml declares them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from otlp_failover.settings import environment as settings
from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.backend import OtlpBackend
from otlp_failover_dev.local.template import Template
from tests.functional.gateway import TOKEN, Gateway


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.functional)


@pytest.fixture(scope="session")
def aws(repo_root: Path) -> Iterator[AwsEmulator]:
    template = Template.load(repo_root / "template.yaml")
    with AwsEmulator(template=template) as emulator, pytest.MonkeyPatch.context() as env:
        for name, value in emulator.environment().items():
            env.setenv(name, value)
        yield emulator


@pytest.fixture
def state_table(aws: AwsEmulator) -> str:
    return aws.create_state_table(f"state-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def backup_bucket(aws: AwsEmulator) -> str:
    return aws.create_backup_bucket(f"backup-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def backend() -> Iterator[OtlpBackend]:
    with OtlpBackend() as started:
        yield started


@pytest.fixture
def backend_factory() -> Iterator[Callable[..., OtlpBackend]]:
    """``backend_factory(**OtlpBackend kwargs)`` starts one more backend; all stop after."""
    started: list[OtlpBackend] = []

    def make(**kwargs: Any) -> OtlpBackend:
        backend = OtlpBackend(**kwargs).start()
        started.append(backend)
        return backend

    yield make
    for backend in started:
        backend.stop()


@pytest.fixture
def token_secret(aws: AwsEmulator) -> str:
    return aws.create_token_secret(f"token-{uuid.uuid4().hex[:12]}", [TOKEN])


@pytest.fixture
def chain_env(
    state_table: str, backup_bucket: str, token_secret: str, backend: OtlpBackend
) -> dict[str, str]:
    """The environment of a primary -> S3 chain with fast timeouts, as the template sets it."""
    return {
        settings.STATE_TABLE: state_table,
        settings.BACKUP_BUCKET: backup_bucket,
        settings.PRIMARY_ENDPOINT: backend.url,
        settings.INGEST_TOKEN_SECRET: token_secret,
        settings.MAX_RETRIES: "3",
        settings.EXPORT_TIMEOUT: "1s",
        settings.EXPORT_RETRY_BUDGET: "300ms",
    }


@pytest.fixture
def gateway(chain_env: dict[str, str]) -> Gateway:
    return Gateway.build(chain_env)
