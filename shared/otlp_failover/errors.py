"""The project's errors: one base class, each carrying what a user needs to act."""

from __future__ import annotations


class FailoverError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(FailoverError):
    """A configuration value is missing or wrong; ``field`` names it.

    Example field: ``priority_levels[1][0].endpoint``.
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"invalid configuration: {field}: {problem}")
        self.field = field
        self.problem = problem


class RequestError(FailoverError):
    """A client request the gateway refuses; maps to one HTTP status (OTLP/HTTP spec)."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequestError(RequestError):
    """The body does not decode as an OTLP export request (400)."""

    status = 400


class UnauthorizedError(RequestError):
    """No or a wrong bearer token (401)."""

    status = 401


class NotFoundError(RequestError):
    """Unknown path (404)."""

    status = 404


class MethodNotAllowedError(RequestError):
    """Known path, wrong method (405)."""

    status = 405


class PayloadTooLargeError(RequestError):
    """Body over the size limit, before or after decompression (413)."""

    status = 413


class UnsupportedMediaTypeError(RequestError):
    """Content type or content encoding the gateway does not speak (415)."""

    status = 415


class StateStoreError(FailoverError):
    """The shared state (DynamoDB) could not be read or written; ``code`` is the store's
    error code, the only part fit for /status (AWS messages can name roles and ARNs)."""

    def __init__(self, message: str, code: str = "error") -> None:
        super().__init__(message)
        self.code = code


class SecretError(FailoverError):
    """A secret could not be read or has the wrong shape; never carries the secret's value."""


class BackupError(FailoverError):
    """The backup bucket could not be read or changed; ``code`` is the store's error code."""

    def __init__(self, message: str, code: str = "error") -> None:
        super().__init__(message)
        self.code = code
