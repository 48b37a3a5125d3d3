"""DynamoDB adapter for the drain: a lease and a checkpoint per unit (signal, shard).

Both live in the state table beside the signal items (``drain#lease#<signal>#<shard>``,
``drain#checkpoint#<signal>#<shard>``), so the drain needs no other resource. The older
unsharded keys keep the checkpoint item they had (``drain#checkpoint#<signal>``), so a
drain interrupted before an upgrade resumes where it stood.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from otlp_failover.aws.errors import AWS_ERRORS, condition_failed, error_code
from otlp_failover.backup.layout import LEGACY
from otlp_failover.drain.ports import Checkpoint, DrainUnit
from otlp_failover.errors import StateStoreError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


@dataclass
class DynamoDBDrainStore:
    """The drain's ``DrainLeases`` and ``CheckpointStore``, as items of the state table."""

    client: DynamoDBClient
    table: str
    clock: Callable[[], float] = time.time
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)
    # Units this process holds: the owner may take its own lease again (a warm Lambda
    # after a crash), but two threads of one process must not drain one unit at once.
    _held: set[DrainUnit] = field(default_factory=set, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def acquire(self, unit: DrainUnit, lease_seconds: float) -> bool:
        """Take the unit's lease unless a live one is held by someone else; if it is, ask
        the holder to run the unit again when it is done."""
        with self._lock:
            if unit in self._held:
                self._ask_again(unit)
                return False
            self._held.add(unit)
        try:
            taken = self._put_lease(unit, lease_seconds)
        except BaseException:
            self._forget(unit)
            raise
        if not taken:
            self._forget(unit)
        return taken

    def _forget(self, unit: DrainUnit) -> None:
        with self._lock:
            self._held.discard(unit)

    def _put_lease(self, unit: DrainUnit, lease_seconds: float) -> bool:
        now = self.clock()
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    **_lease_key(unit),
                    "owner": {"S": self.owner},
                    "expires_at": {"N": repr(now + lease_seconds)},
                },
                ConditionExpression="attribute_not_exists(#k) OR expires_at < :now OR #o = :me",
                ExpressionAttributeNames={"#k": "signal", "#o": "owner"},
                ExpressionAttributeValues={":now": {"N": repr(now)}, ":me": {"S": self.owner}},
            )
        except AWS_ERRORS as exc:
            if condition_failed(exc):
                self._ask_again(unit)
                return False
            raise StateStoreError(
                f"taking the {unit} drain lease failed: {error_code(exc)}"
            ) from exc
        return True

    def _ask_again(self, unit: DrainUnit) -> None:
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_lease_key(unit),
                UpdateExpression="SET asked_again = :yes",
                ConditionExpression="attribute_exists(#k)",
                ExpressionAttributeNames={"#k": "signal"},
                ExpressionAttributeValues={":yes": {"BOOL": True}},
            )
        except AWS_ERRORS as exc:
            if not condition_failed(exc):  # freed meanwhile: the next run takes it anyway
                raise StateStoreError(
                    f"asking for the {unit} drain failed: {error_code(exc)}"
                ) from exc

    def release(self, unit: DrainUnit) -> bool:
        self._forget(unit)
        try:
            reply = self.client.delete_item(
                TableName=self.table,
                Key=_lease_key(unit),
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":me": {"S": self.owner}},
                ReturnValues="ALL_OLD",
            )
        except AWS_ERRORS as exc:
            if condition_failed(exc):  # someone else's lease now: nothing of ours to free
                return False
            reason = error_code(exc)
            raise StateStoreError(f"releasing the {unit} drain lease failed: {reason}") from exc
        return bool(reply.get("Attributes", {}).get("asked_again", {}).get("BOOL"))

    def load(self, unit: DrainUnit) -> Checkpoint:
        try:
            item = self.client.get_item(
                TableName=self.table, Key=_checkpoint_key(unit), ConsistentRead=True
            ).get("Item")
        except AWS_ERRORS as exc:
            raise StateStoreError(f"reading the {unit} drain checkpoint failed") from exc
        if not item:
            return Checkpoint()
        return Checkpoint(
            done=tuple(value["S"] for value in item.get("done", {}).get("L", [])),
            partial=item.get("partial", {}).get("S"),
            line=int(item.get("line", {}).get("N", 0)),
        )

    def save(self, unit: DrainUnit, checkpoint: Checkpoint) -> None:
        item: dict[str, Any] = {
            **_checkpoint_key(unit),
            "done": {"L": [{"S": key} for key in checkpoint.done]},
            "line": {"N": str(checkpoint.line)},
        }
        if checkpoint.partial:
            item["partial"] = {"S": checkpoint.partial}
        try:
            self.client.put_item(TableName=self.table, Item=item)
        except AWS_ERRORS as exc:
            raise StateStoreError(f"writing the {unit} drain checkpoint failed") from exc


def _lease_key(unit: DrainUnit) -> dict[str, Any]:
    return {"signal": {"S": f"drain#lease#{unit.signal.value}#{unit.shard}"}}


def _checkpoint_key(unit: DrainUnit) -> dict[str, Any]:
    if unit.shard == LEGACY:
        return {"signal": {"S": f"drain#checkpoint#{unit.signal.value}"}}
    return {"signal": {"S": f"drain#checkpoint#{unit.signal.value}#{unit.shard}"}}
