"""The AWS emulator: moto's server on 127.0.0.1, resources created as template.yaml declares.

boto3 talks real HTTP to it, through ``AWS_ENDPOINT_URL``, so the handlers run unchanged.
The table and the bucket get the properties the template gives ``StateTable`` and
``BackupBucket``; the names are parameters, so tests can make fresh ones per test.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import boto3
import yaml
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_secretsmanager.client import SecretsManagerClient

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
_SSE_KEYS = {"ServerSideEncryptionByDefault": "ApplyServerSideEncryptionByDefault"}
# How often the server looks for a stop: stopping waits for that, 0.5 s by default.
SHUTDOWN_POLL_SECONDS = 0.05
_UNRESOLVED = object()  # an intrinsic the emulator cannot evaluate: the key is left out


# libyaml's parser where PyYAML has it: a stack start reads template.yaml in 0.05 s, not 0.6.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TemplateLoader(_SafeLoader):  # type: ignore[valid-type,misc]
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


_TemplateLoader.add_multi_constructor("!", _intrinsic)


@dataclass(frozen=True)
class Template:
    resources: Mapping[str, Any] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)  # parameter defaults, pseudo params
    conditions: Mapping[str, Any] = field(default_factory=dict)  # the template's Conditions
    parameters: Mapping[str, Any] = field(default_factory=dict)  # its Parameters, as written

    @classmethod
    def parse(cls, text: str, region: str = REGION) -> Template:
        raw = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
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


class AwsEmulator:
    """moto's server; ``port=0`` picks a free port. Serves every service moto has."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = REGION,
        template: Template | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.region = region
        self.template = template or Template.builtin(region)
        self._server: ThreadedMotoServer | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        if self.port:
            _check_free(self.host, self.port)
        werkzeug = logging.getLogger("werkzeug")
        if werkzeug.level == logging.NOTSET:
            # Werkzeug prints a line per request unless told otherwise: noise in a terminal.
            werkzeug.setLevel(logging.WARNING)
        self._server = _AtomicDynamoDBMotoServer(
            ip_address=self.host, port=self.port, verbose=False
        )
        self._server.start()
        self.port = int(self._server.get_host_and_port()[1])
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Self:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def environment(self) -> dict[str, str]:
        """What boto3 in the handlers needs to reach the emulator and never real AWS."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106
        )

    def dynamodb(self) -> DynamoDBClient:
        return self.client("dynamodb")  # type: ignore[no-any-return]

    def s3(self) -> S3Client:
        return self.client("s3")  # type: ignore[no-any-return]

    def secretsmanager(self) -> SecretsManagerClient:
        return self.client("secretsmanager")  # type: ignore[no-any-return]

    def create_state_table(self, name: str, template: Template | None = None) -> str:
        props = (template or self.template).properties(STATE_TABLE_ID)
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if "ProvisionedThroughput" in props:
            request["ProvisionedThroughput"] = props["ProvisionedThroughput"]
        if "SSEEnabled" in (sse := props.get("SSESpecification") or {}):
            request["SSESpecification"] = {"Enabled": str(sse["SSEEnabled"]).lower() == "true"}
        dynamodb = self.dynamodb()
        dynamodb.create_table(**request)
        if (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled"):
            dynamodb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        return name

    def create_backup_bucket(self, name: str, template: Template | None = None) -> str:
        # Lifecycle rules and the TLS-only bucket policy change nothing under moto (no
        # expiry, no TLS locally), so only what the gateway can observe is applied.
        props = (template or self.template).properties(BACKUP_BUCKET_ID)
        s3: Any = self.s3()  # the properties are the template's, not boto3-stubs' TypedDicts
        s3.create_bucket(Bucket=name)
        rules = (props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration")
        if rules:
            # CloudFormation's ServerSideEncryptionByDefault is the API's Apply... (same body).
            renamed = [{_SSE_KEYS.get(k, k): v for k, v in rule.items()} for rule in rules]
            s3.put_bucket_encryption(
                Bucket=name, ServerSideEncryptionConfiguration={"Rules": renamed}
            )
        if block := props.get("PublicAccessBlockConfiguration"):
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block)
        if ownership := props.get("OwnershipControls"):
            s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=ownership)
        if versioning := props.get("VersioningConfiguration"):
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=versioning)
        return name

    def create_token_secret(
        self, name: str, tokens: Sequence[str], template: Template | None = None
    ) -> str:
        """The ingest token secret, ``{"tokens": [...]}``; returns its ARN (what !Ref gives)."""
        props = (template or self.template).properties(INGEST_TOKEN_SECRET_ID)
        return self._secret(name, {"tokens": list(tokens)}, props.get("Description"))

    def create_headers_secret(self, name: str, headers: Mapping[str, str]) -> str:
        """A backend's headers secret, a JSON object of header name -> value; returns its ARN."""
        return self._secret(name, dict(headers))

    def _secret(self, name: str, value: Any, description: str | None = None) -> str:
        secrets, text = self.secretsmanager(), json.dumps(value)
        if description is None:
            return secrets.create_secret(Name=name, SecretString=text)["ARN"]
        return secrets.create_secret(Name=name, SecretString=text, Description=description)["ARN"]


class _AtomicDynamoDBMotoServer(ThreadedMotoServer):
    """moto's server, with DynamoDB requests handled one at a time.

    moto checks a condition and then applies the update without a lock, so two racing
    conditional writes can both win, which DynamoDB never allows; the state store's
    one-step-per-outage guarantee rests on exactly that. Serialising DynamoDB calls makes
    the emulator as strict as the real service. Other services stay concurrent.
    """

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def serialised(environ: dict[str, Any], start_response: Any) -> Any:
            if str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith("DynamoDB_"):
                with lock:
                    return list(app(environ, start_response))
            return app(environ, start_response)

        self._server = make_server(self._ip_address, self._port, serialised, True)
        self._server_ready_event.set()
        self._server.serve_forever(poll_interval=SHUTDOWN_POLL_SECONDS)


def _check_free(host: str, port: int) -> None:
    # moto binds in its own thread and start() would wait forever if the bind failed there.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise OSError(f"cannot start the AWS emulator on {host}:{port}: {exc}") from None
