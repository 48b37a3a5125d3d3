"""What template.yaml deploys each function with, as CloudFormation would resolve it.

The Globals' and the function's own environment variables (the function's win, as SAM
merges them), its timeout, memory and log level, with every ``!Ref`` resolved: template
parameters to their defaults unless overridden, resources to the names the emulator gave
them. A variable whose value is ``AWS::NoValue`` is left out, as CloudFormation does; any
other that cannot be resolved is an error, so a new variable is never silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The emulator's reader of CloudFormation short tags (!Ref, !Sub, ...): one reader for both.
from otlp_failover_dev.local.template import Template


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str  # what !Ref gives: the function's name
    timeout: float  # seconds
    memory_mb: int
    log_level: str  # LoggingConfig.ApplicationLogLevel
    environment: Mapping[str, str]  # Environment.Variables, resolved


class DeployedTemplate:
    def __init__(
        self,
        path: Path,
        parameters: Mapping[str, str],
        resources: Mapping[str, str],
    ) -> None:
        """``parameters``: overrides of the parameters' defaults; ``resources``: logical id ->
        what ``!Ref`` of that resource gives (table and bucket names, a secret's ARN)."""
        text = path.read_text(encoding="utf-8")
        raw = Template.document(text)
        parsed = Template.parse(text)
        unknown = set(parameters) - set(parsed.parameters)
        if unknown:
            raise KeyError(f"not parameters of the template: {sorted(unknown)}")
        # The emulator's Template resolves no Fn::FindInMap: the mappings are applied here.
        mappings = raw.get("Mappings") or {}
        self._globals: dict[str, Any] = _find_in_map(
            (raw.get("Globals") or {}).get("Function") or {}, mappings
        )
        self._resources: dict[str, Any] = _find_in_map(raw.get("Resources") or {}, mappings)
        names = {**parsed.names, **parameters, **resources}
        self._template = Template(self._resources, names, parsed.conditions, parsed.parameters)
        # A function's !Ref is its name: FunctionName if it sets one, else one made up.
        functions = {}
        for logical_id, resource in self._resources.items():
            if resource.get("Type") == "AWS::Serverless::Function":
                given = (resource.get("Properties") or {}).get("FunctionName")
                named = self._resolve(logical_id, {"FunctionName": given} if given else {})
                stack = names["AWS::StackName"]
                functions[logical_id] = named.get("FunctionName") or f"{stack}-{logical_id}"
        names.update(functions)
        self._template = Template(self._resources, names, parsed.conditions, parsed.parameters)

    def function(self, logical_id: str) -> FunctionSpec:
        properties = self._resources[logical_id]["Properties"]
        variables = {
            **((self._globals.get("Environment") or {}).get("Variables") or {}),
            **((properties.get("Environment") or {}).get("Variables") or {}),
        }
        environment = self._resolve_values(logical_id, variables)
        settings = self._resolve_values(
            logical_id,
            {
                "Timeout": properties.get("Timeout", self._globals.get("Timeout", 3)),
                "MemorySize": properties.get("MemorySize", self._globals.get("MemorySize", 128)),
                "LogLevel": (properties.get("LoggingConfig") or {}).get(
                    "ApplicationLogLevel", "INFO"
                ),
            },
        )
        return FunctionSpec(
            logical_id=logical_id,
            name=self._template.names[logical_id],
            timeout=float(settings["Timeout"]),
            memory_mb=int(settings["MemorySize"]),
            log_level=settings["LogLevel"],
            environment=environment,
        )

    def _resolve_values(self, logical_id: str, values: Mapping[str, Any]) -> dict[str, str]:
        resolved = self._resolve(logical_id, values)
        missing = [
            k for k, v in values.items() if k not in resolved and "AWS::NoValue" not in str(v)
        ]
        if missing:
            raise ValueError(f"{logical_id}: cannot resolve {missing} from template.yaml")
        return {k: str(v) for k, v in resolved.items()}

    def _resolve(self, logical_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
        # Template.properties resolves a resource's properties: hand it these values as one.
        probe = Template(
            {logical_id: {"Properties": dict(values)}},
            self._template.names,
            self._template.conditions,
            self._template.parameters,
        )
        return probe.properties(logical_id)


def _find_in_map(value: Any, mappings: Mapping[str, Any]) -> Any:
    """``value`` with each ``Fn::FindInMap`` of literal keys replaced by its mapped value."""
    if isinstance(value, dict):
        lookup = value.get("Fn::FindInMap") if len(value) == 1 else None
        if (
            isinstance(lookup, list)
            and len(lookup) == 3
            and all(isinstance(k, str) for k in lookup)
        ):
            name, top, second = lookup
            return mappings[name][top][second]
        return {k: _find_in_map(v, mappings) for k, v in value.items()}
    if isinstance(value, list):
        return [_find_in_map(v, mappings) for v in value]
    return value
