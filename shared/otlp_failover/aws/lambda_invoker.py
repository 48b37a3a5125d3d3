"""Starts a Lambda function asynchronously: the probe starts the drain, which continues itself."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson

from otlp_failover.aws.errors import AWS_ERRORS, error_code

if TYPE_CHECKING:
    from mypy_boto3_lambda.client import LambdaClient

log = logging.getLogger(__name__)


class AsyncInvoker:
    def __init__(self, client: LambdaClient, function_name: str) -> None:
        self._client = client
        self.function_name = function_name

    def __call__(self, payload: dict[str, Any]) -> bool:
        """Queue one invocation; a failure is logged, since the schedule starts it anyway."""
        try:
            self._client.invoke(
                FunctionName=self.function_name,
                InvocationType="Event",
                Payload=orjson.dumps(payload),
            )
        except AWS_ERRORS as exc:
            log.warning("could not start %s: %s", self.function_name, error_code(exc))
            return False
        return True
