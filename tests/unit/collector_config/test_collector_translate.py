"""A collector configuration translated: the README's file becomes three levels and two
secrets, the chain the functions run, and each exporter's and the connector's settings
carried over, noted as the client's concern, or refused (headers:
test_collector_headers.py; which pipelines make the levels: test_collector_levels.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from otlp_failover.settings.chain import OtlpHttpConfig
from otlp_failover.settings.environment import failover_config
from otlp_failover.signals import Signal
from otlp_failover_dev.collector_config import translate
from tests.unit.collector_config.collector_samples import (
    API_TOKEN,
    BACKUP_TOKEN,
    ENV,
    PRIMARY,
    SAMPLE,
    refused,
    sample,
    translated,
)


def test_the_readme_configuration_becomes_three_levels_with_two_secrets() -> None:
    translation = translate(SAMPLE, ENV)

    assert translation.failover_config == {
        "priority_levels": [
            [
                {
                    PRIMARY: {
                        "endpoint": "https://otlp.example.com",
                        "headers_secret": "otlp-failover/primary-headers",
                        "retry_on_failure": {"enabled": True, "max_elapsed_time": "30s"},
                    }
                }
            ],
            [
                {
                    "otlphttp/secondary": {
                        "endpoint": "https://otlp.dr.example.com",
                        "headers_secret": "otlp-failover/secondary-headers",
                    }
                }
            ],
            [{"s3/emergency": {}}],
        ],
        "max_retries": 3,
        "retry_interval": "30s",
        "retry_gap": "5s",
    }
    assert [level.pipelines for level in translation.levels] == [
        ("traces/primary",),
        ("traces/secondary",),
        ("traces/emergency",),
    ]
    primary, secondary = translation.secrets
    assert (primary.exporter, primary.name, primary.header_names) == (
        PRIMARY,
        "otlp-failover/primary-headers",
        ["x-api-token"],
    )
    assert json.loads(primary.secret_string()) == {"x-api-token": API_TOKEN}
    assert json.loads(secondary.secret_string()) == {"x-backup-token": BACKUP_TOKEN}
    assert secondary.describe() == "x-backup-token (from ${env:BACKUP_TOKEN})"


def test_the_chain_is_what_the_functions_run_with_the_stacks_bucket() -> None:
    translation = translate(SAMPLE, ENV)
    env = {"FAILOVER_CONFIG": translation.failover_json(), "BACKUP_BUCKET": "stack-backup"}
    chain = failover_config(env)

    primary = chain.priority_levels[0][0]
    assert isinstance(primary, OtlpHttpConfig)
    assert (primary.headers_secret, primary.retry.max_elapsed_time) == (
        "otlp-failover/primary-headers",
        30.0,
    )
    assert chain.backup is not None and chain.backup.bucket == "stack-backup"
    assert (chain.max_retries, chain.retry_interval, chain.retry_gap) == (3, 30.0, 5.0)


def test_signal_endpoints_timeout_and_retry_settings_carry_over() -> None:
    document = sample()
    document["exporters"][PRIMARY] = {
        "endpoint": "https://otlp.example.com",
        "traces_endpoint": "https://traces.example.com/in/traces",
        "logs_endpoint": "${LOGS_URL}",
        "timeout": "2s",
        "retry_on_failure": {
            "enabled": "${RETRY}",
            "initial_interval": "100ms",
            "max_interval": "1s",
            "max_elapsed_time": "3s",
        },
    }
    env = {**ENV, "LOGS_URL": "https://logs.example.com/v1/logs", "RETRY": "false"}
    chain = translated(document, env).chain()

    primary = chain.priority_levels[0][0]
    assert isinstance(primary, OtlpHttpConfig)
    assert primary.url(Signal.TRACES.path) == "https://traces.example.com/in/traces"
    assert primary.url(Signal.LOGS.path) == "https://logs.example.com/v1/logs"
    assert primary.url(Signal.METRICS.path) == "https://otlp.example.com/v1/metrics"
    assert (primary.timeout, primary.retry.enabled) == (2.0, False)
    assert (primary.retry.initial_interval, primary.retry.max_interval) == (0.1, 1.0)
    assert primary.retry.max_elapsed_time == 3.0
    assert primary.headers_secret is None  # no headers, no secret


def test_the_connector_settings_carry_over_and_say_what_differs() -> None:
    document = sample()
    connector = document["connectors"]["failover"]
    connector.update(
        {
            "max_retries": 0,
            "standard": {"retry_interval": "1m"},
            "strategy": "standard",
            "sending_queue": {"enabled": True},
        }
    )
    del connector["retry_gap"]
    translation = translated(document)
    settings = translation.failover_config
    assert (settings["max_retries"], settings["retry_interval"]) == (3, "1m")
    assert "retry_gap" not in settings  # the gateway's default, named in a note
    notes = "\n".join(translation.notes)
    assert "connectors.failover.max_retries: 0 (no limit in the collector) becomes 3" in notes
    assert "connectors.failover.sending_queue: not needed" in notes
    assert "connectors.failover: retry_gap not set: the gateway's 5s" in notes


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"endpoint": "ftp://otlp.example.com"}, "exporters.otlphttp/primary.endpoint"),
        ({"timeout": "soon"}, "exporters.otlphttp/primary.timeout"),
        (
            {"retry_on_failure": {"max_elapsed_time": "-1s"}},
            "exporters.otlphttp/primary.retry_on_failure.max_elapsed_time",
        ),
    ],
)
def test_the_gateways_own_checks_name_the_yaml_path(change: dict[str, Any], path: str) -> None:
    document = sample()
    document["exporters"][PRIMARY].update(change)
    assert refused(document).path == path


def test_a_retry_interval_too_short_for_the_gap_is_named_on_the_connector() -> None:
    document = sample()
    document["connectors"]["failover"].update({"retry_interval": "5s", "retry_gap": "5s"})
    error = refused(document)
    assert error.path == "connectors.failover.retry_interval"
    assert "retry_gap" in error.problem


@pytest.mark.parametrize(
    ("setting", "outcome"),
    [
        ({"tls": {"cert_file": "/etc/client.pem"}}, "exporters.otlphttp/primary.tls.cert_file"),
        ({"auth": {"authenticator": "bearertokenauth"}}, "exporters.otlphttp/primary.auth"),
    ],
)
def test_what_the_gateway_cannot_do_for_a_backend_is_refused(
    setting: dict[str, Any], outcome: str
) -> None:
    document = sample()
    document["exporters"][PRIMARY].update(setting)
    assert refused(document).path == outcome


def test_client_side_settings_are_noted_not_translated() -> None:
    document = sample()
    document["exporters"][PRIMARY].update(
        {
            "compression": "zstd",
            "encoding": "json",
            "sending_queue": {"queue_size": 1000},
            "tls": {"insecure_skip_verify": True},
            "read_buffer_size": 123,
            "future_option": 1,
        }
    )
    notes = "\n".join(translated(document).notes)
    path = "exporters.otlphttp/primary"
    assert f"{path}.compression: ignored: the gateway forwards each export as" in notes
    assert f"{path}.encoding: ignored" in notes
    assert f"{path}.sending_queue: not needed: the gateway keeps no queue" in notes
    assert f"{path}.tls: ignored" in notes
    assert f"{path}: read_buffer_size ignored" in notes
    assert f"{path}.future_option: not translated" in notes


def test_receivers_and_processors_are_the_clients_concern() -> None:
    notes = "\n".join(translate(SAMPLE, ENV).notes)
    assert "service.pipelines.traces: receivers otlp stay with the client" in notes
    assert "service.pipelines.traces/primary.processors: batch not applied" in notes
