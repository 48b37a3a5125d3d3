"""Header values: resolved from the environment as the collector expands them, kept in a
secret per exporter and in nothing else, refused by name (never by value) when they
cannot be a header, under secret names that must not collide."""

from __future__ import annotations

import json

import pytest

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


def test_no_header_value_is_in_the_chain_the_levels_the_notes_or_a_repr() -> None:
    translation = translate(SAMPLE, ENV)
    shown = " ".join(
        [translation.failover_json(), repr(translation), *translation.notes]
        + [secret.describe() for secret in translation.secrets]
    )
    assert API_TOKEN not in shown and BACKUP_TOKEN not in shown


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
