"""The fault proxy in front of moto, seen by plain boto3: each fault is what botocore meets
when the real service fails that way, and healing restores the service."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from otlp_failover_dev.chaos import aws_faults
from otlp_failover_dev.chaos.proxy import Fault, FaultProxy
from otlp_failover_dev.local.aws import AwsEmulator

READ_TIMEOUT = 2
ONE_TRY = Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=READ_TIMEOUT)


@pytest.fixture(scope="module")
def moto() -> Iterator[AwsEmulator]:
    with AwsEmulator() as emulator:
        yield emulator


@pytest.fixture
def proxy(moto: AwsEmulator) -> Iterator[FaultProxy]:
    with FaultProxy("test", upstream=moto.endpoint_url, serialize=True) as started:
        yield started


def client(service: str, proxy: FaultProxy) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=proxy.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=ONE_TRY,
    )


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_forwarding_is_transparent_and_counts_operations(
    moto: AwsEmulator, proxy: FaultProxy
) -> None:
    table = moto.create_state_table(f"t-{uuid.uuid4().hex[:8]}")
    dynamodb = client("dynamodb", proxy)
    dynamodb.put_item(TableName=table, Item={"signal": {"S": "traces"}, "level": {"N": "1"}})
    item = dynamodb.get_item(TableName=table, Key={"signal": {"S": "traces"}})["Item"]
    assert item["level"] == {"N": "1"}
    assert proxy.seen["PutItem"] == proxy.seen["GetItem"] == 1
    assert proxy.faulted == 0


def test_s3_slow_down_fails_writes_only(moto: AwsEmulator, proxy: FaultProxy) -> None:
    bucket = moto.create_backup_bucket(f"b-{uuid.uuid4().hex[:8]}")
    s3 = client("s3", proxy)
    proxy.set(aws_faults.s3_slow_down())
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key="k", Body=b"line\n")
    assert error_code(refused) == "SlowDown"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0  # reads still work
    proxy.heal()
    s3.put_object(Bucket=bucket, Key="k", Body=b"line\n")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"line\n"


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (aws_faults.dynamodb_throttled, "ProvisionedThroughputExceededException"),
        (aws_faults.dynamodb_internal_error, "InternalServerError"),
    ],
)
def test_dynamodb_errors_are_the_services_own(
    moto: AwsEmulator, proxy: FaultProxy, fault: Any, code: str
) -> None:
    table = moto.create_state_table(f"t-{uuid.uuid4().hex[:8]}")
    proxy.set(fault())
    with pytest.raises(ClientError) as failed:
        client("dynamodb", proxy).get_item(TableName=table, Key={"signal": {"S": "logs"}})
    assert error_code(failed) == code


def test_refused_and_reset_connections(moto: AwsEmulator, proxy: FaultProxy) -> None:
    bucket = moto.create_backup_bucket(f"b-{uuid.uuid4().hex[:8]}")
    s3 = client("s3", proxy)
    proxy.set(aws_faults.refused())
    with pytest.raises(EndpointConnectionError):
        s3.list_objects_v2(Bucket=bucket)
    proxy.set(aws_faults.s3_writes_reset())  # the same port listens again
    with pytest.raises(ConnectionClosedError):
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_a_hanging_request_is_released_when_the_fault_is_lifted(
    moto: AwsEmulator, proxy: FaultProxy
) -> None:
    proxy.set(Fault("hang"))
    s3 = client("s3", proxy)
    caller = threading.Thread(target=lambda: _ignore_errors(s3.list_buckets))
    started = time.monotonic()
    caller.start()
    time.sleep(0.3)
    proxy.heal()
    caller.join(5)
    assert not caller.is_alive()
    assert time.monotonic() - started < READ_TIMEOUT  # released, not timed out
    assert proxy.faulted == 1  # held, then reset (a retry of the client's may get through)


def _ignore_errors(call: Any) -> None:
    with contextlib.suppress(Exception):  # only the release is under test here
        call()


def test_serialized_conditional_writes_have_one_winner_as_in_dynamodb(
    moto: AwsEmulator, proxy: FaultProxy
) -> None:
    """moto checks a condition, then updates, without a lock: racing writers can both win.
    Through the serializing proxy only one does, as DynamoDB guarantees for one item."""
    table = moto.create_state_table(f"t-{uuid.uuid4().hex[:8]}")
    writers = [client("dynamodb", proxy) for _ in range(8)]
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # thread switches inside moto's check-then-update window
    try:
        for trial in range(8):
            key, barrier = {"signal": {"S": f"k{trial}"}}, threading.Barrier(8)
            winners: list[Any] = []
            threads = [
                threading.Thread(target=_create_once, args=(w, table, key, barrier, winners))
                for w in writers
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert len(winners) == 1, f"trial {trial}: {len(winners)} conditional writes won"
    finally:
        sys.setswitchinterval(switch_interval)


def _create_once(
    dynamodb: Any, table: str, key: dict[str, Any], barrier: threading.Barrier, winners: list[Any]
) -> None:
    barrier.wait()
    with contextlib.suppress(ClientError):  # ConditionalCheckFailedException: it lost
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #l = :one",
            ConditionExpression="attribute_not_exists(#l)",
            ExpressionAttributeNames={"#l": "level"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
        winners.append(dynamodb)
