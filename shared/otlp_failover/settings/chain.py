"""Failover configuration in the collector's vocabulary, validated once, in one place.

    priority_levels:            # highest priority first; each level is a list of exporters
      - [otlphttp/primary: {endpoint: https://otlp.example.com, headers_secret: arn:...}]
      - [otlphttp/dr:      {endpoint: https://otlp.dr.example.com,
                            traces_endpoint: https://traces.dr.example.com/v1/traces}]
      - [s3/backup:        {bucket: my-bucket, prefix: backup}]
    max_retries: 3              # consecutive failures before moving one level down
    retry_interval: 30s         # how often the probe tries the levels above the current one
    retry_gap: 5s               # pause between probing two levels
    probe_successes: 2          # probes in a row a higher level must accept before traffic returns
    probe_request: empty        # what a probe sends: empty (an empty export) or canary (one item)

Every error names the field (``priority_levels[0][0].endpoint``) so a bad deployment fails
at cold start with one clear message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from otlp_failover.errors import ConfigError
from otlp_failover.settings.durations import format_duration, parse_duration

DEFAULT_MAX_RETRIES = 3
DEFAULT_RETRY_INTERVAL = 30.0
DEFAULT_RETRY_GAP = 5.0
DEFAULT_EXPORT_TIMEOUT = 5.0
DEFAULT_RETRY_MAX_ELAPSED = 2.0  # the client is waiting; the next level is the real retry
DEFAULT_RETRY_INITIAL_INTERVAL = 0.2
DEFAULT_RETRY_MAX_INTERVAL = 2.0
DEFAULT_BACKUP_PREFIX = "backup"
# Writes of one signal spread over this many key ranges (S3 serves about 3,500 PUT/s per
# partitioned prefix), and the drain replays the shards in parallel.
DEFAULT_BACKUP_SHARDS = 8
MAX_BACKUP_SHARDS = 100  # shard names are two digits
# The bucket's lifecycle rules expire these top-level prefixes (drained and set-aside
# objects): a backlog under them would expire before it is drained.
RESERVED_PREFIXES = ("processed", "deadletter")
DEFAULT_PROBE_SUCCESSES = 2  # one lucky answer must not move the whole fleet
PROBE_REQUESTS = ("empty", "canary")
DEFAULT_PROBE_REQUEST = "empty"
SIGNAL_NAMES = ("traces", "metrics", "logs")  # as in /v1/<signal> and <signal>_endpoint

# The probe's timing, which the chain must fit. One probe of one level takes at most
# PROBE_TIMEOUT; a probe run (functions/probe/app.py) probes for at most 55 s, and after
# its reports (levels, backlog) PROBE_PASS_SECONDS are left for the first pass, which must
# reach every level: the levels above the last, each probed, retry_gap apart.
PROBE_TIMEOUT = 5.0
PROBE_PASS_SECONDS = 45.0


@dataclass(frozen=True)
class RetryConfig:
    """The exporter's own retries inside one level (the collector's ``retry_on_failure``)."""

    enabled: bool = True
    initial_interval: float = DEFAULT_RETRY_INITIAL_INTERVAL
    max_interval: float = DEFAULT_RETRY_MAX_INTERVAL
    max_elapsed_time: float = DEFAULT_RETRY_MAX_ELAPSED


@dataclass(frozen=True)
class OtlpHttpConfig:
    name: str
    endpoint: str  # "" only when every signal has an endpoint of its own
    headers_secret: str | None = None
    timeout: float = DEFAULT_EXPORT_TIMEOUT
    retry: RetryConfig = field(default_factory=RetryConfig)
    # A signal's own full URL, as the collector's otlphttp exporter takes it.
    traces_endpoint: str | None = None
    metrics_endpoint: str | None = None
    logs_endpoint: str | None = None

    def url(self, signal_path: str) -> str:
        """The signal's own endpoint, used as given (``traces_endpoint``...); otherwise
        ``endpoint`` plus ``/v1/<signal>``, as OTEL_EXPORTER_OTLP_ENDPOINT is used."""
        own = {
            "/v1/traces": self.traces_endpoint,
            "/v1/metrics": self.metrics_endpoint,
            "/v1/logs": self.logs_endpoint,
        }.get(signal_path)
        return own or self.endpoint.rstrip("/") + signal_path


@dataclass(frozen=True)
class S3Config:
    name: str
    bucket: str
    prefix: str = DEFAULT_BACKUP_PREFIX
    shards: int = DEFAULT_BACKUP_SHARDS


ExporterConfig = OtlpHttpConfig | S3Config


@dataclass(frozen=True)
class FailoverConfig:
    priority_levels: tuple[tuple[ExporterConfig, ...], ...]
    max_retries: int = DEFAULT_MAX_RETRIES
    retry_interval: float = DEFAULT_RETRY_INTERVAL
    retry_gap: float = DEFAULT_RETRY_GAP
    probe_successes: int = DEFAULT_PROBE_SUCCESSES
    probe_request: str = DEFAULT_PROBE_REQUEST

    @property
    def level_count(self) -> int:
        return len(self.priority_levels)

    @property
    def backup(self) -> S3Config | None:
        """The S3 exporter of the last level, if the chain ends in a backup."""
        for exporter in self.priority_levels[-1]:
            if isinstance(exporter, S3Config):
                return exporter
        return None

    @property
    def otlp_levels(self) -> list[int]:
        """Levels made only of OTLP/HTTP exporters: where the probe and the drain send."""
        return [
            index
            for index, level in enumerate(self.priority_levels)
            if all(isinstance(exporter, OtlpHttpConfig) for exporter in level)
        ]

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> FailoverConfig:
        if not isinstance(raw, Mapping):
            raise ConfigError("config", "must be a mapping")
        unknown = set(raw) - {
            "priority_levels",
            "max_retries",
            "retry_interval",
            "retry_gap",
            "probe_successes",
            "probe_request",
        }
        if unknown:
            raise ConfigError(sorted(unknown)[0], "unknown field")
        levels = _levels(raw.get("priority_levels"))
        config = cls(
            priority_levels=levels,
            max_retries=_positive_int(raw, "max_retries", DEFAULT_MAX_RETRIES),
            retry_interval=_duration(raw, "retry_interval", DEFAULT_RETRY_INTERVAL, minimum=1),
            retry_gap=_duration(raw, "retry_gap", DEFAULT_RETRY_GAP, minimum=0),
            probe_successes=_positive_int(raw, "probe_successes", DEFAULT_PROBE_SUCCESSES),
            probe_request=_choice(raw, "probe_request", PROBE_REQUESTS, DEFAULT_PROBE_REQUEST),
        )
        # The collector's rule: one probe pass over the levels above the last (retry_gap
        # apart) must fit inside one retry_interval, or passes would overlap.
        gaps = config.retry_gap * (len(levels) - 1)
        if len(levels) > 1 and config.retry_interval <= gaps:
            raise ConfigError(
                "retry_interval",
                f"must be greater than retry_gap x the levels above the last "
                f"({format_duration(config.retry_gap)} x {len(levels) - 1} = "
                f"{format_duration(gaps)}); lower retry_gap or raise retry_interval",
            )
        _check_probe_pass(config)
        return config


def _check_probe_pass(config: FailoverConfig) -> None:
    """The first probe pass of a run must reach the last level above the backup, or a
    chain whose upper levels stay down would never probe the ones below them."""
    above = config.level_count - 1
    worst = above * PROBE_TIMEOUT + max(0, above - 1) * config.retry_gap
    if worst > PROBE_PASS_SECONDS:
        raise ConfigError(
            "retry_gap" if config.retry_gap and above > 1 else "priority_levels",
            f"one probe pass ({above} levels x {format_duration(PROBE_TIMEOUT)} per probe, "
            f"{max(0, above - 1)} x retry_gap {format_duration(config.retry_gap)} between "
            f"them = {format_duration(worst)}) must fit in "
            f"{format_duration(PROBE_PASS_SECONDS)} of a probe run; lower retry_gap",
        )


def _levels(raw: Any) -> tuple[tuple[ExporterConfig, ...], ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise ConfigError("priority_levels", "must be a non-empty list of levels")
    levels: list[tuple[ExporterConfig, ...]] = []
    names: set[str] = set()
    for index, level in enumerate(raw):
        where = f"priority_levels[{index}]"
        if not isinstance(level, Sequence) or isinstance(level, str) or not level:
            raise ConfigError(where, "must be a non-empty list of exporters")
        exporters = tuple(_exporter(f"{where}[{i}]", entry) for i, entry in enumerate(level))
        for exporter in exporters:
            if exporter.name in names:
                raise ConfigError(where, f"exporter name {exporter.name!r} is used twice")
            names.add(exporter.name)
        if any(isinstance(e, S3Config) for e in exporters) and index != len(raw) - 1:
            raise ConfigError(where, "an s3 exporter belongs in the last level only")
        levels.append(exporters)
    return tuple(levels)


def _exporter(where: str, entry: Any) -> ExporterConfig:
    if not isinstance(entry, Mapping) or len(entry) != 1:
        raise ConfigError(
            where, "must be one mapping {'otlphttp[/name]': {...}} or {'s3[/name]': {...}}"
        )
    ((key, settings),) = entry.items()
    kind = str(key).partition("/")[0]
    settings = settings or {}
    if not isinstance(settings, Mapping):
        raise ConfigError(f"{where}.{key}", "must be a mapping")
    if kind == "otlphttp":
        return _otlphttp(f"{where}.{key}", key, settings)
    if kind == "s3":
        return _s3(f"{where}.{key}", key, settings)
    raise ConfigError(where, f"unknown exporter type {kind!r} (otlphttp or s3)")


def _otlphttp(where: str, name: str, raw: Mapping[str, Any]) -> OtlpHttpConfig:
    per_signal = [f"{signal}_endpoint" for signal in SIGNAL_NAMES]
    known = {"endpoint", "headers_secret", "timeout", "retry_on_failure", *per_signal}
    _no_unknown(where, raw, known)
    signal_endpoints = {
        key: _url(f"{where}.{key}", raw[key]) for key in per_signal if raw.get(key) is not None
    }
    endpoint = raw.get("endpoint")
    if endpoint is None and len(signal_endpoints) < len(per_signal):
        # Every level takes every signal: a signal without a URL would have nowhere to go.
        raise ConfigError(
            f"{where}.endpoint",
            f"is required unless {', '.join(per_signal)} are all set",
        )
    endpoint = "" if endpoint is None else _url(f"{where}.endpoint", endpoint)
    secret = raw.get("headers_secret")
    if secret is not None and (not isinstance(secret, str) or not secret):
        raise ConfigError(f"{where}.headers_secret", "must be a secret name or ARN")
    return OtlpHttpConfig(
        name=name,
        endpoint=endpoint,
        headers_secret=secret or None,
        timeout=_duration(raw, "timeout", DEFAULT_EXPORT_TIMEOUT, minimum=0.001, where=where),
        retry=_retry(f"{where}.retry_on_failure", raw.get("retry_on_failure") or {}),
        traces_endpoint=signal_endpoints.get("traces_endpoint"),
        metrics_endpoint=signal_endpoints.get("metrics_endpoint"),
        logs_endpoint=signal_endpoints.get("logs_endpoint"),
    )


def _url(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(where, "is required")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(where, "must be an http:// or https:// URL")
    if parts.username or parts.password:
        raise ConfigError(where, "must not hold credentials; use headers_secret")
    return value


def _retry(where: str, raw: Any) -> RetryConfig:
    if not isinstance(raw, Mapping):
        raise ConfigError(where, "must be a mapping")
    _no_unknown(where, raw, {"enabled", "initial_interval", "max_interval", "max_elapsed_time"})
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}.enabled", "must be true or false")
    return RetryConfig(
        enabled=enabled,
        initial_interval=_duration(
            raw, "initial_interval", DEFAULT_RETRY_INITIAL_INTERVAL, 0, where
        ),
        max_interval=_duration(raw, "max_interval", DEFAULT_RETRY_MAX_INTERVAL, 0, where),
        max_elapsed_time=_duration(raw, "max_elapsed_time", DEFAULT_RETRY_MAX_ELAPSED, 0, where),
    )


def _s3(where: str, name: str, raw: Mapping[str, Any]) -> S3Config:
    _no_unknown(where, raw, {"bucket", "prefix", "shards"})
    bucket = raw.get("bucket")
    if not isinstance(bucket, str) or not bucket:
        raise ConfigError(f"{where}.bucket", "is required")
    prefix = raw.get("prefix", DEFAULT_BACKUP_PREFIX)
    if not isinstance(prefix, str) or not prefix.strip("/"):
        raise ConfigError(f"{where}.prefix", "must be a non-empty key prefix")
    prefix = prefix.strip("/")
    if prefix.split("/", 1)[0] in RESERVED_PREFIXES:
        raise ConfigError(
            f"{where}.prefix",
            f"must not start with {' or '.join(RESERVED_PREFIXES)}: the bucket's lifecycle "
            "rules expire those prefixes, so an undrained backlog would be lost",
        )
    shards = _positive_int(raw, "shards", DEFAULT_BACKUP_SHARDS, where)
    if shards > MAX_BACKUP_SHARDS:
        raise ConfigError(f"{where}.shards", f"must be at most {MAX_BACKUP_SHARDS}")
    return S3Config(name=name, bucket=bucket, prefix=prefix, shards=shards)


def _no_unknown(where: str, raw: Mapping[str, Any], known: set[str]) -> None:
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{where}.{sorted(unknown)[0]}", "unknown field")


def _positive_int(raw: Mapping[str, Any], key: str, default: int, where: str = "") -> int:
    name = f"{where}.{key}" if where else key
    value = raw.get(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(name, f"must be a whole number, got {value!r}") from None
    if isinstance(value, bool) or number < 1 or str(number) != str(value).strip():
        raise ConfigError(name, f"must be a whole number >= 1, got {value!r}")
    return number


def _choice(raw: Mapping[str, Any], key: str, choices: Sequence[str], default: str) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or value.strip().lower() not in choices:
        raise ConfigError(key, f"must be one of {', '.join(choices)}, got {value!r}")
    return value.strip().lower()


def _duration(
    raw: Mapping[str, Any], key: str, default: float, minimum: float, where: str = ""
) -> float:
    name = f"{where}.{key}" if where else key
    value = raw.get(key)
    if value is None:
        return default
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise ConfigError(name, str(exc)) from None
    if seconds < minimum:
        raise ConfigError(name, f"must be at least {minimum}s")
    return seconds
