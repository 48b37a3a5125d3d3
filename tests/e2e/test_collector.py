"""A real OpenTelemetry Collector's otlphttp exporter, pointed at the gateway with each
``compression`` it offers: every log line it tails reaches the primary, in the
Content-Encoding the collector chose (the gateway forwards the client's bytes as they came).

``snappy`` is the block format since collector v0.125 (the ``confighttp.framedSnappy``
gate); with the gate off a collector sends the framing format under that name, as older
ones did, and the gateway takes both.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from otlp_failover.signals import Signal
from otlp_failover_dev.local.backend import OtlpBackend, ReceivedExport
from otlp_failover_dev.local.stack import LocalStack
from tests.e2e.collector import SUPPORTED, UNSUPPORTED_REASON, Collector, config
from tests.e2e.conftest import stack_config, stop

pytestmark = pytest.mark.skipif(not SUPPORTED, reason=UNSUPPORTED_REASON)

LINES = 25
SNAPPY_STREAM_ID = b"\xff\x06\x00\x00sNaPpY"
# (test id, the exporter's compression, feature gates, the Content-Encoding it sends)
CASES = [
    ("gzip", "gzip", (), "gzip"),
    ("zstd", "zstd", (), "zstd"),
    ("snappy-block", "snappy", (), "snappy"),
    ("snappy-framed-legacy", "snappy", ("-confighttp.framedSnappy",), "snappy"),
    ("x-snappy-framed", "x-snappy-framed", (), "x-snappy-framed"),
    ("deflate", "deflate", (), "deflate"),
    ("zlib", "zlib", (), "zlib"),
    ("lz4", "lz4", (), "lz4"),
    ("none", "none", (), ""),
]


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    # No probe or drain: nothing but the collector's exports may reach the primary.
    started = LocalStack(stack_config(operations=False)).start()
    yield started
    stop(started)


@pytest.fixture
def primary(stack: LocalStack) -> OtlpBackend:
    assert stack.primary is not None
    stack.primary.clear()
    return stack.primary


@pytest.fixture
def collectors() -> Iterator[list[Collector]]:
    """Collectors a test starts; each is stopped after it, whatever happened."""
    started: list[Collector] = []
    yield started
    for collector in started:
        collector.stop()


def bodies(exports: list[ReceivedExport]) -> list[str]:
    return [
        record.body.string_value
        for export in exports
        for resource in export.message.resource_logs
        for scope in resource.scope_logs
        for record in scope.log_records
    ]


@pytest.mark.parametrize(
    ("compression", "gates", "encoding"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_every_line_reaches_the_primary_in_the_collectors_encoding(
    stack: LocalStack,
    primary: OtlpBackend,
    collectors: list[Collector],
    tmp_path: Path,
    compression: str,
    gates: tuple[str, ...],
    encoding: str,
) -> None:
    run = uuid.uuid4().hex[:8]
    lines = [f"{run} {compression} line {i}" for i in range(LINES)]
    log_file = tmp_path / "service.log"
    log_file.write_text("".join(f"{line}\n" for line in lines))

    collector = Collector(
        tmp_path, config(log_file, stack.api_url, compression), stack.config.token, gates
    )
    collectors.append(collector.start())
    collector.wait_for(
        lambda: primary.accepted_items(Signal.LOGS) >= LINES, 20, f"{LINES} log records"
    )

    exports = primary.exports
    assert sorted(bodies(exports)) == sorted(lines)
    assert {export.content_encoding for export in exports} == {encoding}
    framed = {export.body.startswith(SNAPPY_STREAM_ID) for export in exports}
    assert framed == {compression == "x-snappy-framed" or bool(gates)}
    assert all("authorization" not in export.headers for export in exports)
    assert stack.config.token not in collector.log()
