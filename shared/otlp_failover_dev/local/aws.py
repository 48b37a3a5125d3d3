"""The AWS emulator: moto's server on 127.0.0.1, resources created as template.yaml declares.

boto3 talks real HTTP to it, through ``AWS_ENDPOINT_URL``, so the handlers run unchanged.
The table and the bucket get the properties the template gives ``StateTable`` and
``BackupBucket`` (read by ``local/template.py``); the names are parameters, so tests can
make fresh ones per test.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self

import boto3
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from otlp_failover_dev.local.template import (
    BACKUP_BUCKET_ID,
    INGEST_TOKEN_SECRET_ID,
    REGION,
    STATE_TABLE_ID,
    Template,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_secretsmanager.client import SecretsManagerClient

log = logging.getLogger(__name__)

_SSE_KEYS = {"ServerSideEncryptionByDefault": "ApplyServerSideEncryptionByDefault"}
# How often the server looks for a stop: stopping waits for that, 0.5 s by default.
SHUTDOWN_POLL_SECONDS = 0.05


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
