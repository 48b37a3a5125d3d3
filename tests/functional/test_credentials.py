"""Credentials that rotate and secrets that fail, against moto and a backend that demands a key.

A rotated backend key is used at the first 401 (or within the headers TTL), with nothing
failed over or lost; a header secret that cannot be read fails only its level, never the
cold start; the ingest tokens outlive a Secrets Manager blip after their TTL. No secret
value shows in the logs or the output.
"""

from __future__ import annotations

import json
import logging
import socket
import time
import uuid
from collections.abc import Iterator

import pytest

from otlp_failover.codec import ExportBody, MediaType
from otlp_failover.runtime import Runtime
from otlp_failover.settings import environment as settings
from otlp_failover.settings.environment import Settings
from otlp_failover.signals import Signal
from otlp_failover_dev.chaos.proxy import Fault, FaultProxy
from otlp_failover_dev.local._payload import build_event
from otlp_failover_dev.local.aws import AwsEmulator
from otlp_failover_dev.local.backend import OtlpBackend
from tests.functional.gateway import SHORT_PROBE_INTERVAL, TOKEN, Gateway
from tests.functional.test_ingest import backup_lines, spans

KEY_1 = "Bearer key-1-5e1f0a"
KEY_2 = "Bearer key-2-c3d9b7"
SECRETS_MANAGER_ENDPOINT = "AWS_ENDPOINT_URL_SECRETS_MANAGER"  # botocore's per-service variable


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"  # moto keeps one state per process


def put(aws: AwsEmulator, secret: str, headers: dict[str, str]) -> None:
    """A rotation, as `aws secretsmanager put-secret-value` does it."""
    aws.secretsmanager().put_secret_value(SecretId=secret, SecretString=json.dumps(headers))


def no_secret_in(*texts: str) -> None:
    for text in texts:
        for value in (KEY_1, KEY_2, TOKEN):
            assert value.split()[-1] not in text


@pytest.fixture
def keyed_env(chain_env: dict[str, str], aws: AwsEmulator, backend: OtlpBackend) -> dict[str, str]:
    """The primary demands KEY_1, and its headers secret holds it."""
    backend.require_headers({"Authorization": KEY_1})
    secret = aws.create_headers_secret(unique("primary-headers"), {"Authorization": KEY_1})
    return {**chain_env, settings.PRIMARY_HEADERS_SECRET: secret}


