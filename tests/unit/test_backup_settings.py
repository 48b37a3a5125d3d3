"""The backup's shards and prefix, and the drain's concurrency: settings, template, alarm."""

from __future__ import annotations

import re
from typing import Any

import pytest

from otlp_failover.errors import ConfigError
from otlp_failover.metrics import DEAD_LETTERED
from otlp_failover.settings.chain import DEFAULT_BACKUP_SHARDS, FailoverConfig
from otlp_failover.settings.drain_budget import check_drain_budget
from otlp_failover.settings.environment import BACKUP_SHARDS, DRAIN_CONCURRENCY, Settings

BASE = {"STATE_TABLE": "t", "PRIMARY_ENDPOINT": "https://otlp.example.com", "BACKUP_BUCKET": "b"}


def chain(**s3: object) -> FailoverConfig:
    levels = [[{"otlphttp/p": {"endpoint": "https://x"}}], [{"s3/backup": {"bucket": "b", **s3}}]]
    return FailoverConfig.from_mapping({"priority_levels": levels})


@pytest.mark.parametrize("prefix", ["processed", "processed/team", "deadletter", "/deadletter/x"])
def test_a_prefix_the_lifecycle_rules_expire_is_refused_naming_the_field(prefix: str) -> None:
    with pytest.raises(ConfigError) as caught:
        chain(prefix=prefix)
    assert caught.value.field == "priority_levels[1][0].s3/backup.prefix"
    assert "lifecycle" in str(caught.value)


@pytest.mark.parametrize(
    ("prefix", "allowed"),
    [
        ("backup", True),
        ("team/backup", True),
        ("processed-logs", True),
        ("processed", False),
        ("processed/x", False),
        ("deadletter", False),
        ("deadletter/team", False),
    ],
)
def test_the_template_refuses_the_same_prefixes(
    template: dict[str, Any], prefix: str, allowed: bool
) -> None:
    pattern = template["Parameters"]["BackupPrefix"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, prefix)) is allowed
    if allowed:
        chain(prefix=prefix)  # the settings agree


def test_shards_come_from_the_environment_and_default_to_the_template_default(
    template: dict[str, Any],
) -> None:
    default = Settings.from_environment(BASE).failover.backup
    assert default is not None and default.shards == DEFAULT_BACKUP_SHARDS
    assert template["Parameters"]["BackupShards"]["Default"] == DEFAULT_BACKUP_SHARDS
    chosen = Settings.from_environment(BASE | {BACKUP_SHARDS: "16"}).failover.backup
    assert chosen is not None and chosen.shards == 16
    with pytest.raises(ConfigError, match="shards"):
        chain(shards=0)
    with pytest.raises(ConfigError, match="at most 100"):
        chain(shards=101)


def test_the_drain_concurrency_comes_from_the_environment_and_shares_the_rate() -> None:
    limits = Settings.from_environment(BASE | {DRAIN_CONCURRENCY: "4", "DRAIN_RATE": "20"}).drain
    assert (limits.concurrency, limits.worker_rate) == (4, 5.0)


def test_the_template_passes_shards_and_concurrency_to_the_functions(
    template: dict[str, Any],
) -> None:
    shared = template["Globals"]["Function"]["Environment"]["Variables"]
    drain = template["Resources"]["DrainFunction"]["Properties"]["Environment"]["Variables"]
    assert shared[BACKUP_SHARDS] == {"Ref": "BackupShards"}
    assert drain[DRAIN_CONCURRENCY] == {"Ref": "DrainConcurrency"}


def test_an_alarm_pages_when_the_drain_sets_lines_aside(template: dict[str, Any]) -> None:
    alarm = template["Resources"]["DeadLetteredAlarm"]["Properties"]
    names = {m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert names == {DEAD_LETTERED}
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_batch_limits_that_cannot_settle_a_bad_line_in_one_run_fail_at_cold_start() -> None:
    settings = Settings.from_environment(BASE | {"DRAIN_BATCH_LINES": "10000", "DRAIN_RATE": "1"})
    check_drain_budget(settings.drain, settings.failover, 285.0)  # 15 sends x 15 s: fits
    with pytest.raises(ConfigError) as caught:
        check_drain_budget(settings.drain, settings.failover, 45.0)
    assert caught.value.field == "DRAIN_BATCH_LINES"
    assert "15 sends" in str(caught.value)
    small = Settings.from_environment(BASE | {"DRAIN_BATCH_LINES": "1", "DRAIN_RATE": "1"})
    check_drain_budget(small.drain, small.failover, 45.0)
