"""The failover connectors of a collector configuration and the pipelines they route to:
each connector's ``priority_levels`` are pipeline ids, each pipeline's exporters make up
its level. The gateway has one chain for every signal, so connectors of different
signals must route to the same exporters, level by level."""

from __future__ import annotations

from dataclasses import dataclass

from otlp_failover_dev.collector_config.document import CollectorConfigError, Node, component_type

SIGNALS = ("traces", "metrics", "logs")


@dataclass(frozen=True)
class Pipeline:
    id: str  # traces/primary
    node: Node
    exporters: tuple[Node, ...]  # each an exporter id, with the path of the reference


@dataclass(frozen=True)
class Route:
    """One failover connector: the signal it routes and its levels of pipelines."""

    connector: Node  # connectors.failover
    signal: str
    levels: tuple[tuple[Pipeline, ...], ...]
    level_paths: tuple[str, ...]  # connectors.failover.priority_levels[i]
    entries: tuple[Pipeline, ...]  # pipelines that export to the connector

    def exporter_ids(self) -> tuple[tuple[str, ...], ...]:
        return tuple(
            tuple(sorted({str(e.value) for p in level for e in p.exporters}))
            for level in self.levels
        )

    def describe(self) -> str:
        """``traces/primary -> traces/secondary``: the pipelines, level by level."""
        return " -> ".join(", ".join(p.id for p in level) for level in self.levels)


def failover_routes(root: Node) -> list[Route]:
    connectors = root.get("connectors")
    found = [
        (name, node)
        for name, node in (connectors.items() if connectors else [])
        if component_type(name) == "failover"
    ]
    if not found:
        raise CollectorConfigError(
            "connectors",
            "no failover connector (connectors.failover or failover/<name>): the gateway is "
            "its counterpart, and its priority_levels say what the levels are",
        )
    pipelines = dict(root.require("service", "its pipelines").require("pipelines").items())
    routes = [_route(name, node, pipelines) for name, node in found]
    by_signal: dict[str, Route] = {}
    for route in routes:
        other = by_signal.setdefault(route.signal, route)
        if other is not route:
            raise CollectorConfigError(
                route.connector.path,
                f"routes {route.signal} like {other.connector.path}; one connector per signal",
            )
    return routes


def _route(name: str, connector: Node, pipelines: dict[str, Node]) -> Route:
    levels_node = connector.require("priority_levels", "a list of levels of pipelines")
    levels: list[tuple[Pipeline, ...]] = []
    signals: dict[str, str] = {}  # signal -> the first pipeline of it, for the message
    for level in levels_node.sequence():
        members = level.sequence()
        if not members:
            raise CollectorConfigError(level.path, "must list at least one pipeline")
        levels.append(tuple(_pipeline(member, name, pipelines, signals) for member in members))
    if not levels:
        raise CollectorConfigError(levels_node.path, "must list at least one level")
    entries = tuple(
        Pipeline(pid, node, tuple(_exporters(node)))
        for pid, node in pipelines.items()
        if name in {str(e.value) for e in _exporters(node)}
    )
    if not entries:
        raise CollectorConfigError(
            connector.path,
            f"no pipeline exports to it (service.pipelines.<signal>.exporters: [{name}])",
        )
    return Route(
        connector,
        next(iter(signals)),
        tuple(levels),
        tuple(level.path for level in levels_node.sequence()),
        entries,
    )


def _pipeline(
    member: Node, connector: str, pipelines: dict[str, Node], signals: dict[str, str]
) -> Pipeline:
    pipeline_id = str(member.value)
    node = pipelines.get(pipeline_id)
    if node is None:
        raise CollectorConfigError(
            member.path, f"pipeline {pipeline_id} is not defined under service.pipelines"
        )
    signal = component_type(pipeline_id)
    if signal not in SIGNALS:
        raise CollectorConfigError(
            member.path, f"{pipeline_id}: the gateway takes traces, metrics and logs pipelines"
        )
    first = signals.setdefault(signal, pipeline_id)
    if len(signals) > 1:
        raise CollectorConfigError(
            member.path,
            f"{pipeline_id} is not a {next(iter(signals))} pipeline like {first}: "
            "a failover connector routes one signal",
        )
    receivers = node.get("receivers")
    if receivers is None or connector not in {str(r.value) for r in receivers.sequence()}:
        raise CollectorConfigError(
            node.path + ".receivers", f"must include {connector}, the connector that feeds it"
        )
    exporters = tuple(_exporters(node))
    if not exporters:
        raise CollectorConfigError(node.path + ".exporters", "must list at least one exporter")
    return Pipeline(pipeline_id, node, exporters)


def _exporters(pipeline: Node) -> list[Node]:
    exporters = pipeline.get("exporters")
    return exporters.sequence() if exporters is not None and exporters.value else []


def one_chain(routes: list[Route]) -> Route:
    """The route whose chain every signal shares; refused when the signals differ."""
    first = routes[0]
    for route in routes[1:]:
        if route.exporter_ids() != first.exporter_ids():
            raise CollectorConfigError(
                route.connector.path,
                f"routes {route.signal} down another chain than {first.connector.path} does "
                f"({route.signal}: {route.describe()}; {first.signal}: {first.describe()}): "
                "the gateway has one chain for every signal; give these pipelines the same "
                "exporters level by level, or deploy one gateway per chain",
            )
        for key in ("retry_interval", "retry_gap", "max_retries", "standard"):
            mine, theirs = route.connector.get(key), first.connector.get(key)
            if (mine and mine.value) != (theirs and theirs.value):
                raise CollectorConfigError(
                    f"{route.connector.path}.{key}",
                    f"differs from {first.connector.path}.{key}: the gateway has one chain, "
                    "with one setting, for every signal",
                )
    return first
