"""The bench's latency proxy in front of moto: the drain's S3 calls go through it unchanged,
each request waits the delay first, and a broken upstream or an unframed body gets a clear
HTTP answer instead of a hung or dropped connection."""

from __future__ import annotations

import http.client
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from bench.latency_proxy import LatencyProxy
from otlp_failover_dev.local.aws import AwsEmulator

DELAY = 0.015


class Proxied:
    def __init__(self, upstream: str) -> None:
        self.slept: list[float] = []
        self.server = LatencyProxy(upstream, DELAY, sleep=self.slept.append)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxied_aws(aws: AwsEmulator) -> Iterator[Proxied]:
    proxied = Proxied(aws.endpoint_url)
    yield proxied
    proxied.close()


def _s3_via(url: str, aws: AwsEmulator) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name=aws.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # the emulator's dummy credentials
    )


def test_the_drains_s3_calls_pass_unchanged_each_after_the_delay(
    aws: AwsEmulator, backup_bucket: str, proxied_aws: Proxied
) -> None:
    s3 = _s3_via(proxied_aws.server.url, aws)
    body = os.urandom(3000)  # every byte value: nothing may be re-encoded on the way
    s3.put_object(Bucket=backup_bucket, Key="backup/traces/s00/a.jsonl", Body=body)
    assert s3.get_object(Bucket=backup_bucket, Key="backup/traces/s00/a.jsonl")["Body"].read() == (
        body
    )
    listed = s3.list_objects_v2(Bucket=backup_bucket, Prefix="backup/traces/")
    assert [entry["Key"] for entry in listed["Contents"]] == ["backup/traces/s00/a.jsonl"]
    s3.delete_objects(
        Bucket=backup_bucket,
        Delete={"Objects": [{"Key": "backup/traces/s00/a.jsonl"}], "Quiet": True},
    )
    # Seen from moto directly: the delete went through.
    assert aws.s3().list_objects_v2(Bucket=backup_bucket, Prefix="backup/").get("KeyCount") == 0
    assert proxied_aws.slept == [DELAY] * 4  # PUT, GET, LIST, DeleteObjects


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_upstream_is_answered_502_and_the_proxy_keeps_serving() -> None:
    proxied = Proxied(f"http://127.0.0.1:{_free_port()}")
    try:
        for _ in range(2):
            connection = http.client.HTTPConnection("127.0.0.1", proxied.server.server_address[1])
            connection.request("GET", "/bucket/key")
            reply = connection.getresponse()
            assert reply.status == 502
            assert reply.read().startswith(b"upstream: ")
            connection.close()
    finally:
        proxied.close()


def test_a_chunked_body_is_refused_411_rather_than_forwarded_unframed(
    proxied_aws: Proxied,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", proxied_aws.server.server_address[1])
    connection.request("PUT", "/bucket/key", body=iter([b"abc"]), encode_chunked=True)
    reply = connection.getresponse()
    assert reply.status == 411
    assert proxied_aws.slept == []  # refused before it waited or went anywhere
    connection.close()


def test_the_upstream_must_be_a_plain_http_address() -> None:
    with pytest.raises(ValueError, match="http://host:port"):
        LatencyProxy("https://s3.amazonaws.com", DELAY)
    with pytest.raises(ValueError, match="negative"):
        LatencyProxy("http://127.0.0.1:9", -1.0)
