"""One "deployed stack" on the emulator: fresh resources, the template's settings for each
function with their names, and the sample events of events/ adapted to it."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from otlp_failover_dev.local.aws import AwsEmulator
from tests.artifact.build import FUNCTION_IDS, Artifacts
from tests.artifact.interpreter import Interpreter
from tests.artifact.lambda_api import LambdaInvokeQueue, QueuedInvocation
from tests.artifact.lambda_process import Invocation, LambdaFunction
from tests.artifact.template_functions import DeployedTemplate


@dataclass(frozen=True)
class Deployment:
    repo: Path
    aws: AwsEmulator
    interpreter: Interpreter
    artifacts: Artifacts
    lambda_api: LambdaInvokeQueue
    template: DeployedTemplate
    table: str
    bucket: str
    token: str  # the ingest token clients send; never printed
    workdir: Path

    @classmethod
    def create(
        cls,
        repo: Path,
        aws: AwsEmulator,
        interpreter: Interpreter,
        artifacts: Artifacts,
        lambda_api: LambdaInvokeQueue,
        parameters: Mapping[str, str],
        workdir: Path,
    ) -> Deployment:
        """Resources as the template declares them, under fresh names; ``parameters`` as
        ``sam deploy --parameter-overrides`` gives them."""
        suffix = uuid.uuid4().hex[:12]
        table = aws.create_state_table(f"state-{suffix}")
        bucket = aws.create_backup_bucket(f"backup-{suffix}")
        token = secrets.token_urlsafe(24)
        token_secret = aws.create_token_secret(f"token-{suffix}", [token])
        template = DeployedTemplate(
            repo / "template.yaml",
            parameters,
            {"StateTable": table, "BackupBucket": bucket, "IngestTokenSecret": token_secret},
        )
        return cls(
            repo, aws, interpreter, artifacts, lambda_api, template, table, bucket, token, workdir
        )

    def function(self, logical_id: str, layer_site: Path | None = None) -> LambdaFunction:
        return LambdaFunction(
            interpreter=self.interpreter,
            artifacts=self.artifacts,
            spec=self.template.function(logical_id),
            aws_environment={
                **self.aws.environment(),
                "AWS_ENDPOINT_URL_LAMBDA": self.lambda_api.url,
            },
            workdir=self.workdir,
            layer_site=layer_site,
        )

    def run_queued(self, rounds: int = 5) -> list[tuple[QueuedInvocation, Invocation]]:
        """Run the asynchronous invocations the functions asked for, and those these ask
        for in turn, as Lambda would; at most ``rounds`` generations of them."""
        by_name = {self.template.function(i).name: i for i in FUNCTION_IDS.values()}
        ran: list[tuple[QueuedInvocation, Invocation]] = []
        for _ in range(rounds):
            queued = self.lambda_api.take()
            if not queued:
                return ran
            for request in queued:
                function = self.function(by_name[request.function_name])
                ran.append((request, function.invoke(request.payload)))
        raise AssertionError(f"the functions still invoke each other after {rounds} rounds")

    def event(self, name: str) -> dict[str, Any]:
        """events/<name>.json; an API Gateway event carries this stack's token instead of
        the sample's."""
        event: dict[str, Any] = json.loads(
            (self.repo / "events" / f"{name}.json").read_text(encoding="utf-8")
        )
        if "authorization" in (event.get("headers") or {}):
            event["headers"]["authorization"] = f"Bearer {self.token}"
        return event

    @property
    def backup_prefix(self) -> str:
        return self.template.function("IngestFunction").environment["BACKUP_PREFIX"]

    def backlog_keys(self, signal: str) -> list[str]:
        """The keys of the signal's backup objects waiting to be drained."""
        listed = self.aws.s3().list_objects_v2(
            Bucket=self.bucket, Prefix=f"{self.backup_prefix}/{signal}/"
        )
        return [item["Key"] for item in listed.get("Contents", [])]

    def read_object(self, key: str) -> bytes:
        return self.aws.s3().get_object(Bucket=self.bucket, Key=key)["Body"].read()
