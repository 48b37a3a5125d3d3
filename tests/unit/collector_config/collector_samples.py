"""The collector configuration of the README, as text and as a mapping to vary, and the
environment its ``${API_TOKEN}`` and ``${env:BACKUP_TOKEN}`` come from."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from otlp_failover_dev.collector_config import CollectorConfigError, Translation, translate

SAMPLE_PATH = Path(__file__).resolve().parents[2] / "data" / "collector" / "failover-connector.yaml"
SAMPLE = SAMPLE_PATH.read_text(encoding="utf-8")
# Values no output may show: each test asserts they never appear.
API_TOKEN = "tok-primary-9f3b27c1e4"
BACKUP_TOKEN = "tok-backup-51aa0d7e22"
ENV = {"API_TOKEN": API_TOKEN, "BACKUP_TOKEN": BACKUP_TOKEN}


def sample() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(SAMPLE)
    return copy.deepcopy(document)


def translated(document: dict[str, Any], env: dict[str, str] | None = None) -> Translation:
    return translate(yaml.safe_dump(document), ENV if env is None else env)


PRIMARY = "otlphttp/primary"


def refused(document: dict[str, Any], env: dict[str, str] | None = None) -> CollectorConfigError:
    with pytest.raises(CollectorConfigError) as caught:
        translated(document, env)
    return caught.value


def otlp_settings(document: dict[str, Any], level: int = 0) -> dict[str, Any]:
    entry = translated(document).failover_config["priority_levels"][level][0]
    settings: dict[str, Any] = next(iter(entry.values()))
    return settings


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
