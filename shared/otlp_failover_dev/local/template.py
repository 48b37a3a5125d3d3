"""template.yaml as the local stack reads it: CloudFormation's short tags, the
parameters' defaults, and the properties of a resource with the intrinsics it can resolve
(Ref, Fn::Sub, Fn::If over Fn::Equals/Not/And/Or) worked out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
STATE_TABLE_ID = "StateTable"
BACKUP_BUCKET_ID = "BackupBucket"
INGEST_TOKEN_SECRET_ID = "IngestTokenSecret"  # noqa: S105 - a logical id, not a secret
# What the template declares today; used only when it cannot be read (an installed wheel).
_FALLBACK: dict[str, dict[str, Any]] = {
    STATE_TABLE_ID: {
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "signal", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "signal", "KeyType": "HASH"}],
    },
    BACKUP_BUCKET_ID: {
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
            ]
        }
    },
}
_UNRESOLVED = object()  # an intrinsic the emulator cannot evaluate: the key is left out


# libyaml's parser where PyYAML has it: a stack start reads template.yaml in 0.05 s, not 0.6.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class TemplateLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """Reads CloudFormation short tags (!Ref, !Sub, !GetAtt ...) as their JSON form."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


TemplateLoader.add_multi_constructor("!", _intrinsic)


@dataclass(frozen=True)
class Template:
    resources: Mapping[str, Any] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)  # parameter defaults, pseudo params
    conditions: Mapping[str, Any] = field(default_factory=dict)  # the template's Conditions
    parameters: Mapping[str, Any] = field(default_factory=dict)  # its Parameters, as written

    @staticmethod
    def document(text: str) -> dict[str, Any]:
        """The template as a mapping, its short tags in their JSON form."""
        raw: dict[str, Any] = yaml.load(text, Loader=TemplateLoader)  # noqa: S506 - a SafeLoader
        return raw

    @classmethod
    def parse(cls, text: str, region: str = REGION) -> Template:
        raw = cls.document(text)
        names = {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": "otlp-failover-local",
            "AWS::URLSuffix": "amazonaws.com",
        }
        for name, spec in (raw.get("Parameters") or {}).items():
            if isinstance(spec, dict) and "Default" in spec:
                names[name] = str(spec["Default"])
        return cls(
            raw.get("Resources") or {},
            names,
            raw.get("Conditions") or {},
            raw.get("Parameters") or {},
        )

    @classmethod
    def builtin(cls, region: str = REGION) -> Template:
        return cls({k: {"Properties": v} for k, v in _FALLBACK.items()}, {"AWS::Region": region})

    @classmethod
    def load(cls, path: Path, region: str = REGION) -> Template:
        if not path.is_file():
            log.warning("no template at %s: using the built-in resource declarations", path)
            return cls.builtin(region)
        return cls.parse(path.read_text(encoding="utf-8"), region)

    def properties(self, logical_id: str) -> dict[str, Any]:
        """The resource's properties, intrinsics resolved where they can be."""
        resource = self.resources.get(logical_id) or {"Properties": _FALLBACK.get(logical_id)}
        resolved = _resolve(resource.get("Properties") or {}, self.names, self.conditions)
        return resolved if isinstance(resolved, dict) else {}


def _resolve(value: Any, names: Mapping[str, str], conditions: Mapping[str, Any]) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and (
            next(iter(value)) in ("Ref", "Condition") or next(iter(value)).startswith("Fn::")
        ):
            ((key, arg),) = value.items()
            return _evaluate(key, arg, names, conditions)
        items = ((k, _resolve(v, names, conditions)) for k, v in value.items())
        return {k: v for k, v in items if v is not _UNRESOLVED}
    if isinstance(value, list):
        resolved = (_resolve(v, names, conditions) for v in value)
        return [r for r in resolved if r is not _UNRESOLVED]
    return value


def _evaluate(key: str, arg: Any, names: Mapping[str, str], conditions: Mapping[str, Any]) -> Any:
    if key == "Ref":
        return names.get(arg, _UNRESOLVED) if isinstance(arg, str) else _UNRESOLVED
    if key == "Fn::Sub" and isinstance(arg, str):
        return _sub(arg, names)
    if key == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
        # The condition is evaluated with the parameters' defaults, like every Ref here.
        holds = _condition(arg[0], names, conditions)
        branch = _UNRESOLVED if holds is None else arg[1] if holds else arg[2]
        return _UNRESOLVED if branch is _UNRESOLVED else _resolve(branch, names, conditions)
    return _UNRESOLVED


def _condition(
    expression: Any, names: Mapping[str, str], conditions: Mapping[str, Any], depth: int = 0
) -> bool | None:
    """A condition's truth with the parameters' defaults; None if it cannot be evaluated."""
    if isinstance(expression, str):  # a condition's name, as Fn::If gives it
        expression = conditions.get(expression)
    if depth > 20 or not isinstance(expression, dict) or len(expression) != 1:
        return None
    ((key, arg),) = expression.items()
    if key == "Condition":
        return _condition(arg, names, conditions, depth + 1)
    if key == "Fn::Equals" and isinstance(arg, list) and len(arg) == 2:
        left, right = (_resolve(a, names, conditions) for a in arg)
        unresolved = _UNRESOLVED in (left, right)
        return None if unresolved else str(left) == str(right)
    values = [_condition(a, names, conditions, depth + 1) for a in arg or []]
    combine = {"Fn::Not": lambda v: not v[0], "Fn::And": all, "Fn::Or": any}.get(key)
    if combine is None or not values or None in values:
        return None
    return bool(combine(values))


def _sub(text: str, names: Mapping[str, str]) -> Any:
    wanted = re.findall(r"\$\{([^}!]+)\}", text)
    if any(name not in names for name in wanted):
        return _UNRESOLVED
    return re.sub(r"\$\{([^}!]+)\}", lambda m: names[m.group(1)], text).replace("${!", "${")
