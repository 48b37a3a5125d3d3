"""What ``otlp-failover config from-collector`` prints: the levels, FAILOVER_CONFIG, the
secrets by name with their header names, the commands that create them and deploy, and
the notes. Nothing here reads a header value: the commands compute them when they run."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

import yaml

from otlp_failover.settings.chain import SIGNAL_NAMES
from otlp_failover_dev.collector_config.translation import Translation

DEFAULT_PARAMETERS_FILE = "otlp-failover-parameters.yaml"


def report(
    translation: Translation,
    *,
    program: str = "otlp-failover",
    parameters_file: str | None = None,
) -> str:
    lines = [
        f"{translation.source} for the gateway: the failover connector's priority_levels, "
        "each level the exporters of its pipelines",
        "",
        "Levels:",
        *_table(_level_rows(translation)),
        "",
        "FAILOVER_CONFIG (the template's FailoverConfig parameter; no secret in it):",
        translation.failover_json(indent=2),
        "",
        *_secrets(translation, program),
        *_deploy(translation, program, parameters_file),
    ]
    if translation.notes:
        lines += ["", "Notes (what the gateway does differently, or leaves to the client):"]
        lines += [f"  - {note}" for note in translation.notes]
    return "\n".join(lines)


def sam_parameters(translation: Translation) -> str:
    """A ``sam deploy --parameter-overrides file://...`` file: the non-secret parameters."""
    header = (
        f"# The gateway's chain from {translation.source} (otlp-failover config from-collector)."
        "\n# No secret in it: the headers are in the Secrets Manager secrets it names.\n"
    )
    body = yaml.safe_dump(
        {"FailoverConfig": translation.failover_json()}, width=1_000_000, sort_keys=False
    )
    return header + body


def secret_arns(translation: Translation) -> str:
    """The HeadersSecretArns value, computed by the shell from the secrets' names."""
    return ",".join(
        f"$(aws secretsmanager describe-secret --secret-id {shlex.quote(s.name)} "
        "--query ARN --output text)"
        for s in translation.secrets
    )


def _level_rows(translation: Translation) -> list[list[str]]:
    rows = []
    for index, level in enumerate(translation.levels):
        settings = _exporter_settings(translation, index)
        for position, exporter in enumerate(level.exporters):
            rows.append(
                [
                    str(index) if position == 0 else "",
                    exporter,
                    _target(settings[exporter])
                    if exporter.startswith("otlphttp")
                    else "the stack's S3 backup bucket",
                    ", ".join(level.pipelines) if position == 0 else "",
                ]
            )
    return rows


def _exporter_settings(translation: Translation, index: int) -> dict[str, Mapping[str, Any]]:
    entries = translation.failover_config["priority_levels"][index]
    return {name: settings for entry in entries for name, settings in entry.items()}


def _target(settings: Mapping[str, Any]) -> str:
    own = [
        f"{signal}: {settings[f'{signal}_endpoint']}"
        for signal in SIGNAL_NAMES
        if settings.get(f"{signal}_endpoint")
    ]
    base = settings.get("endpoint", "")
    if not own:
        return str(base)
    return f"{base} ({'; '.join(own)})" if base else "; ".join(own)


def _secrets(translation: Translation, program: str) -> list[str]:
    if not translation.secrets:
        return ["No header in the file: no Secrets Manager secret to create.", ""]
    lines = [
        "Secrets Manager secrets (header names only; each value is read from the file and the "
        "environment when the command below runs, and never printed):",
        *_table([[s.name, s.exporter, s.describe()] for s in translation.secrets]),
        "",
        "1. Create them (a secret that exists already: aws secretsmanager put-secret-value "
        "--secret-id <name> with the same --secret-string):",
    ]
    source = shlex.quote(translation.source)
    for secret in translation.secrets:
        value = f"{program} config secret-string {source} {shlex.quote(secret.exporter)}"
        lines += [
            f"  aws secretsmanager create-secret --name {shlex.quote(secret.name)} \\",
            f'      --secret-string "$({value})"',
        ]
    return [*lines, ""]


def _deploy(translation: Translation, program: str, parameters_file: str | None) -> list[str]:
    heading = "2. Deploy" if translation.secrets else "Deploy"
    arns = secret_arns(translation)
    grants = "; HeadersSecretArns lets the functions read exactly these secrets" if arns else ""
    path = parameters_file or DEFAULT_PARAMETERS_FILE
    quoted = shlex.quote(path)
    lines = [f"{heading} (FailoverConfig from the parameters file{grants}):"]
    if parameters_file:
        lines.append(f"  # {path} is written: FailoverConfig, no secret")
    else:
        source = shlex.quote(translation.source)
        lines.append(f"  {program} config from-collector {source} --parameters-file {quoted}")
    make = f"  make deploy PARAMETERS={quoted}"
    sam = f"  .venv-tools/bin/sam deploy --parameter-overrides file://$PWD/{quoted}"
    if arns:
        make += f' \\\n      HEADERS_SECRET_ARNS="{arns}"'
        sam += f' \\\n      HeadersSecretArns="{arns}"'
    return [
        *lines,
        make,
        "  # that is make build, then (with --guided until samconfig.toml keeps parameters):",
        sam,
    ]


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    return [
        "  "
        + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
