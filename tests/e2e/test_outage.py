"""The primary refuses connections: the SDK never notices, the backup holds everything, and
the backup's lines replay with plain curl.

The stack runs without its probe and drain, so the level stays where the failures put it
and nothing but curl empties the backup.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from otlp_failover.codec import decode_json
from otlp_failover.runtime import Runtime
from otlp_failover.settings import environment as settings
from otlp_failover.signals import Signal
from otlp_failover_dev.local.stack import LocalStack
from tests.e2e import fields
from tests.e2e.conftest import StackFactory, auth, status
from tests.e2e.sdk import SdkClient

MAX_RETRIES = 3
EXPORTS = MAX_RETRIES + 2  # two more after the switch go straight to the backup
KEY = re.compile(
    r"^backup/(traces|metrics|logs)/s\d{2}/\d{4}/\d{2}/\d{2}/\d{2}/\d{8}T\d{6}\.\d{6}Z-\w+\.jsonl$"
)


def backup_lines(stack: LocalStack, signal: Signal) -> list[bytes]:
    """Every line of the signal's backup objects, oldest object first: keys sort by time
    within a shard, so the objects of every shard are ordered by the time in their name."""
    assert stack.aws is not None
    s3 = stack.aws.s3()
    listed = s3.list_objects_v2(Bucket=stack.config.bucket_name, Prefix=f"backup/{signal}/")
    lines = []
    for entry in sorted(listed.get("Contents", []), key=lambda e: e["Key"].rsplit("/", 1)[-1]):
        assert KEY.match(entry["Key"]), entry["Key"]
        body = s3.get_object(Bucket=stack.config.bucket_name, Key=entry["Key"])["Body"].read()
        lines += [line for line in body.split(b"\n") if line.strip()]
    return lines


def curl(stack: LocalStack, signal: Signal, line: Path) -> str:
    """POST one backup line as the design says an operator can: the HTTP status curl saw."""
    command = [
        "curl",
        "--silent",
        "--show-error",
        "--output",
        "/dev/null",
        "--write-out",
        "%{http_code}",
        "-H",
        "Content-Type: application/json",
        "-H",
        f"Authorization: Bearer {stack.config.token}",
        "--data-binary",
        f"@{line}",
        f"{stack.api_url}{signal.path}",
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=True).stdout


@pytest.mark.parametrize("protocol", ["protobuf", "json"])
@pytest.mark.parametrize("signal", list(Signal))
def test_a_refusing_primary_sends_every_export_to_the_backup_and_curl_replays_it(
    start_stack: StackFactory,
    signal: Signal,
    protocol: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    # Every request reads the level: the replay below must reach the primary the moment
    # the level is back to 0, not an instance's cached level 1 (that would go to S3 again).
    monkeypatch.setenv(settings.STATE_CACHE_TTL, "0")
    stack = start_stack(operations=False, max_retries=MAX_RETRIES)
    assert stack.primary is not None
    client = SdkClient(protocol, stack.api_url, auth(stack))
    stack.primary.set_mode("refuse")

    observed = []
    for n in range(EXPORTS):
        assert client.send(signal, f"outage-{protocol}-{signal}-{n}") is True
        document = status(stack)
        observed.append({s: (v["level"], v["failures"]) for s, v in document["signals"].items()})
    client.close()

    # Level 0 counts the failures, moves after the third, then the backup takes the rest.
    assert [o[signal.value] for o in observed] == [(0, 1), (0, 2), (1, 0), (1, 0), (1, 0)]
    for other in set(Signal) - {signal}:
        assert {o[other.value] for o in observed} == {(0, 0)}
    sent = client.sdk_items(signal)
    assert status(stack)["backlog"][signal.value]["objects"] == EXPORTS

    lines = backup_lines(stack, signal)
    in_backup = [n for line in lines for n in fields.json_names(signal, json.loads(line))]
    assert Counter(in_backup) == Counter(fields.identity(signal, item) for item in sent)

    stack.primary.set_mode("healthy")
    # What the scheduled probe does, minus starting the drain: the replay here is curl's.
    prober = Runtime.build().prober(start_drain=lambda _: None)
    recoveries = prober.probe_once() + prober.probe_once()  # probe_successes: 2 in a row
    assert [(r.signal, r.to_level) for r in recoveries] == [(signal, 0)]
    stack.primary.clear()
    codes = []
    for number, line in enumerate(lines):
        path = tmp_path / f"{signal}-{number}.json"
        path.write_bytes(line)
        codes.append(curl(stack, signal, path))

    assert codes == ["200"] * EXPORTS
    replayed = fields.received(stack.primary.exports, signal)
    assert sorted(replayed, key=repr) == sorted(sent, key=repr)
    assert {e.content_type for e in stack.primary.exports} == {"application/json"}
    # Field for field (resource, scope, kinds, flags, every value): the backup line replays
    # into the very request the SDK exported. Replayed oldest first, so the order is the same.
    original = [sent_request(signal, s.body, protocol) for s in client.sent_to(signal)]
    assert [e.message for e in stack.primary.exports] == original


def sent_request(signal: Signal, body: bytes, protocol: str) -> Any:
    """The request the exporter sent, parsed: protobuf by protobuf itself; JSON by the
    gateway's decoder, the only one that reads OTLP/JSON's hex ids."""
    if protocol == "json":
        return decode_json(signal, body)
    return signal.request_class.FromString(body)
