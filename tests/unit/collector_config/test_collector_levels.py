"""Which exporters make the levels: the failover connector's pipelines, one kind of
exporter per level that delivers, the backup last and alone, one chain for every
signal, and every refusal named by its YAML path."""

from __future__ import annotations

from typing import Any

import pytest

from otlp_failover_dev.collector_config import CollectorConfigError, translate
from tests.unit.collector_config.collector_samples import (
    ENV,
    PRIMARY,
    refused,
    sample,
    translated,
    with_metrics,
)


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


def test_another_strategy_is_refused() -> None:
    document = sample()
    document["connectors"]["failover"]["strategy"] = "progressive"
    assert refused(document).path == "connectors.failover.strategy"


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


def test_one_exporter_on_two_levels_is_refused() -> None:
    document = sample()
    document["service"]["pipelines"]["traces/secondary"]["exporters"] = [PRIMARY]
    error = refused(document)
    assert error.path == "service.pipelines.traces/secondary.exporters[0]"
    assert "on another level" in error.problem


def test_not_yaml_is_refused_with_its_position() -> None:
    with pytest.raises(CollectorConfigError, match=r"not valid YAML \(line \d+, column \d+\)"):
        translate("connectors:\n  failover: [unclosed\n", ENV)
