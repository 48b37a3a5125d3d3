"""One collector exporter as the gateway's: ``otlphttp`` stays an OTLP/HTTP exporter (its
headers go to a secret), ``file`` becomes the S3 backup, ``otlp`` (gRPC) and the rest are
refused with the reason. Each setting the gateway has no use for is named in a note."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from otlp_failover.settings.chain import SIGNAL_NAMES
from otlp_failover.settings.durations import parse_duration
from otlp_failover_dev.collector_config.document import CollectorConfigError, Node, component_type
from otlp_failover_dev.collector_config.expand import expand
from otlp_failover_dev.collector_config.translation import HeaderSecret

SIGNAL_ENDPOINTS = tuple(f"{signal}_endpoint" for signal in SIGNAL_NAMES)
# A debug exporter never fails, so failover never sees it; it only prints on the collector.
SILENT_TYPES = frozenset({"debug", "logging", "nop"})
_RETRY_KEYS = frozenset({"enabled", "initial_interval", "max_interval", "max_elapsed_time"})
_RETRY_IGNORED = frozenset({"multiplier", "randomization_factor"})
# Certificates the gateway cannot present or trust: the backend would be unreachable.
_TLS_REFUSED = frozenset({"ca_file", "ca_pem", "cert_file", "cert_pem", "key_file", "key_pem"})
_CONNECTION_TUNING = frozenset(
    {
        "read_buffer_size",
        "write_buffer_size",
        "max_idle_conns",
        "max_idle_conns_per_host",
        "max_conns_per_host",
        "idle_conn_timeout",
        "disable_keep_alives",
        "http2_read_idle_timeout",
        "http2_ping_timeout",
        "proxy_url",
        "cookies",
    }
)
NOT_TRANSLATED = "not translated (the gateway has no such setting)"
_AS_SENT = (
    "ignored: the gateway forwards each export as its client sent it (protobuf or JSON, "
    "with the client's Content-Encoding: gzip, zstd, snappy, deflate, zlib or lz4; a "
    "backend that answers 415 to it gets gzip)"
)
QUEUE_NOTE = (
    "not needed: the gateway keeps no queue; it answers an export only once a level has "
    "accepted it, so the client's own retries cover an outage"
)
_IGNORED = {
    "compression": _AS_SENT,
    "encoding": _AS_SENT,
    "sending_queue": QUEUE_NOTE,
    "profiles_endpoint": "ignored: the gateway takes traces, metrics and logs",
}
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an HTTP field name (RFC 9110)
_SECRET_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9/_+=.@-]")
_LONG_RETRY = 10.0  # seconds: beyond this a note says where the gateway's retries stop


@dataclass(frozen=True)
class Translated:
    entry: dict[str, Any] | None  # {"otlphttp/primary": {...}}; None: left out of the level
    secret: HeaderSecret | None = None
    notes: tuple[str, ...] = ()


def translate_exporter(
    exporter_id: str, node: Node, env: Mapping[str, str], secret_prefix: str
) -> Translated:
    kind = component_type(exporter_id)
    if kind == "otlphttp":
        return _otlphttp(exporter_id, node, env, secret_prefix)
    if kind == "file":
        return _file(exporter_id, node)
    if kind in SILENT_TYPES:
        return Translated(None, notes=(f"{node.path}: left out: a {kind} exporter never fails",))
    if kind == "otlp":
        raise CollectorConfigError(
            node.path,
            "the otlp exporter speaks OTLP/gRPC (port 4317), which the gateway does not; "
            "use an otlphttp exporter to the same backend (OTLP/HTTP, port 4318)",
        )
    raise CollectorConfigError(
        node.path,
        f"exporter type {kind!r} cannot be translated: the gateway's levels are otlphttp "
        "exporters and, last, the S3 backup (from a file exporter)",
    )


def _otlphttp(
    exporter_id: str, node: Node, env: Mapping[str, str], secret_prefix: str
) -> Translated:
    settings: dict[str, Any] = {}
    notes: list[str] = []
    secret: HeaderSecret | None = None
    tuning: list[str] = []
    for key, child in node.items():
        if key == "endpoint" or key in SIGNAL_ENDPOINTS:
            settings[key] = expand(child, env, "URL").value
        elif key == "timeout":
            settings[key] = expand(child, env, "duration").value
        elif key == "headers":
            secret = _headers(exporter_id, child, env, secret_prefix)
        elif key == "retry_on_failure":
            settings[key] = _retry(child, env, notes)
        elif key == "tls":
            notes.extend(_tls(child))
        elif key == "auth":
            raise CollectorConfigError(
                child.path,
                "authenticator extensions cannot be translated; put the credential in "
                "headers (e.g. Authorization: Bearer ${env:TOKEN}), which go to a secret",
            )
        elif key in _CONNECTION_TUNING:
            tuning.append(key)
        else:
            notes.append(f"{child.path}: {_IGNORED.get(key, NOT_TRANSLATED)}")
    if tuning:
        notes.append(
            f"{node.path}: {', '.join(tuning)} ignored: the gateway keeps its own pool of "
            "keep-alive connections, direct to the backend"
        )
    if "timeout" not in settings:
        notes.append(
            f"{node.path}.timeout: not set: the gateway's 5s per request (the collector's is "
            "30s; the API gives one export 30s for every level together)"
        )
    if secret is not None:  # beside the endpoints, where a reader looks for it
        urls = {k: v for k, v in settings.items() if k.endswith("endpoint")}
        settings = {**urls, "headers_secret": secret.name, **settings}
    return Translated({exporter_id: settings}, secret, tuple(notes))


def _headers(
    exporter_id: str, node: Node, env: Mapping[str, str], secret_prefix: str
) -> HeaderSecret | None:
    headers: dict[str, str] = {}
    origins: dict[str, str] = {}
    seen: dict[str, str] = {}
    for name, child in node.items():
        if not _HEADER_NAME.fullmatch(name):
            raise CollectorConfigError(child.path, "is not an HTTP header name")
        if name.lower() in seen:
            raise CollectorConfigError(child.path, f"repeats header {seen[name.lower()]!r}")
        seen[name.lower()] = name
        value = expand(child, env, "header value")
        # The value is a credential: no message below repeats it.
        if not value.value.strip():
            raise CollectorConfigError(child.path, "is empty" + _via(value.references))
        if any(c in value.value for c in "\r\n\0"):
            raise CollectorConfigError(child.path, "must be one line" + _via(value.references))
        headers[name] = value.value
        origins[name] = (
            "from " + ", ".join(value.references) if value.from_environment else "literal"
        )
    if not headers:
        return None
    return HeaderSecret(exporter_id, secret_name(exporter_id, secret_prefix), headers, origins)


def secret_name(exporter_id: str, prefix: str) -> str:
    """``otlp-failover/primary-headers`` for ``otlphttp/primary``."""
    kind, _, name = exporter_id.partition("/")
    return prefix + _SECRET_NAME_UNSAFE.sub("-", name or kind) + "-headers"


def _via(references: tuple[str, ...]) -> str:
    return f" (from {', '.join(references)})" if references else ""


def _retry(node: Node, env: Mapping[str, str], notes: list[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for key, child in node.items():
        if key == "enabled":
            settings[key] = _boolean(child, env)
        elif key in _RETRY_KEYS:
            settings[key] = expand(child, env, "duration").value
        elif key in _RETRY_IGNORED:
            notes.append(
                f"{child.path}: ignored: the gateway doubles the interval with jitter (0.5x-1.5x)"
            )
        else:
            notes.append(f"{child.path}: {NOT_TRANSLATED}")
    elapsed = settings.get("max_elapsed_time")
    if elapsed is not None and _seconds(elapsed) > _LONG_RETRY:
        notes.append(
            f"{node.path}.max_elapsed_time: {elapsed}: the gateway retries inside one export "
            "while its client waits, and stops at that export's deadline (the API gives it 30s "
            "for every level), so the next level takes over sooner than this"
        )
    return settings


def _boolean(node: Node, env: Mapping[str, str]) -> bool:
    text = expand(node, env, "boolean").value.strip().lower()
    if text not in ("true", "false"):
        raise CollectorConfigError(node.path, "must be true or false")
    return text == "true"


def _seconds(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError:
        return 0.0  # the chain's own check names the field


def _tls(node: Node) -> list[str]:
    for key, child in node.items():
        if key in _TLS_REFUSED:
            raise CollectorConfigError(
                child.path,
                "the gateway presents no client certificate and trusts only the public CAs "
                "of its runtime, so a backend that needs this cannot be reached from it",
            )
    if not node.mapping():
        return []
    return [f"{node.path}: ignored: the gateway verifies https:// backends with public CAs"]


def _file(exporter_id: str, node: Node) -> Translated:
    name = "s3/" + (exporter_id.partition("/")[2] or "backup")
    ignored = [key for key, _ in node.items()]
    detail = f"{', '.join(ignored)} ignored: " if ignored else ""
    note = (
        f"{node.path}: becomes {name}, the S3 backup in the stack's bucket; {detail}every "
        "object holds OTLP/JSON lines, one export request per line (the file exporter's json "
        "format), and the drain replays them when a level above is back"
    )
    return Translated({name: {}}, notes=(note,))
