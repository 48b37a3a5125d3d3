"""One mapper for AWS errors: botocore's exceptions in, a short secret-free reason out."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

# What every adapter catches: an AWS answer (ClientError) or no answer (BotoCoreError).
AWS_ERRORS = (ClientError, BotoCoreError)

CONDITION_FAILED = "ConditionalCheckFailedException"


def error_code(exc: BaseException) -> str:
    """``ThrottlingException``, ``NoSuchKey``...; the class name when AWS did not answer."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "error")
    return type(exc).__name__


def condition_failed(exc: BaseException) -> bool:
    """A conditional write that lost its condition: an answer, not a failure."""
    return isinstance(exc, ClientError) and error_code(exc) == CONDITION_FAILED
