"""A collector configuration, translated: its failover connector's levels become the
gateway's chain (FAILOVER_CONFIG), each level the exporters of its pipelines. The result
is checked by the gateway's own ``FailoverConfig``; any error names the YAML path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from otlp_failover.errors import ConfigError
from otlp_failover_dev.collector_config.connector import connector_settings
from otlp_failover_dev.collector_config.document import CollectorConfigError, Node, component_type
from otlp_failover_dev.collector_config.exporters import Translated, translate_exporter
from otlp_failover_dev.collector_config.pipelines import (
    SIGNALS,
    Route,
    failover_routes,
    one_chain,
)
from otlp_failover_dev.collector_config.translation import HeaderSecret, Level, Translation

DEFAULT_SECRET_PREFIX = "otlp-failover/"  # noqa: S105 - a name prefix, not a secret
_EXPORTER_FIELD = re.compile(r"priority_levels\[(\d+)\]\[\d+\]\.(.+)")
_LEVEL_FIELD = re.compile(r"priority_levels\[(\d+)\](.*)")


def translate(
    text: str,
    env: Mapping[str, str],
    *,
    source: str = "collector.yaml",
    secret_prefix: str = DEFAULT_SECRET_PREFIX,
) -> Translation:
    root = Node.load(text)
    routes = failover_routes(root)
    route = one_chain(routes)
    exporters = root.get("exporters") or Node({}, "exporters")
    done: dict[str, Translated] = {}
    where: dict[str, str] = {}  # the gateway's exporter name -> its YAML path
    levels: list[list[dict[str, Any]]] = []
    shape: list[Level] = []
    for index, pipelines in enumerate(route.levels):
        entries: list[dict[str, Any]] = []
        for reference in (e for p in pipelines for e in p.exporters):
            exporter_id = str(reference.value)
            if exporter_id in done:
                if done[exporter_id].entry is None:
                    continue  # left out wherever it is
                raise CollectorConfigError(
                    reference.path, f"{exporter_id} is on another level already"
                )
            node = exporters.get(exporter_id)
            if node is None:
                raise CollectorConfigError(
                    reference.path, f"exporter {exporter_id} is not defined under exporters"
                )
            done[exporter_id] = translated = translate_exporter(
                exporter_id, node, env, secret_prefix
            )
            if translated.entry is not None:
                _check_backup_position(reference, exporter_id, index, len(route.levels))
                entries.append(translated.entry)
                where[next(iter(translated.entry))] = node.path
        if not entries:
            raise CollectorConfigError(
                route.level_paths[index], "has no exporter the gateway can send to"
            )
        levels.append(entries)
        shape.append(Level(tuple(next(iter(e)) for e in entries), tuple(p.id for p in pipelines)))
    _check_one_backup(where)
    settings, notes = connector_settings(route.connector, env)
    translation = Translation(
        source=source,
        failover_config={"priority_levels": levels, **settings},
        levels=tuple(shape),
        secrets=tuple(t.secret for t in done.values() if t.secret is not None),
        notes=(*_pipeline_notes(routes), *notes, *(n for t in done.values() for n in t.notes)),
    )
    _check_names(translation.secrets)
    try:
        translation.chain()  # the gateway's own validation, as at cold start
    except ConfigError as exc:
        raise CollectorConfigError(_yaml_path(exc.field, route, where), exc.problem) from None
    return translation


def _check_backup_position(reference: Node, exporter_id: str, index: int, count: int) -> None:
    if component_type(exporter_id) == "file" and index != count - 1:
        raise CollectorConfigError(
            reference.path,
            f"{exporter_id} would be the S3 backup, which must be the last level: the drain "
            "replays it into the levels above",
        )


def _check_one_backup(where: Mapping[str, str]) -> None:
    backups = sorted(path for name, path in where.items() if component_type(name) == "s3")
    if len(backups) > 1:
        raise CollectorConfigError(
            backups[1], f"the stack has one S3 backup, and {backups[0]} is it already"
        )


def _check_names(secrets: tuple[HeaderSecret, ...]) -> None:
    names: dict[str, str] = {}
    for secret in secrets:
        other = names.setdefault(secret.name, secret.exporter)
        if other != secret.exporter:
            raise CollectorConfigError(
                f"exporters.{secret.exporter}.headers",
                f"its secret would be {secret.name}, like the one of {other}; rename one",
            )


def _pipeline_notes(routes: list[Route]) -> list[str]:
    notes = []
    unrouted = [s for s in SIGNALS if s not in {route.signal for route in routes}]
    if unrouted:
        notes.append(
            f"service.pipelines: no failover connector routes {' or '.join(unrouted)}; the "
            "gateway sends every signal down this one chain"
        )
    for route in routes:
        for entry in route.entries:
            kept = [
                f"{key} {', '.join(str(n.value) for n in found.sequence())}"
                for key in ("receivers", "processors")
                if (found := entry.node.get(key)) is not None and found.value
            ]
            if kept:
                notes.append(
                    f"{entry.node.path}: {' and '.join(kept)} stay with the client (its SDK or "
                    "collector), which sends OTLP/HTTP to the gateway's ApiUrl instead"
                )
        for level in route.levels:
            for pipeline in level:
                processors = pipeline.node.get("processors")
                if processors is not None and processors.value:
                    names = ", ".join(str(p.value) for p in processors.sequence())
                    notes.append(
                        f"{processors.path}: {names} not applied: the gateway forwards each "
                        "export as its client sent it; run processors in the client's collector"
                    )
    return notes


def _yaml_path(field: str, route: Route, where: Mapping[str, str]) -> str:
    """The YAML path of a FailoverConfig field: ``priority_levels[0][0].otlphttp/primary.
    timeout`` is ``exporters.otlphttp/primary.timeout``."""
    exporter = _EXPORTER_FIELD.fullmatch(field)
    if exporter is not None:
        rest = exporter.group(2)
        for name in sorted(where, key=len, reverse=True):
            if rest == name or rest.startswith(name + "."):
                return where[name] + rest[len(name) :]
    level = _LEVEL_FIELD.fullmatch(field)
    if level is not None and int(level.group(1)) < len(route.level_paths):
        return route.level_paths[int(level.group(1))] + level.group(2)
    return f"{route.connector.path}.{field}"
