"""DynamoDB adapter for the drain: the run lock and the per-signal checkpoint.

Both live in the state table beside the signal items (``drain#lock``,
``drain#checkpoint#<signal>``), so the drain needs no other resource.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from otlp_failover.aws.errors import AWS_ERRORS, condition_failed, error_code
from otlp_failover.drain.ports import Checkpoint
from otlp_failover.errors import StateStoreError
from otlp_failover.signals import Signal

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

LOCK_KEY = "drain#lock"


@dataclass
class DynamoDBDrainStore:
    """The drain's ``DrainLease`` and ``CheckpointStore``, as items of the state table."""

    client: DynamoDBClient
    table: str
    clock: Callable[[], float] = time.time
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)

    def acquire(self, lease_seconds: float) -> bool:
        """Take the run lock unless a live lease is held by someone else."""
        now = self.clock()
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "signal": {"S": LOCK_KEY},
                    "owner": {"S": self.owner},
                    "expires_at": {"N": repr(now + lease_seconds)},
                },
                ConditionExpression="attribute_not_exists(#k) OR expires_at < :now OR #o = :me",
                ExpressionAttributeNames={"#k": "signal", "#o": "owner"},
                ExpressionAttributeValues={":now": {"N": repr(now)}, ":me": {"S": self.owner}},
            )
        except AWS_ERRORS as exc:
            if condition_failed(exc):
                return False
            raise StateStoreError(f"taking the drain lock failed: {error_code(exc)}") from exc
        return True

    def release(self) -> None:
        try:
            self.client.delete_item(
                TableName=self.table,
                Key={"signal": {"S": LOCK_KEY}},
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":me": {"S": self.owner}},
            )
        except AWS_ERRORS as exc:
            if not condition_failed(exc):  # someone else's lease now: nothing of ours to free
                reason = error_code(exc)
                raise StateStoreError(f"releasing the drain lock failed: {reason}") from exc

    def load(self, signal: Signal) -> Checkpoint:
        try:
            item = self.client.get_item(
                TableName=self.table, Key=_checkpoint_key(signal), ConsistentRead=True
            ).get("Item")
        except AWS_ERRORS as exc:
            raise StateStoreError(f"reading the {signal} drain checkpoint failed") from exc
        if not item:
            return Checkpoint()
        return Checkpoint(
            done=tuple(value["S"] for value in item.get("done", {}).get("L", [])),
            partial=item.get("partial", {}).get("S"),
            line=int(item.get("line", {}).get("N", 0)),
        )

    def save(self, signal: Signal, checkpoint: Checkpoint) -> None:
        item: dict[str, Any] = {
            **_checkpoint_key(signal),
            "done": {"L": [{"S": key} for key in checkpoint.done]},
            "line": {"N": str(checkpoint.line)},
        }
        if checkpoint.partial:
            item["partial"] = {"S": checkpoint.partial}
        try:
            self.client.put_item(TableName=self.table, Item=item)
        except AWS_ERRORS as exc:
            raise StateStoreError(f"writing the {signal} drain checkpoint failed") from exc


def _checkpoint_key(signal: Signal) -> dict[str, Any]:
    return {"signal": {"S": f"drain#checkpoint#{signal.value}"}}
