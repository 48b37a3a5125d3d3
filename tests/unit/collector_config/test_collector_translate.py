"""A collector configuration translated: the failover connector's levels become the chain,
otlphttp exporters keep their settings with their headers in a secret, a file exporter
becomes the S3 backup, and everything else is mapped, noted or refused by its YAML path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from otlp_failover.settings.chain import OtlpHttpConfig
from otlp_failover.settings.environment import failover_config
from otlp_failover.signals import Signal
from otlp_failover_dev.collector_config import CollectorConfigError, translate
from tests.unit.collector_config.collector_samples import (
    API_TOKEN,
    BACKUP_TOKEN,
    ENV,
    SAMPLE,
    sample,
    translated,
)

PRIMARY = "otlphttp/primary"


def refused(document: dict[str, Any], env: dict[str, str] | None = None) -> CollectorConfigError:
    with pytest.raises(CollectorConfigError) as caught:
        translated(document, env)
    return caught.value


def otlp_settings(document: dict[str, Any], level: int = 0) -> dict[str, Any]:
    entry = translated(document).failover_config["priority_levels"][level][0]
    settings: dict[str, Any] = next(iter(entry.values()))
    return settings


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


def test_no_header_value_is_in_the_chain_the_levels_the_notes_or_a_repr() -> None:
    translation = translate(SAMPLE, ENV)
    shown = " ".join(
        [translation.failover_json(), repr(translation), *translation.notes]
        + [secret.describe() for secret in translation.secrets]
    )
    assert API_TOKEN not in shown and BACKUP_TOKEN not in shown


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


def test_a_literal_header_value_goes_to_the_secret_too() -> None:
    document = sample()
    document["exporters"][PRIMARY]["headers"] = {"Authorization": "Bearer literal-c2f81"}
    translation = translated(document)
    secret = translation.secret(PRIMARY)
    assert secret is not None
    assert json.loads(secret.secret_string()) == {"Authorization": "Bearer literal-c2f81"}
    assert secret.describe() == "Authorization (literal)"
    assert "literal-c2f81" not in translation.failover_json()


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [
        ("${TOKEN:-fallback-1}", {}, "fallback-1"),
        ("${env:TOKEN:-fallback-1}", {"TOKEN": "from-env"}, "from-env"),
        ("Bearer ${env:TOKEN}", {"TOKEN": "abc"}, "Bearer abc"),
        ("pa$$word", {}, "pa$word"),
        ("$${TOKEN}", {"TOKEN": "abc"}, "${TOKEN}"),
        ("${1}", {}, "${1}"),  # not a variable name: the collector keeps it as it is
    ],
)
def test_environment_references_as_the_collector_expands_them(
    value: str, env: dict[str, str], expected: str
) -> None:
    document = sample()
    document["exporters"][PRIMARY]["headers"] = {"x-api-token": value}
    secret = translated(document, {**ENV, **env}).secret(PRIMARY)
    assert secret is not None and json.loads(secret.secret_string()) == {"x-api-token": expected}


def test_an_unset_variable_is_named_with_its_exporter() -> None:
    error = refused(sample(), {"API_TOKEN": API_TOKEN})
    assert error.path == "exporters.otlphttp/secondary.headers.x-backup-token"
    assert "environment variable BACKUP_TOKEN is not set" in str(error)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("${file:/run/secrets/token}", "only environment references"),
        ("${EMPTY}", "is empty"),
        ("${TWO_LINES}", "must be one line"),
    ],
)
def test_a_header_that_cannot_be_a_header_is_refused_without_its_value(
    value: str, problem: str
) -> None:
    document = sample()
    document["exporters"][PRIMARY]["headers"] = {"x-api-token": value}
    env = {**ENV, "EMPTY": "", "TWO_LINES": "s3cr3t-a\r\nX-Evil: s3cr3t-b"}
    error = refused(document, env)
    assert error.path == "exporters.otlphttp/primary.headers.x-api-token"
    assert problem in str(error)
    assert "s3cr3t" not in str(error)


def test_a_grpc_exporter_is_refused_with_the_otlphttp_way() -> None:
    document = sample()
    document["exporters"]["otlp/primary"] = {"endpoint": "otlp.example.com:4317"}
    document["service"]["pipelines"]["traces/primary"]["exporters"] = ["otlp/primary"]
    error = refused(document)
    assert error.path == "exporters.otlp/primary"
    assert "gRPC" in error.problem and "otlphttp" in error.problem and "4318" in error.problem


def test_an_unknown_exporter_type_is_refused() -> None:
    document = sample()
    document["exporters"]["kafka/queue"] = {"brokers": ["k:9092"]}
    document["service"]["pipelines"]["traces/secondary"]["exporters"] = ["kafka/queue"]
    error = refused(document)
    assert error.path == "exporters.kafka/queue"
    assert "'kafka' cannot be translated" in error.problem


def test_an_exporter_a_pipeline_names_must_be_defined() -> None:
    document = sample()
    document["service"]["pipelines"]["traces/primary"]["exporters"] = ["otlphttp/nowhere"]
    error = refused(document)
    assert error.path == "service.pipelines.traces/primary.exporters[0]"


def test_a_debug_exporter_is_left_out_but_a_level_needs_one_that_delivers() -> None:
    document = sample()
    document["exporters"]["debug"] = {"verbosity": "detailed"}
    pipelines = document["service"]["pipelines"]
    pipelines["traces/primary"]["exporters"] = [PRIMARY, "debug"]
    translation = translated(document)
    assert translation.levels[0].exporters == (PRIMARY,)
    assert any(n.startswith("exporters.debug: left out") for n in translation.notes)

    pipelines["traces/secondary"]["exporters"] = ["debug"]
    assert refused(document).path == "connectors.failover.priority_levels[1]"


def test_the_file_exporter_becomes_the_s3_level_and_says_what_it_ignores() -> None:
    document = sample()
    document["exporters"]["file/emergency"].update(
        {"rotation": {"max_megabytes": 10}, "format": "proto"}
    )
    translation = translated(document)
    assert translation.failover_config["priority_levels"][2] == [{"s3/emergency": {}}]
    (note,) = [n for n in translation.notes if n.startswith("exporters.file/emergency")]
    assert "format, path, rotation ignored" in note and "OTLP/JSON" in note


def test_the_backup_must_be_last_and_alone() -> None:
    document = sample()
    levels = document["connectors"]["failover"]["priority_levels"]
    levels[1], levels[2] = levels[2], levels[1]
    assert refused(document).path == "service.pipelines.traces/emergency.exporters[0]"

    document = sample()
    document["exporters"]["file/copy"] = {"path": "/tmp/copy.jsonl"}
    document["service"]["pipelines"]["traces/emergency"]["exporters"].append("file/copy")
    error = refused(document)
    assert error.path == "exporters.file/emergency" and "one S3 backup" in error.problem


def test_a_level_of_several_pipelines_takes_all_their_exporters() -> None:
    document = sample()
    document["exporters"]["otlphttp/audit"] = {"endpoint": "https://audit.example.com"}
    document["service"]["pipelines"]["traces/audit"] = {
        "receivers": ["failover"],
        "exporters": ["otlphttp/audit"],
    }
    document["connectors"]["failover"]["priority_levels"][0].append("traces/audit")
    translation = translated(document)
    assert translation.levels[0].exporters == (PRIMARY, "otlphttp/audit")
    assert translation.levels[0].pipelines == ("traces/primary", "traces/audit")


def with_metrics(document: dict[str, Any], last: str = "file/emergency") -> dict[str, Any]:
    """A second connector, failover/metrics, routing metrics pipelines."""
    pipelines = document["service"]["pipelines"]
    pipelines["metrics"] = {"receivers": ["otlp"], "exporters": ["failover/metrics"]}
    levels = []
    for name, exporter in (
        ("primary", PRIMARY),
        ("secondary", "otlphttp/secondary"),
        ("emergency", last),
    ):
        pipelines[f"metrics/{name}"] = {"receivers": ["failover/metrics"], "exporters": [exporter]}
        levels.append([f"metrics/{name}"])
    settings = {
        k: v for k, v in document["connectors"]["failover"].items() if k != "priority_levels"
    }
    document["connectors"]["failover/metrics"] = {"priority_levels": levels, **settings}
    return document


def test_signals_that_share_the_chain_become_one_chain() -> None:
    translation = translated(with_metrics(sample()))
    assert [level.exporters for level in translation.levels] == [
        (PRIMARY,),
        ("otlphttp/secondary",),
        ("s3/emergency",),
    ]
    assert not any("no failover connector routes metrics" in n for n in translation.notes)
    assert any("no failover connector routes logs" in n for n in translation.notes)


def test_signals_with_different_chains_are_refused_naming_the_pipelines() -> None:
    document = with_metrics(sample(), last="otlphttp/secondary")
    error = refused(document)
    assert error.path == "connectors.failover/metrics"
    assert "metrics/primary -> metrics/secondary -> metrics/emergency" in error.problem
    assert "traces/primary -> traces/secondary -> traces/emergency" in error.problem
    assert "one chain for every signal" in error.problem


def test_signals_with_different_failover_settings_are_refused() -> None:
    document = with_metrics(sample())
    document["connectors"]["failover/metrics"]["retry_gap"] = "1s"
    assert refused(document).path == "connectors.failover/metrics.retry_gap"


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


def test_another_strategy_is_refused() -> None:
    document = sample()
    document["connectors"]["failover"]["strategy"] = "progressive"
    assert refused(document).path == "connectors.failover.strategy"


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


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"connectors": {}}, "connectors"),
        ({"connectors": {"failover": {"retry_gap": "1s"}}}, "connectors.failover.priority_levels"),
        (
            {"connectors": {"failover": {"priority_levels": [["traces/nowhere"]]}}},
            "connectors.failover.priority_levels[0][0]",
        ),
        (
            {"connectors": {"failover": {"priority_levels": [["profiles/primary"]]}}},
            "connectors.failover.priority_levels[0][0]",
        ),
    ],
)
def test_a_missing_or_broken_connector_is_named(change: dict[str, Any], path: str) -> None:
    document = {**sample(), **change}
    document["service"]["pipelines"]["profiles/primary"] = {
        "receivers": ["failover"],
        "exporters": [PRIMARY],
    }
    assert refused(document).path == path


def test_a_level_pipeline_must_be_fed_by_the_connector() -> None:
    document = sample()
    document["service"]["pipelines"]["traces/secondary"]["receivers"] = ["otlp"]
    assert refused(document).path == "service.pipelines.traces/secondary.receivers"


def test_one_signal_in_one_connector() -> None:
    document = sample()
    document["service"]["pipelines"]["metrics/dr"] = {
        "receivers": ["failover"],
        "exporters": ["otlphttp/secondary"],
    }
    document["connectors"]["failover"]["priority_levels"][1].append("metrics/dr")
    error = refused(document)
    assert error.path == "connectors.failover.priority_levels[1][1]"
    assert "routes one signal" in error.problem


def test_secret_names_follow_the_prefix_and_must_not_collide() -> None:
    translation = translate(SAMPLE, ENV, secret_prefix="prod/otel/")
    assert [s.name for s in translation.secrets] == [
        "prod/otel/primary-headers",
        "prod/otel/secondary-headers",
    ]
    document = sample()
    exporters, pipelines = document["exporters"], document["service"]["pipelines"]
    exporters["otlphttp/dr:eu"] = exporters.pop("otlphttp/secondary")
    exporters["otlphttp/dr-eu"] = {"endpoint": "https://eu.example.com", "headers": {"k": "v"}}
    pipelines["traces/secondary"]["exporters"] = ["otlphttp/dr:eu", "otlphttp/dr-eu"]
    error = refused(document)
    assert error.path == "exporters.otlphttp/dr-eu.headers"
    assert "otlp-failover/dr-eu-headers" in error.problem


def test_one_exporter_on_two_levels_is_refused() -> None:
    document = sample()
    document["service"]["pipelines"]["traces/secondary"]["exporters"] = [PRIMARY]
    error = refused(document)
    assert error.path == "service.pipelines.traces/secondary.exporters[0]"
    assert "on another level" in error.problem


def test_not_yaml_is_refused_with_its_position() -> None:
    with pytest.raises(CollectorConfigError, match=r"not valid YAML \(line \d+, column \d+\)"):
        translate("connectors:\n  failover: [unclosed\n", ENV)
