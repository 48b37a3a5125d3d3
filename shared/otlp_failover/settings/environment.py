"""The one place for environment variable names and their defaults.

The SAM template and the local stack set these; everything else reads ``Settings``.
A full N-level chain can be given as JSON in ``FAILOVER_CONFIG``; otherwise the common
primary -> optional secondary -> S3 chain is built from the single-value variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from otlp_failover.errors import ConfigError
from otlp_failover.settings.chain import FailoverConfig

FAILOVER_CONFIG = "FAILOVER_CONFIG"
PRIMARY_ENDPOINT = "PRIMARY_ENDPOINT"
PRIMARY_HEADERS_SECRET = "PRIMARY_HEADERS_SECRET"  # noqa: S105 - a variable name
SECONDARY_ENDPOINT = "SECONDARY_ENDPOINT"
SECONDARY_HEADERS_SECRET = "SECONDARY_HEADERS_SECRET"  # noqa: S105 - a variable name
HEADERS_CACHE_TTL = "HEADERS_CACHE_TTL"  # seconds a backend's headers secret is kept
TOKEN_CACHE_TTL = "TOKEN_CACHE_TTL"  # noqa: S105 - seconds the ingest tokens are kept
EXPORT_TIMEOUT = "EXPORT_TIMEOUT"
EXPORT_RETRY_BUDGET = "EXPORT_RETRY_BUDGET"  # retry_on_failure.max_elapsed_time per exporter
BACKUP_BUCKET = "BACKUP_BUCKET"
BACKUP_PREFIX = "BACKUP_PREFIX"
MAX_RETRIES = "MAX_RETRIES"
RETRY_INTERVAL = "RETRY_INTERVAL"
RETRY_GAP = "RETRY_GAP"
PROBE_SUCCESSES = "PROBE_SUCCESSES"
PROBE_REQUEST = "PROBE_REQUEST"
STATE_TABLE = "STATE_TABLE"
STATE_CACHE_TTL = "STATE_CACHE_TTL"
AUTH_MODE = "AUTH_MODE"  # "token": bearer tokens from INGEST_TOKEN_SECRET; "iam": SigV4 at the API
INGEST_TOKEN_SECRET = "INGEST_TOKEN_SECRET"  # noqa: S105 - a variable name
MAX_BODY_BYTES = "MAX_BODY_BYTES"
MAX_DECOMPRESSED_BYTES = "MAX_DECOMPRESSED_BYTES"
BACKUP_SHARDS = "BACKUP_SHARDS"
DRAIN_FUNCTION_NAME = "DRAIN_FUNCTION_NAME"
DRAIN_RATE = "DRAIN_RATE"
DRAIN_BATCH_LINES = "DRAIN_BATCH_LINES"
DRAIN_CONCURRENCY = "DRAIN_CONCURRENCY"
DRAIN_TIMEOUT = "DRAIN_TIMEOUT"  # the drain function's timeout, seconds (template: DrainTimeout)
METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"  # Powertools reads the same variable
LAMBDA_LOG_LEVEL = "AWS_LAMBDA_LOG_LEVEL"  # set by Lambda from LoggingConfig.ApplicationLogLevel

# API Gateway / Lambda hard limit is 6 MB for the whole event; the body is base64 inside it.
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024 + 512 * 1024
# The collector's OTLP receiver default (confighttp max_request_body_size): the backup
# write of an export this large fits a 512 MB function.
DEFAULT_MAX_DECOMPRESSED_BYTES = 20 * 1024 * 1024
DEFAULT_STATE_CACHE_TTL = 5.0
# A rotated backend key is used within this many seconds, or at once when the backend
# refuses the old one (401/403); one Secrets Manager read per secret and instance per TTL.
DEFAULT_HEADERS_CACHE_TTL = 300.0
# The ingest tokens: a rotated token is honoured within a minute, per instance.
DEFAULT_TOKEN_CACHE_TTL = 60.0
DEFAULT_METRICS_NAMESPACE = "OtlpFailover"
DEFAULT_DRAIN_RATE = 20.0  # requests per second into a backend that just recovered
DEFAULT_DRAIN_BATCH_LINES = 200
DEFAULT_DRAIN_BATCH_BYTES = 2 * 1024 * 1024
# Bytes of objects fetched ahead of sending, per worker; an object larger than this is read
# alone. With one batch and one object being decoded, a worker holds a few times this.
DEFAULT_DRAIN_READ_AHEAD_BYTES = 16 * 1024 * 1024
DEFAULT_DRAIN_READERS = 4  # parallel GETs per worker: S3 latency, not CPU, bounds a worker
DEFAULT_DRAIN_CONCURRENCY = 8  # workers at once, one per (signal, shard)
DEFAULT_DRAIN_TIMEOUT = 300.0


@dataclass(frozen=True)
class DrainLimits:
    rate: float = DEFAULT_DRAIN_RATE  # requests per second to the backend, all workers together
    batch_lines: int = DEFAULT_DRAIN_BATCH_LINES  # export requests merged into one POST
    batch_bytes: int = DEFAULT_DRAIN_BATCH_BYTES
    read_ahead_bytes: int = DEFAULT_DRAIN_READ_AHEAD_BYTES
    readers: int = DEFAULT_DRAIN_READERS
    concurrency: int = DEFAULT_DRAIN_CONCURRENCY
    timeout: float = DEFAULT_DRAIN_TIMEOUT  # one drain invocation's time limit

    @property
    def worker_rate(self) -> float:
        """Each of ``concurrency`` workers paces itself at its share of the total rate."""
        return self.rate / self.concurrency


@dataclass(frozen=True)
class Settings:
    failover: FailoverConfig
    state_table: str
    state_cache_ttl: float = DEFAULT_STATE_CACHE_TTL
    headers_cache_ttl: float = DEFAULT_HEADERS_CACHE_TTL
    token_cache_ttl: float = DEFAULT_TOKEN_CACHE_TTL
    ingest_token_secret: str | None = None
    auth_mode: str = "token"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    drain_function_name: str | None = None
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE
    log_level: str = "INFO"  # the function's application log level; EMF lines carry it
    drain: DrainLimits = field(default_factory=DrainLimits)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        table = env.get(STATE_TABLE, "")
        if not table:
            raise ConfigError(STATE_TABLE, "is required (the DynamoDB table holding the levels)")
        return cls(
            failover=failover_config(env),
            state_table=table,
            state_cache_ttl=_number(env, STATE_CACHE_TTL, DEFAULT_STATE_CACHE_TTL),
            headers_cache_ttl=_number(env, HEADERS_CACHE_TTL, DEFAULT_HEADERS_CACHE_TTL),
            token_cache_ttl=_number(env, TOKEN_CACHE_TTL, DEFAULT_TOKEN_CACHE_TTL),
            ingest_token_secret=env.get(INGEST_TOKEN_SECRET) or None,
            auth_mode=_auth_mode(env),
            max_body_bytes=int(_number(env, MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES)),
            max_decompressed_bytes=int(
                _number(env, MAX_DECOMPRESSED_BYTES, DEFAULT_MAX_DECOMPRESSED_BYTES)
            ),
            drain_function_name=env.get(DRAIN_FUNCTION_NAME) or None,
            metrics_namespace=env.get(METRICS_NAMESPACE) or DEFAULT_METRICS_NAMESPACE,
            log_level=(env.get(LAMBDA_LOG_LEVEL) or "INFO").strip().upper(),
            drain=DrainLimits(
                rate=_number(env, DRAIN_RATE, DEFAULT_DRAIN_RATE) or DEFAULT_DRAIN_RATE,
                batch_lines=max(1, int(_number(env, DRAIN_BATCH_LINES, DEFAULT_DRAIN_BATCH_LINES))),
                concurrency=max(1, int(_number(env, DRAIN_CONCURRENCY, DEFAULT_DRAIN_CONCURRENCY))),
                timeout=_number(env, DRAIN_TIMEOUT, DEFAULT_DRAIN_TIMEOUT),
            ),
        )

    def ingest_token(self) -> str | None:
        """The token secret the ingest checks clients against; None in IAM mode.

        Only the ingest function asks: the probe and the drain are given no token secret.
        """
        if self.auth_mode == "iam":
            return None
        if self.ingest_token_secret is None:
            raise ConfigError(INGEST_TOKEN_SECRET, f"is required unless {AUTH_MODE} is iam")
        return self.ingest_token_secret


def failover_config(env: Mapping[str, str]) -> FailoverConfig:
    """The chain from ``FAILOVER_CONFIG`` (JSON) or from the single-value variables."""
    if env.get(FAILOVER_CONFIG):
        try:
            raw = orjson.loads(env[FAILOVER_CONFIG])
        except orjson.JSONDecodeError as exc:
            raise ConfigError(FAILOVER_CONFIG, f"is not valid JSON ({exc})") from None
        return FailoverConfig.from_mapping(_with_stack_backup(raw, env))
    return FailoverConfig.from_mapping(_simple_chain(env))


def _with_stack_backup(raw: Any, env: Mapping[str, str]) -> Any:
    """An ``s3`` exporter of FAILOVER_CONFIG without a bucket is the stack's own backup:
    the template creates the bucket, so a chain written before the deployment cannot name
    it. It gets BACKUP_BUCKET, and BACKUP_PREFIX and BACKUP_SHARDS unless it sets them, so
    that the functions' IAM grants (on that bucket and prefix) cover it. Anything not
    shaped like a chain is left as it is, for ``from_mapping`` to name what is wrong."""
    levels = raw.get("priority_levels") if isinstance(raw, Mapping) else None
    if not env.get(BACKUP_BUCKET) or not isinstance(levels, list):
        return raw
    stack = {
        key: value
        for key, value in (
            ("bucket", env[BACKUP_BUCKET]),
            ("prefix", env.get(BACKUP_PREFIX)),
            ("shards", env.get(BACKUP_SHARDS)),
        )
        if value
    }
    filled = [
        [_stack_bucket(entry, stack) for entry in level] if isinstance(level, list) else level
        for level in levels
    ]
    return {**raw, "priority_levels": filled}


def _stack_bucket(entry: Any, stack: Mapping[str, str]) -> Any:
    if not isinstance(entry, Mapping) or len(entry) != 1:
        return entry
    ((key, settings),) = entry.items()
    settings = settings or {}
    if str(key).partition("/")[0] != "s3" or not isinstance(settings, Mapping):
        return entry
    return entry if "bucket" in settings else {key: {**stack, **settings}}


def _simple_chain(env: Mapping[str, str]) -> dict[str, Any]:
    if not env.get(PRIMARY_ENDPOINT):
        raise ConfigError(PRIMARY_ENDPOINT, f"is required (or set {FAILOVER_CONFIG})")
    levels: list[list[dict[str, Any]]] = []
    for name, endpoint_var, secret_var in (
        ("primary", PRIMARY_ENDPOINT, PRIMARY_HEADERS_SECRET),
        ("secondary", SECONDARY_ENDPOINT, SECONDARY_HEADERS_SECRET),
    ):
        if not env.get(endpoint_var):
            continue
        exporter: dict[str, Any] = {"endpoint": env[endpoint_var]}
        if env.get(secret_var):
            exporter["headers_secret"] = env[secret_var]
        if env.get(EXPORT_TIMEOUT):
            exporter["timeout"] = env[EXPORT_TIMEOUT]
        if env.get(EXPORT_RETRY_BUDGET):
            exporter["retry_on_failure"] = {"max_elapsed_time": env[EXPORT_RETRY_BUDGET]}
        levels.append([{f"otlphttp/{name}": exporter}])
    if env.get(BACKUP_BUCKET):
        backup: dict[str, Any] = {
            "bucket": env[BACKUP_BUCKET],
            "prefix": env.get(BACKUP_PREFIX) or "backup",
        }
        if env.get(BACKUP_SHARDS):
            backup["shards"] = env[BACKUP_SHARDS]
        levels.append([{"s3/backup": backup}])
    raw: dict[str, Any] = {"priority_levels": levels}
    for key, var in (
        ("max_retries", MAX_RETRIES),
        ("retry_interval", RETRY_INTERVAL),
        ("retry_gap", RETRY_GAP),
        ("probe_successes", PROBE_SUCCESSES),
        ("probe_request", PROBE_REQUEST),
    ):
        if env.get(var):
            raw[key] = env[var]
    return raw


def _auth_mode(env: Mapping[str, str]) -> str:
    mode = (env.get(AUTH_MODE) or "token").strip().lower()
    if mode not in ("token", "iam"):
        raise ConfigError(AUTH_MODE, f"must be 'token' or 'iam', got {mode!r}")
    return mode


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    if not env.get(name):
        return default
    try:
        value = float(env[name])
    except ValueError:
        raise ConfigError(name, f"must be a number, got {env[name]!r}") from None
    if value < 0:
        raise ConfigError(name, "must not be negative")
    return value
