"""``otlp-failover``: the command line. Each subcommand is one ``add_*_command`` function
(here or in its own module) that adds its parser and sets ``run``; heavy imports wait
until the subcommand runs, so ``otlp-failover status`` never loads moto.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from otlp_failover.errors import FailoverError
from otlp_failover.settings.chain import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_RETRY_GAP,
    DEFAULT_RETRY_INTERVAL,
)
from otlp_failover.settings.durations import format_duration
from otlp_failover_dev.commands import arguments
from otlp_failover_dev.commands.config import add_config_command
from otlp_failover_dev.commands.drain import add_drain_command
from otlp_failover_dev.commands.drill import add_drill_command
from otlp_failover_dev.commands.local_collector import collector_stack_config, level_lines
from otlp_failover_dev.commands.status import add_status_command

if TYPE_CHECKING:
    from otlp_failover_dev.local.stack import LocalStack

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="otlp-failover", description="Serverless OTLP/HTTP failover gateway."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in SUBCOMMANDS:
        add_command(commands)
    return parser


def add_local_command(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "local",
        help="run the gateway on this machine, AWS emulated",
        description="Run the gateway on 127.0.0.1: the same handlers behind an emulated HTTP "
        "API, DynamoDB/S3/Secrets Manager emulated by moto, and a demo primary.",
    )
    parser.add_argument("--port", type=arguments.port, default=4318, help="HTTP API port (4318)")
    parser.add_argument(
        "--aws-port",
        type=arguments.port,
        default=4566,
        help="AWS emulator port (4566, as LocalStack)",
    )
    parser.add_argument(
        "--primary", metavar="URL", help="primary OTLP/HTTP base URL (default: a demo primary)"
    )
    parser.add_argument("--secondary", metavar="URL", help="secondary OTLP/HTTP base URL")
    for backend in ("primary", "secondary"):
        parser.add_argument(
            f"--{backend}-header",
            type=arguments.header,
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help=f"a header the {backend} needs, e.g. 'Authorization=Bearer <key>' (repeatable); "
            "kept in a Secrets Manager secret of the emulator, as deployed",
        )
    parser.add_argument(
        "--collector-config",
        type=Path,
        metavar="FILE",
        help="run the levels of a collector configuration's failover connector (header "
        "values from the environment, kept in the emulator's Secrets Manager), instead of "
        "--primary, --secondary, their headers and the failover flags",
    )
    parser.add_argument("--token", help="bearer token for clients (default: new at each start)")
    # No defaults here: with --collector-config they come from the file (run_local).
    parser.add_argument(
        "--max-retries",
        type=arguments.positive_int,
        metavar="N",
        help=f"failures in a row before a level is left ({DEFAULT_MAX_RETRIES})",
    )
    parser.add_argument(
        "--retry-interval",
        type=arguments.duration,
        metavar="DURATION",
        help=f"how often the levels above are probed ({format_duration(DEFAULT_RETRY_INTERVAL)})",
    )
    parser.add_argument(
        "--retry-gap",
        type=arguments.duration,
        metavar="DURATION",
        help=f"pause between probing two levels ({format_duration(DEFAULT_RETRY_GAP)})",
    )
    parser.add_argument(
        "--drain-interval",
        type=arguments.duration,
        default="10s",
        metavar="DURATION",
        help="how often the drain runs (10s); the probe also starts it on recovery",
    )
    parser.set_defaults(run=run_local)


def run_local(args: argparse.Namespace) -> int:
    # Imported here: moto, boto3 and the handlers load only when the stack is wanted.
    from otlp_failover_dev.local import sigterm_as_interrupt, wait_for_termination  # noqa: PLC0415
    from otlp_failover_dev.local.stack import LocalStack, LocalStackConfig  # noqa: PLC0415

    common: dict[str, Any] = {
        "port": args.port,
        "aws_port": args.aws_port,
        "drain_interval": args.drain_interval,
        "publish": True,
        **({"token": args.token} if args.token else {}),
    }
    if args.collector_config is not None:
        try:
            config = collector_stack_config(args, **common)
        except FailoverError as exc:
            print(f"otlp-failover local: {exc}", file=sys.stderr)
            return 1
    else:
        config = LocalStackConfig(
            primary=args.primary,
            secondary=args.secondary,
            primary_headers=dict(args.primary_header),
            secondary_headers=dict(args.secondary_header),
            max_retries=args.max_retries or DEFAULT_MAX_RETRIES,
            retry_interval=_given(args.retry_interval, DEFAULT_RETRY_INTERVAL),
            retry_gap=_given(args.retry_gap, DEFAULT_RETRY_GAP),
            **common,
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)  # "found credentials" chatter
    with sigterm_as_interrupt():  # a SIGTERM while starting still stops what started
        try:
            stack = LocalStack(config).start()
        except (OSError, FailoverError) as exc:
            print(f"otlp-failover local: cannot start: {exc}", file=sys.stderr)
            return 1
        try:
            print(banner(stack), flush=True)
            wait_for_termination()
        finally:
            stack.stop()
    print("otlp-failover local: stopped", flush=True)
    return 0


def _given(value: float | None, default: float) -> float:
    return default if value is None else value


def banner(stack: LocalStack) -> str:
    config, api = stack.config, stack.api_url
    chain = stack.chain_config()
    aws = stack.aws.endpoint_url if stack.aws else ""
    policy = chain or config  # both say max_retries, retry_interval, retry_gap
    lines = [
        "OTLP failover gateway running locally (Ctrl-C stops it)",
        "",
        f"  API            {api}  (POST /v1/traces /v1/metrics /v1/logs, GET /status)",
        f"  token          {config.token}",
        *(level_lines(stack, chain) if chain else _backend_lines(stack)),
        f"  backup bucket  s3://{config.bucket_name}  (AWS emulator: {aws})",
        f"  state table    {config.table_name}",
        f"  failover       max_retries={policy.max_retries} "
        f"retry_interval={format_duration(policy.retry_interval)} "
        f"retry_gap={format_duration(policy.retry_gap)}",
        "",
        "Point an OpenTelemetry SDK at it:",
        f"  export OTEL_EXPORTER_OTLP_ENDPOINT={api}",
        f'  export OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer {config.token}"',
        "  export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
        "",
        "Watch it:",
        "  otlp-failover status            # levels, failures, backlog",
        f"  curl -s {api}/metrics | grep failover",
        "  otlp-failover drain             # replay the backup now, with a progress bar",
    ]
    if stack.primary is not None:
        control = stack.primary.control_url
        lines += [
            "",
            "Fail the demo primary, then heal it:",
            f"""  curl -X POST {control} -d '{{"mode": "status", "status": 503}}'""",
            f"""  curl -X POST {control} -d '{{"mode": "healthy"}}'""",
        ]
    return "\n".join(lines)


def _backend_lines(stack: LocalStack) -> list[str]:
    primary = stack.primary_url
    if stack.primary is not None:
        primary += f"  (demo backend; make it fail: POST {stack.primary.control_url})"
    return [
        f"  primary        {primary}",
        f"  secondary      {stack.config.secondary or '(none)'}",
        *_header_lines(stack),
    ]


def _header_lines(stack: LocalStack) -> list[str]:
    """Which headers each backend gets and the secret holding them: names, never values."""
    lines = []
    for backend, headers in (
        ("primary", stack.config.primary_headers),
        ("secondary", stack.config.secondary_headers),
    ):
        arn = stack.headers_secret_arns.get(backend)
        if not (headers and arn):
            continue
        note = "; the demo primary demands them" if backend == "primary" and stack.primary else ""
        names = ", ".join(sorted(headers))
        lines.append(f"  headers        {backend}: {names}  (secret {arn}{note})")
    return lines


SUBCOMMANDS: tuple[Callable[[Subcommands], None], ...] = (
    add_local_command,
    add_status_command,
    add_drain_command,
    add_drill_command,
    add_config_command,
)


if __name__ == "__main__":
    raise SystemExit(main())
