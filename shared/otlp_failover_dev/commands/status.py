"""``otlp-failover status``: levels, failure counters and backlog, from ``GET /status``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import urllib3
from urllib3.exceptions import HTTPError

from otlp_failover.settings.durations import format_duration
from otlp_failover_dev.commands.target import LocalTarget, TargetError

TOKEN_ENV = "OTLP_FAILOVER_TOKEN"  # noqa: S105 - a variable name


def add_status_command(commands: Any) -> None:
    parser = commands.add_parser(
        "status",
        help="show each signal's level, failures and backlog",
        description="Read GET /status of the local stack (default) or of a deployed API.",
    )
    parser.add_argument("--url", help="API URL (the ApiUrl output); default: the local stack")
    parser.add_argument("--token", help=f"ingest token (default: ${TOKEN_ENV} or the local one)")
    parser.add_argument("--json", action="store_true", help="print the raw JSON document")
    parser.set_defaults(run=run_status)


def run_status(args: argparse.Namespace) -> int:
    try:
        url, token = _target(args.url, args.token)
        document = fetch_status(url, token)
    except (TargetError, StatusError) as exc:
        print(f"otlp-failover status: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(document, indent=2) if args.json else render(document))
    return 0


class StatusError(Exception):
    pass


def fetch_status(url: str, token: str, timeout: float = 10.0) -> dict[str, Any]:
    try:
        reply = urllib3.request(
            "GET",
            url.rstrip("/") + "/status",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            retries=False,
        )
    except HTTPError as exc:
        raise StatusError(f"cannot reach {url}: {type(exc).__name__}") from None
    if reply.status != 200:
        raise StatusError(f"{url}/status answered HTTP {reply.status}")
    document: dict[str, Any] = json.loads(reply.data)
    return document


def render(document: dict[str, Any]) -> str:
    rows = [("signal", "level", "failures", "backlog", "oldest")]
    for signal, state in document["signals"].items():
        backlog = document.get("backlog", {}).get(signal, {})
        age = backlog.get("oldest_age_seconds")
        level = state.get("level")
        rows.append(
            (
                signal,
                "?" if level is None else f"{level} ({state.get('level_name', '')})",
                str(state.get("failures", "?")),
                ("at least " if backlog.get("truncated") else "")
                + f"{backlog.get('objects', '?')} objects",
                "-" if age is None else format_duration(round(age)) if age >= 1 else "<1s",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _target(url: str | None, token: str | None) -> tuple[str, str]:
    token = token or os.environ.get(TOKEN_ENV)
    if url and token:
        return url, token
    local = LocalTarget.load()
    if local is None:
        raise TargetError(
            "no local stack is running; for a deployed one pass --url and --token "
            f"(or set ${TOKEN_ENV})"
        )
    return url or local.api_url, token or local.token
