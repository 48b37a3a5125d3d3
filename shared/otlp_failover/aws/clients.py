"""The boto3 clients, built once per cold start with timeouts that fit an export's deadline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_lambda.client import LambdaClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_secretsmanager.client import SecretsManagerClient

# Short timeouts and few retries: a slow AWS call must not use up the client's deadline.
AWS_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"max_attempts": 2, "mode": "standard"},
    max_pool_connections=16,
)


@dataclass(frozen=True)
class AwsClients:
    dynamodb: DynamoDBClient
    s3: S3Client
    secretsmanager: SecretsManagerClient
    session: Any

    @classmethod
    def build(cls, session: Any = None) -> AwsClients:
        aws = session or boto3.session.Session()
        return cls(
            dynamodb=aws.client("dynamodb", config=AWS_CONFIG),
            s3=aws.client("s3", config=AWS_CONFIG),
            secretsmanager=aws.client("secretsmanager", config=AWS_CONFIG),
            session=aws,
        )

    def lambda_client(self) -> LambdaClient:
        """Only the probe and the drain start functions; the ingest never builds this one."""
        return self.session.client("lambda")  # type: ignore[no-any-return]
