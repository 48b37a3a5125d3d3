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
    # The local stack and `otlp-failover drain` run 8 drain workers of 4 readers each on one
    # client; a pool smaller than that drops connections ("Connection pool is full").
    max_pool_connections=40,
)
# Shorter still for Secrets Manager, and one attempt: a header secret is read inside an
# export's deadline (at most 3 s here), and its cache serves the last good value (or fails
# the level fast) when a read fails.
SECRETS_CONFIG = AWS_CONFIG.merge(
    Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1, "mode": "standard"})
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
            secretsmanager=aws.client("secretsmanager", config=SECRETS_CONFIG),
            session=aws,
        )

    def lambda_client(self) -> LambdaClient:
        """Only the probe and the drain start functions; the ingest never builds this one.
        The same short timeouts: the probe starts a drain at the end of its budget."""
        return self.session.client("lambda", config=AWS_CONFIG)  # type: ignore[no-any-return]
