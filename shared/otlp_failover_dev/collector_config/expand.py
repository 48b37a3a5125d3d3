"""The collector's environment references in string values: ``${VAR}``, ``${env:VAR}``,
``${env:VAR:-default}`` (the default when VAR is unset) and ``$$`` for a literal ``$``.

Unlike the collector, an unset variable without a default is an error, not an empty
string: an empty endpoint or credential would only fail later, at the backend. Other
providers (``${file:...}``, ``${http:...}``) are refused with the reference they came in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from otlp_failover_dev.collector_config.document import CollectorConfigError, Node

_REFERENCE = re.compile(r"\$\$|\$\{([^{}]*)\}")
_VARIABLE = re.compile(r"(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:.*", re.DOTALL)


@dataclass(frozen=True)
class Expanded:
    value: str
    references: tuple[str, ...] = ()  # as written, e.g. "${env:BACKUP_TOKEN}"

    @property
    def from_environment(self) -> bool:
        return bool(self.references)


def expand(node: Node, env: Mapping[str, str], what: str = "value") -> Expanded:
    """``node``'s scalar with its references resolved. Numbers and booleans come back as
    their text (a header or an endpoint is text); mappings and lists are refused."""
    raw = node.value
    if isinstance(raw, bool):
        return Expanded(str(raw).lower())
    if isinstance(raw, int | float):
        return Expanded(str(raw))
    if not isinstance(raw, str):
        raise CollectorConfigError(node.path, f"must be a {what}, not a {_kind(raw)}")
    references: list[str] = []

    def resolve(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        inner = match.group(1)
        variable = _VARIABLE.fullmatch(inner)
        if variable is None:
            if _SCHEME.fullmatch(inner):
                raise CollectorConfigError(
                    node.path,
                    f"{match.group(0)}: only environment references (${{VAR}}, ${{env:VAR}}) "
                    "can be translated",
                )
            return match.group(0)  # not a reference the collector expands either
        name, default = variable.group(1), variable.group(2)
        references.append(match.group(0))
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise CollectorConfigError(
            node.path, f"environment variable {name} is not set (referenced as {match.group(0)})"
        )

    return Expanded(_REFERENCE.sub(resolve, raw), tuple(references))


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return "null" if value is None else type(value).__name__
