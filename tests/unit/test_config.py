"""Configuration: defaults, the simple environment chain, and errors that name the field."""

from __future__ import annotations

from typing import Any

import pytest

from otlp_failover.errors import ConfigError
from otlp_failover.settings.chain import FailoverConfig, OtlpHttpConfig, S3Config
from otlp_failover.settings.durations import format_duration, parse_duration
from otlp_failover.settings.environment import Settings, failover_config

PRIMARY = {"otlphttp/primary": {"endpoint": "https://otlp.example.com"}}
BACKUP = {"s3/backup": {"bucket": "b"}}


def test_defaults_are_the_collectors() -> None:
    config = FailoverConfig.from_mapping({"priority_levels": [[PRIMARY], [BACKUP]]})
    assert (config.max_retries, config.retry_interval, config.retry_gap) == (3, 30.0, 5.0)
    assert config.level_count == 2
    assert config.backup == S3Config(name="s3/backup", bucket="b", prefix="backup")
    assert config.otlp_levels == [0]


def test_a_recovery_needs_two_probes_in_a_row_of_an_empty_request_by_default() -> None:
    config = FailoverConfig.from_mapping({"priority_levels": [[PRIMARY], [BACKUP]]})
    assert (config.probe_successes, config.probe_request) == (2, "empty")
    canary = FailoverConfig.from_mapping(
        {"priority_levels": [[PRIMARY]], "probe_successes": 1, "probe_request": "Canary"}
    )
    assert (canary.probe_successes, canary.probe_request) == (1, "canary")


def test_the_environment_sets_the_recovery_check() -> None:
    env = {"STATE_TABLE": "t", "PRIMARY_ENDPOINT": "https://p", "PROBE_SUCCESSES": "4"}
    settings = Settings.from_environment({**env, "PROBE_REQUEST": "canary"})
    assert (settings.failover.probe_successes, settings.failover.probe_request) == (4, "canary")
    with pytest.raises(ConfigError, match="probe_successes"):
        Settings.from_environment({**env, "PROBE_SUCCESSES": "-1"})


@pytest.mark.parametrize(
    ("levels", "gap", "field"),
    [
        (3, "35s", None),  # two probes of 5 s and one gap: 45 s, the whole pass budget
        (3, "36s", "retry_gap"),
        (9, "0s", None),  # eight probes of 5 s
        (11, "0s", "priority_levels"),  # ten probes of 5 s do not fit whatever the gap
    ],
)
def test_one_probe_pass_over_every_level_must_fit_a_probe_run(
    levels: int, gap: str, field: str | None
) -> None:
    chain = [[{f"otlphttp/l{i}": {"endpoint": f"http://l{i}"}}] for i in range(levels)]
    raw = {"priority_levels": chain, "retry_interval": "10m", "retry_gap": gap}
    if field is None:
        assert FailoverConfig.from_mapping(raw).level_count == levels
        return
    with pytest.raises(ConfigError) as caught:
        FailoverConfig.from_mapping(raw)
    assert caught.value.field == field and "probe pass" in caught.value.problem


def test_a_level_can_hold_several_exporters() -> None:
    other = {"otlphttp/other": {"endpoint": "http://127.0.0.1:1"}}
    config = FailoverConfig.from_mapping({"priority_levels": [[PRIMARY, other], [BACKUP]]})
    assert [e.name for e in config.priority_levels[0]] == ["otlphttp/primary", "otlphttp/other"]


def test_durations_and_retry_settings_are_parsed() -> None:
    exporter = {
        "otlphttp": {
            "endpoint": "http://x:4318/",
            "timeout": "2500ms",
            "retry_on_failure": {"max_elapsed_time": "1m", "enabled": False},
        }
    }
    config = FailoverConfig.from_mapping(
        {"priority_levels": [[exporter]], "retry_interval": "2s", "retry_gap": "0s"}
    )
    primary = config.priority_levels[0][0]
    assert isinstance(primary, OtlpHttpConfig)
    assert primary.timeout == 2.5
    assert primary.retry.max_elapsed_time == 60.0 and not primary.retry.enabled
    assert primary.url("/v1/traces") == "http://x:4318/v1/traces"
    assert (config.retry_interval, config.retry_gap) == (2.0, 0.0)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({}, "priority_levels"),
        ({"priority_levels": []}, "priority_levels"),
        ({"priority_levels": [[]]}, "priority_levels[0]"),
        ({"priority_levels": [[{"kafka": {}}]]}, "priority_levels[0][0]"),
        ({"priority_levels": [[{"otlphttp": {}}]]}, "priority_levels[0][0].otlphttp.endpoint"),
        (
            {"priority_levels": [[{"otlphttp": {"endpoint": "ftp://x"}}]]},
            "priority_levels[0][0].otlphttp.endpoint",
        ),
        (
            {"priority_levels": [[{"otlphttp": {"endpoint": "https://u:p@x"}}]]},
            "priority_levels[0][0].otlphttp.endpoint",
        ),
        (
            {"priority_levels": [[{"otlphttp": {"endpoint": "http://x", "timeout": "soon"}}]]},
            "priority_levels[0][0].otlphttp.timeout",
        ),
        (
            {"priority_levels": [[{"otlphttp": {"endpoint": "http://x", "colour": 1}}]]},
            "priority_levels[0][0].otlphttp.colour",
        ),
        ({"priority_levels": [[BACKUP], [PRIMARY]]}, "priority_levels[0]"),
        ({"priority_levels": [[{"s3": {}}]]}, "priority_levels[0][0].s3.bucket"),
        ({"priority_levels": [[PRIMARY], [PRIMARY]]}, "priority_levels[1]"),
        ({"priority_levels": [[PRIMARY]], "max_retries": 0}, "max_retries"),
        ({"priority_levels": [[PRIMARY]], "max_retries": "three"}, "max_retries"),
        ({"priority_levels": [[PRIMARY]], "max_retries": True}, "max_retries"),
        ({"priority_levels": [[PRIMARY]], "retry_interval": "0s"}, "retry_interval"),
        ({"priority_levels": [[PRIMARY]], "retry_gap": "-1s"}, "retry_gap"),
        ({"priority_levels": [[PRIMARY]], "exporters": {}}, "exporters"),
        ({"priority_levels": [[PRIMARY]], "probe_successes": 0}, "probe_successes"),
        ({"priority_levels": [[PRIMARY]], "probe_successes": "two"}, "probe_successes"),
        ({"priority_levels": [[PRIMARY]], "probe_request": "ping"}, "probe_request"),
        ({"priority_levels": [[PRIMARY]], "probe_request": 1}, "probe_request"),
    ],
)
def test_bad_configuration_names_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        FailoverConfig.from_mapping(raw)
    assert caught.value.field == field
    assert field in str(caught.value)