def test_a_revoked_key_is_replaced_at_the_first_401_without_failing_over(
    keyed_env: dict[str, str],
    aws: AwsEmulator,
    backend: OtlpBackend,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    gateway = Gateway.build(keyed_env)
    body = spans().SerializeToString()
    assert gateway.send("/v1/traces", body).status == 200

    backend.require_headers({"Authorization": KEY_2})  # the backend revokes key 1 ...
    put(aws, keyed_env[settings.PRIMARY_HEADERS_SECRET], {"Authorization": KEY_2})  # ... rotated
    replies = [gateway.send("/v1/traces", body).status for _ in range(4)]

    assert replies == [200] * 4
    assert backend.unauthorized == 1  # one 401, then the re-read key from then on
    assert [e.headers["authorization"] for e in backend.exports] == [KEY_1] + [KEY_2] * 4
    state = gateway.runtime.store.read(Signal.TRACES)
    assert (state.level, state.failures) == (0, 0)
    assert backup_lines(aws, keyed_env[settings.BACKUP_BUCKET], Signal.TRACES) == []
    assert "retrying with re-read headers" in caplog.text
    no_secret_in(caplog.text, *capsys.readouterr())


def test_an_overlapping_rotation_is_picked_up_within_the_ttl_without_a_401(
    keyed_env: dict[str, str], aws: AwsEmulator, backend: OtlpBackend
) -> None:
    gateway = Gateway.build({**keyed_env, settings.HEADERS_CACHE_TTL: "0.5"})
    assert gateway.send("/v1/traces", spans().SerializeToString()).status == 200
    backend.require_headers({"Authorization": [KEY_1, KEY_2]})  # both valid for a while
    put(aws, keyed_env[settings.PRIMARY_HEADERS_SECRET], {"Authorization": KEY_2})
    time.sleep(0.6)

    assert gateway.send("/v1/traces", spans().SerializeToString()).status == 200
    assert backend.exports[-1].headers["authorization"] == KEY_2
    assert backend.unauthorized == 0


def test_after_an_outage_on_a_revoked_key_the_probe_and_drain_use_the_rotated_one(
    keyed_env: dict[str, str], aws: AwsEmulator, backend: OtlpBackend
) -> None:
    gateway = Gateway.build(keyed_env)
    # The probe and the drain run in their own functions, with their own cached headers;
    # the probe 1 s apart instead of 30, so its run's second probe comes in a second.
    operations = Runtime.build(Settings.from_environment({**keyed_env, **SHORT_PROBE_INTERVAL}))
    body = spans().SerializeToString()
    assert gateway.send("/v1/traces", body).status == 200
    probe_body = ExportBody(Signal.TRACES, MediaType.PROTOBUF, None, spans(), body)
    assert operations.levels[0].export(probe_body, time.monotonic() + 5).accepted

    backend.require_headers({"Authorization": KEY_2})  # revoked before the secret moved:
    for _ in range(3):  # the re-read finds the same key, the exports go to the backup
        assert gateway.send("/v1/traces", body).status == 200
    assert gateway.runtime.store.read(Signal.TRACES).level == 1

    put(aws, keyed_env[settings.PRIMARY_HEADERS_SECRET], {"Authorization": KEY_2})
    prober = operations.prober(lambda _: None)
    for _ in range(5):  # as many runs as the rules want probes in a row
        prober.run(budget=55)  # the function's budget; the run ends once level 0 is back
        if operations.store.read(Signal.TRACES).level == 0:
            break
    assert operations.store.read(Signal.TRACES).level == 0
    report = operations.drain_job().run(30)

    assert sum(t.lines for t in report.tallies) == 3  # every backed-up export reached the primary
    assert [e.headers["authorization"] for e in backend.exports][-1] == KEY_2
    assert backup_lines(aws, keyed_env[settings.BACKUP_BUCKET], Signal.TRACES) == []


def test_a_header_secret_that_does_not_exist_fails_only_the_primary_level(
    chain_env: dict[str, str],
    aws: AwsEmulator,
    backend: OtlpBackend,
    caplog: pytest.LogCaptureFixture,
) -> None:
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:no-such-headers-AbC123"
    gateway = Gateway.build({**chain_env, settings.PRIMARY_HEADERS_SECRET: missing})
    body = spans().SerializeToString()

    assert [gateway.send("/v1/traces", body).status for _ in range(3)] == [200] * 3
    assert backend.requests_seen == 0  # never sent without its headers
    assert len(backup_lines(aws, chain_env[settings.BACKUP_BUCKET], Signal.TRACES)) == 3
    assert (
        "headers unavailable: reading secret no-such-headers-AbC123 failed: "
        "ResourceNotFoundException" in caplog.text
    )
    assert gateway.runtime.store.read(Signal.TRACES).level == 1


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens there once closed


def test_secrets_manager_unreachable_at_cold_start_the_gateway_builds_and_s3_takes_it(
    chain_env: dict[str, str],
    aws: AwsEmulator,
    backend: OtlpBackend,
    closed_port: int,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = aws.create_headers_secret(unique("primary-headers"), {"Authorization": KEY_1})
    monkeypatch.setenv(SECRETS_MANAGER_ENDPOINT, f"http://127.0.0.1:{closed_port}")
    env = {k: v for k, v in chain_env.items() if k != settings.INGEST_TOKEN_SECRET}
    gateway = Gateway.build({**env, settings.PRIMARY_HEADERS_SECRET: secret, "AUTH_MODE": "iam"})

    event = build_event("POST", "/v1/traces", [("content-type", "application/x-protobuf")], b"")
    caller = {"iam": {"userArn": "arn:aws:iam::123456789012:role/collector"}}
    event["requestContext"]["authorizer"] = caller
    assert gateway.invoke(event).status == 200

    assert backend.requests_seen == 0
    assert len(backup_lines(aws, chain_env[settings.BACKUP_BUCKET], Signal.TRACES)) == 1
    assert "headers unavailable: reading secret primary-headers-" in caplog.text
    assert "failed: EndpointConnectionError" in caplog.text


@pytest.fixture
def secrets_proxy(aws: AwsEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """Secrets Manager reached through a fault proxy, for the handlers' clients only."""
    with FaultProxy("secretsmanager", upstream=aws.endpoint_url) as proxy:
        monkeypatch.setenv(SECRETS_MANAGER_ENDPOINT, proxy.url)
        yield proxy


def test_ingest_tokens_outlive_a_secrets_manager_blip_after_their_ttl(
    chain_env: dict[str, str],
    secrets_proxy: FaultProxy,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gateway = Gateway.build({**chain_env, settings.TOKEN_CACHE_TTL: "0.2"})
    body = spans().SerializeToString()
    assert gateway.send("/v1/traces", body).status == 200

    secrets_proxy.set(Fault("refuse"))
    time.sleep(0.3)  # the tokens are stale now, and Secrets Manager cannot be reached
    replies = [gateway.send("/v1/traces", body).status for _ in range(3)]
    wrong = gateway.send("/v1/traces", body, token="not-" + TOKEN).status

    assert replies == [200] * 3
    assert wrong == 401  # the last good tokens, not any token
    assert secrets_proxy.faulted >= 1
    assert "using the value read" in caplog.text
    no_secret_in(caplog.text, *capsys.readouterr())
