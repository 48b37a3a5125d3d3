"""The collector's YAML as nodes that know their path, so every error can name it.

Paths are written as the collector's own docs write them: ``exporters.otlphttp/primary.
headers.x-api-token``, ``connectors.failover.priority_levels[1][0]``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from otlp_failover.errors import FailoverError


class CollectorConfigError(FailoverError):
    """The file cannot be translated; ``path`` is where, in the collector's YAML."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class Node:
    value: Any
    path: str = ""

    @classmethod
    def load(cls, text: str) -> Node:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise CollectorConfigError("", f"not valid YAML{where}") from None
        node = cls(document)
        node.mapping()  # a collector configuration is a mapping at the top
        return node

    def mapping(self) -> Mapping[Any, Any]:
        if self.value is None:
            return {}
        if not isinstance(self.value, Mapping):
            raise CollectorConfigError(self.path or "(top level)", "must be a mapping")
        return self.value

    def items(self) -> Iterator[tuple[str, Node]]:
        for key, value in self.mapping().items():
            yield str(key), Node(value, self._join(str(key)))

    def get(self, key: str) -> Node | None:
        mapping = self.mapping()
        return Node(mapping[key], self._join(key)) if key in mapping else None

    def require(self, key: str, what: str = "") -> Node:
        found = self.get(key)
        if found is None or found.value is None:
            raise CollectorConfigError(
                self._join(key), f"is required ({what})" if what else "is required"
            )
        return found

    def sequence(self) -> list[Node]:
        if not isinstance(self.value, list):
            raise CollectorConfigError(self.path, "must be a list")
        return [Node(item, f"{self.path}[{index}]") for index, item in enumerate(self.value)]

    def _join(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key


def component_type(component_id: str) -> str:
    """``otlphttp`` of ``otlphttp/primary``: the collector's ``type[/name]`` ids."""
    return component_id.partition("/")[0]