def test_environment_builds_primary_secondary_backup_chain() -> None:
    env = {
        "STATE_TABLE": "t",
        "PRIMARY_ENDPOINT": "https://p",
        "PRIMARY_HEADERS_SECRET": "arn:aws:secretsmanager:us-east-1:1:secret:p",
        "SECONDARY_ENDPOINT": "https://s",
        "BACKUP_BUCKET": "bucket",
        "MAX_RETRIES": "5",
        "RETRY_INTERVAL": "2s",
        "RETRY_GAP": "500ms",
    }
    settings = Settings.from_environment(env)
    names = [[e.name for e in level] for level in settings.failover.priority_levels]
    assert names == [["otlphttp/primary"], ["otlphttp/secondary"], ["s3/backup"]]
    primary = settings.failover.priority_levels[0][0]
    assert isinstance(primary, OtlpHttpConfig) and primary.headers_secret is not None
    assert settings.failover.max_retries == 5 and settings.failover.retry_interval == 2.0


@pytest.mark.parametrize(
    ("interval", "gap", "levels", "valid"),
    [
        ("30s", "5s", 3, True),  # the defaults: 5s x 2 levels above the last < 30s
        ("10s", "5s", 3, False),  # a pass over two levels takes the whole interval
        ("11s", "5s", 3, True),
        ("5s", "5s", 1, True),  # one level: nothing above it to probe
        ("2s", "5s", 2, False),
    ],
)
def test_retry_interval_must_exceed_retry_gap_times_the_levels_above_the_last(
    interval: str, gap: str, levels: int, valid: bool
) -> None:
    chain = [[{f"otlphttp/l{i}": {"endpoint": f"http://l{i}"}}] for i in range(levels)]
    raw = {"priority_levels": chain, "retry_interval": interval, "retry_gap": gap}
    if valid:
        assert FailoverConfig.from_mapping(raw).retry_interval == parse_duration(interval)
        return
    with pytest.raises(ConfigError) as caught:
        FailoverConfig.from_mapping(raw)
    assert caught.value.field == "retry_interval"
    assert "retry_gap" in caught.value.problem  # both fields are named


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"AUTH_MODE": "token"}, "INGEST_TOKEN_SECRET"),
        ({}, "INGEST_TOKEN_SECRET"),  # token mode is the default
    ],
)
def test_the_ingest_needs_a_token_secret_unless_iam(env: dict[str, str], problem: str) -> None:
    settings = Settings.from_environment(
        {"STATE_TABLE": "t", "PRIMARY_ENDPOINT": "http://p", **env}
    )
    with pytest.raises(ConfigError) as caught:
        settings.ingest_token()
    assert caught.value.field == problem


def test_iam_mode_needs_no_token_secret_and_token_mode_returns_it() -> None:
    base = {"STATE_TABLE": "t", "PRIMARY_ENDPOINT": "http://p"}
    assert Settings.from_environment({**base, "AUTH_MODE": "iam"}).ingest_token() is None
    with_token = Settings.from_environment({**base, "INGEST_TOKEN_SECRET": "tokens"})
    assert with_token.ingest_token() == "tokens"


def test_environment_json_config_wins_for_n_levels() -> None:
    levels = [[{f"otlphttp/l{i}": {"endpoint": f"http://l{i}"}}] for i in range(4)]
    raw = '{"priority_levels": ' + str(levels).replace("'", '"') + "}"
    assert failover_config({"FAILOVER_CONFIG": raw}).level_count == 4


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({}, "STATE_TABLE"),
        ({"STATE_TABLE": "t"}, "PRIMARY_ENDPOINT"),
        ({"STATE_TABLE": "t", "FAILOVER_CONFIG": "{nope"}, "FAILOVER_CONFIG"),
        ({"STATE_TABLE": "t", "PRIMARY_ENDPOINT": "http://p", "MAX_RETRIES": "x"}, "max_retries"),
        (
            {"STATE_TABLE": "t", "PRIMARY_ENDPOINT": "http://p", "STATE_CACHE_TTL": "soon"},
            "STATE_CACHE_TTL",
        ),
    ],
)
def test_bad_environment_names_the_variable(env: dict[str, str], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_environment(env)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("2m", 120), ("500ms", 0.5), ("1m30s", 90), ("1h", 3600), ("7", 7), (3, 3)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "s", "5x", "1s2", "-1s", "s5", True, -2])
def test_bad_durations(text: Any) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration_round_trips() -> None:
    for seconds in (0.25, 2, 30, 120):
        assert parse_duration(format_duration(seconds)) == seconds
