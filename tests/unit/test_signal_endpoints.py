"""An OTLP/HTTP exporter's own URL per signal (the collector's ``traces_endpoint``...), and
FAILOVER_CONFIG's s3 level without a bucket, which is the stack's own backup."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
import urllib3

from otlp_failover.errors import ConfigError
from otlp_failover.exporters.otlphttp import OtlpHttpExporter
from otlp_failover.failover.outcomes import Outcome
from otlp_failover.settings.chain import FailoverConfig, OtlpHttpConfig, S3Config
from otlp_failover.settings.environment import failover_config
from otlp_failover.signals import Signal
from tests.unit.fakes import export_body

TRACES_URL = "https://traces.example.com/custom/path"


def exporter_config(**settings: Any) -> OtlpHttpConfig:
    config = FailoverConfig.from_mapping({"priority_levels": [[{"otlphttp/p": settings}]]})
    (only,) = config.priority_levels[0]
    assert isinstance(only, OtlpHttpConfig)
    return only


def test_a_signal_endpoint_is_used_as_given_and_the_others_append_their_path() -> None:
    config = exporter_config(endpoint="https://otlp.example.com/", traces_endpoint=TRACES_URL)
    assert config.url(Signal.TRACES.path) == TRACES_URL
    assert config.url(Signal.METRICS.path) == "https://otlp.example.com/v1/metrics"
    assert config.url(Signal.LOGS.path) == "https://otlp.example.com/v1/logs"


def test_three_signal_endpoints_need_no_base_endpoint() -> None:
    urls = {f"{s.value}_endpoint": f"http://{s.value}.example.com/in" for s in Signal}
    config = exporter_config(**urls)
    assert config.endpoint == ""
    assert [config.url(s.path) for s in Signal] == list(urls.values())


def test_without_an_endpoint_every_signal_needs_its_own() -> None:
    with pytest.raises(ConfigError) as caught:
        exporter_config(traces_endpoint=TRACES_URL, logs_endpoint=TRACES_URL)
    assert caught.value.field == "priority_levels[0][0].otlphttp/p.endpoint"
    assert "metrics_endpoint" in caught.value.problem


@pytest.mark.parametrize(
    ("url", "problem"),
    [("ftp://x/v1/traces", "http:// or https://"), ("https://u:p@x/v1", "credentials")],
)
def test_a_bad_signal_endpoint_is_named(url: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        exporter_config(endpoint="https://x", metrics_endpoint=url)
    assert caught.value.field == "priority_levels[0][0].otlphttp/p.metrics_endpoint"
    assert problem in caught.value.problem


@dataclass
class RecordingPool:
    urls: list[str] = field(default_factory=list)

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        self.urls.append(url)
        return Answer()


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    def read(self, amt: int, decode_content: bool = True) -> bytes:
        return b""

    def release_conn(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_the_exporter_posts_each_signal_to_its_own_url() -> None:
    pool = RecordingPool()
    config = exporter_config(endpoint="https://otlp.example.com", traces_endpoint=TRACES_URL)
    exporter = OtlpHttpExporter(config, cast(urllib3.PoolManager, pool))
    for signal in (Signal.TRACES, Signal.METRICS):
        assert exporter.export(export_body(signal), deadline=1e12).outcome is Outcome.ACCEPTED
    assert pool.urls == [TRACES_URL, "https://otlp.example.com/v1/metrics"]


CHAIN = {
    "priority_levels": [
        [{"otlphttp/primary": {"endpoint": "https://otlp.example.com"}}],
        [{"s3/emergency": {}}],
    ]
}


def test_an_s3_level_without_a_bucket_is_the_stacks_backup() -> None:
    env = {
        "FAILOVER_CONFIG": json.dumps(CHAIN),
        "BACKUP_BUCKET": "stack-bucket",
        "BACKUP_PREFIX": "stack-prefix",
    }
    backup = failover_config(env).backup
    assert backup == S3Config(name="s3/emergency", bucket="stack-bucket", prefix="stack-prefix")


def test_an_s3_level_keeps_the_bucket_and_prefix_it_names() -> None:
    own = {**CHAIN, "priority_levels": [*CHAIN["priority_levels"][:1], [{"s3/b": {"bucket": "x"}}]]}
    env = {"FAILOVER_CONFIG": json.dumps(own), "BACKUP_BUCKET": "stack", "BACKUP_PREFIX": "p"}
    backup = failover_config(env).backup
    assert backup is not None and (backup.bucket, backup.prefix) == ("x", "backup")


def test_without_a_stack_bucket_the_missing_bucket_is_named() -> None:
    with pytest.raises(ConfigError) as caught:
        failover_config({"FAILOVER_CONFIG": json.dumps(CHAIN)})
    assert caught.value.field == "priority_levels[1][0].s3/emergency.bucket"
