"""The failover connector's own settings: ``retry_interval``, ``retry_gap`` and
``max_retries`` carry over (deprecated in the collector, the gateway's policy here), the
newer ``standard.retry_interval`` too; ``sending_queue`` has no counterpart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otlp_failover.settings.chain import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_RETRY_GAP,
    DEFAULT_RETRY_INTERVAL,
)
from otlp_failover.settings.durations import format_duration
from otlp_failover_dev.collector_config.document import CollectorConfigError, Node
from otlp_failover_dev.collector_config.expand import expand
from otlp_failover_dev.collector_config.exporters import NOT_TRANSLATED, QUEUE_NOTE

# The collector's defaults, named when the file leaves a setting to the gateway's.
_COLLECTOR_DEFAULTS = {"retry_interval": "10m", "retry_gap": "30s", "max_retries": "10"}
_GATEWAY_DEFAULTS = {
    "retry_interval": format_duration(DEFAULT_RETRY_INTERVAL),
    "retry_gap": format_duration(DEFAULT_RETRY_GAP),
    "max_retries": str(DEFAULT_MAX_RETRIES),
}


def connector_settings(connector: Node, env: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The chain's failover settings and the notes on what differs from the collector."""
    settings: dict[str, Any] = {}
    notes: list[str] = []
    for key, child in connector.items():
        if key == "priority_levels":
            continue
        if key in ("retry_interval", "retry_gap"):
            settings.setdefault(key, expand(child, env, "duration").value)
        elif key == "max_retries":
            _max_retries(child, env, settings, notes)
        elif key == "standard":
            interval = child.get("retry_interval")
            if interval is not None:  # the collector prefers it to the top-level one
                settings["retry_interval"] = expand(interval, env, "duration").value
            notes.extend(
                f"{c.path}: {NOT_TRANSLATED}" for k, c in child.items() if k != "retry_interval"
            )
        elif key == "strategy":
            strategy = expand(child, env, "strategy").value
            if strategy != "standard":
                raise CollectorConfigError(
                    child.path, f"{strategy!r}: the gateway's failover is the standard strategy"
                )
        elif key == "sending_queue":
            notes.append(f"{child.path}: {QUEUE_NOTE}")
        else:
            notes.append(f"{child.path}: {NOT_TRANSLATED}")
    left = [key for key in _GATEWAY_DEFAULTS if key not in settings]
    if left:
        notes.append(
            f"{connector.path}: {', '.join(left)} not set: the gateway's "
            f"{', '.join(_GATEWAY_DEFAULTS[k] for k in left)} (the collector's are "
            f"{', '.join(_COLLECTOR_DEFAULTS[k] for k in left)})"
        )
    return settings, notes


def _max_retries(
    node: Node, env: Mapping[str, str], settings: dict[str, Any], notes: list[str]
) -> None:
    text = expand(node, env, "whole number").value.strip()
    if not text.isascii() or not text.isdigit():
        raise CollectorConfigError(node.path, "must be a whole number")
    meaning = (
        "consecutive failures on the current level before traffic moves one level down (in "
        "the collector: retries of a level above before it is given up; the gateway never "
        "gives a level up, it probes every retry_interval)"
    )
    if int(text) == 0:
        settings["max_retries"] = DEFAULT_MAX_RETRIES
        notes.append(
            f"{node.path}: 0 (no limit in the collector) becomes {DEFAULT_MAX_RETRIES}: here it "
            f"counts {meaning}"
        )
        return
    settings["max_retries"] = int(text)
    notes.append(f"{node.path}: {text} {meaning}")
