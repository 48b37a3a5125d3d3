"""S3 and DynamoDB failing as they do in AWS, through a fault proxy in front of moto.

The error bodies are the services' own wire formats, so botocore classifies them as it
would in production: S3's ``SlowDown`` (503, XML) and DynamoDB's
``ProvisionedThroughputExceededException`` (400, JSON) are throttling errors it retries
with backoff; ``InternalServerError`` (500) is a transient one; a refused or reset
connection is a connection error.
"""

from __future__ import annotations

from typing import Self

from otlp_failover_dev.chaos.proxy import Fault, FaultProxy

# boto3's service-specific endpoints: they win over AWS_ENDPOINT_URL, so the handlers'
# S3, DynamoDB and Secrets Manager calls go through the proxies (the stack's own set-up
# talks to moto directly).
S3_ENDPOINT = "AWS_ENDPOINT_URL_S3"
DYNAMODB_ENDPOINT = "AWS_ENDPOINT_URL_DYNAMODB"
SECRETS_MANAGER_ENDPOINT = "AWS_ENDPOINT_URL_SECRETS_MANAGER"

S3_WRITES = frozenset({"PUT"})  # PutObject; reads and listings still work
_DYNAMODB_JSON = (("Content-Type", "application/x-amz-json-1.0"),)
_DYNAMODB_ERROR = "com.amazonaws.dynamodb.v20120810#"


def s3_slow_down() -> Fault:
    """Every PutObject answered 503 SlowDown, as S3 does when a prefix is over its rate."""
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
        b"<Message>Please reduce your request rate.</Message>"
        b"<RequestId>chaos</RequestId><HostId>chaos</HostId></Error>"
    )
    return Fault("answer", 503, body, (("Content-Type", "application/xml"),), S3_WRITES)


def s3_writes_reset() -> Fault:
    """Every PutObject's connection reset after the body was sent."""
    return Fault("reset", methods=S3_WRITES)


def dynamodb_throttled() -> Fault:
    return _dynamodb_error(
        400,
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
    )


def dynamodb_internal_error() -> Fault:
    return _dynamodb_error(500, "InternalServerError", "Internal server error")


def refused() -> Fault:
    """The service unreachable: connections refused."""
    return Fault("refuse")


def _dynamodb_error(status: int, code: str, message: str) -> Fault:
    body = f'{{"__type":"{_DYNAMODB_ERROR}{code}","message":"{message}"}}'.encode()
    return Fault("answer", status, body, _DYNAMODB_JSON)


class AwsProxies:
    """A fault proxy for each of S3, DynamoDB and Secrets Manager; ``connect`` points them
    at moto."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.s3 = FaultProxy("s3", host)
        self.dynamodb = FaultProxy("dynamodb", host, serialize=True)
        self.secretsmanager = FaultProxy("secretsmanager", host)

    @property
    def all(self) -> tuple[FaultProxy, ...]:
        return (self.s3, self.dynamodb, self.secretsmanager)

    def start(self) -> Self:
        for proxy in self.all:
            proxy.start()
        return self

    def environment(self) -> dict[str, str]:
        """What the handlers' boto3 needs to go through the proxies."""
        return {
            S3_ENDPOINT: self.s3.url,
            DYNAMODB_ENDPOINT: self.dynamodb.url,
            SECRETS_MANAGER_ENDPOINT: self.secretsmanager.url,
        }

    def connect(self, endpoint_url: str) -> None:
        for proxy in self.all:
            proxy.upstream = endpoint_url

    def heal(self) -> None:
        for proxy in self.all:
            proxy.heal()

    def stop(self) -> None:
        for proxy in self.all:
            proxy.stop()
