"""DynamoDB state store: one item per signal holding its level and failure counter.

Every write is conditional on the level and the epoch the caller names (``level =
:expected AND changed_at = :epoch``: a write decided before the signal last moved does
nothing after it); when that condition fails DynamoDB hands back the current item
(``ReturnValuesOnConditionCheckFailure``), so the instance learns the new level at once
without another read. That keeps the one hot item far below the per-partition limit.
The store knows nothing of the rules: it offers the named operations of ``StateStore``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from otlp_failover.aws.errors import AWS_ERRORS, condition_failed, error_code
from otlp_failover.errors import StateStoreError
from otlp_failover.failover.state import SignalState
from otlp_failover.signals import Signal

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_NAMES = {"#level": "level", "#failures": "failures", "#changed": "changed_at"}
_ZERO, _ONE = {"N": "0"}, {"N": "1"}


class DynamoDBStateStore:
    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._table = table
        self._wall_clock = wall_clock

    def read(self, signal: Signal) -> SignalState:
        try:
            reply = self._client.get_item(
                TableName=self._table, Key={"signal": {"S": signal.value}}, ConsistentRead=True
            )
        except AWS_ERRORS as exc:
            raise _failed(f"reading the {signal} state", exc) from exc
        return _state(reply.get("Item"))

    def count_failure(self, signal: Signal, level: int, epoch: float) -> SignalState:
        # Atomic: concurrent failures all count. The first failure at level 0 creates the item.
        update = "SET #level = :expected, #failures = if_not_exists(#failures, :zero) + :one"
        return self._update(signal, level, epoch, update, {":zero": _ZERO, ":one": _ONE})[0]

    def reset_failures(self, signal: Signal, level: int, epoch: float) -> SignalState:
        # The level does not change, so neither does its time.
        return self._update(signal, level, epoch, "SET #failures = :zero", {":zero": _ZERO})[0]

    def move(
        self, signal: Signal, from_level: int, to_level: int, epoch: float
    ) -> tuple[SignalState, bool]:
        update = "SET #level = :level, #failures = :zero, #changed = :changed"
        values = {
            ":level": {"N": str(to_level)},
            ":zero": _ZERO,
            ":changed": {"N": repr(self._wall_clock())},
        }
        return self._update(signal, from_level, epoch, update, values)

    def _update(
        self, signal: Signal, expected: int, epoch: float, update: str, values: dict[str, Any]
    ) -> tuple[SignalState, bool]:
        """Apply ``update`` while the level is ``expected`` since ``epoch``: (what the item
        holds, wrote?)."""
        condition = "#level = :expected"
        if expected == 0:
            condition = f"(attribute_not_exists(#level) OR {condition})"  # no item: level 0
        if epoch:
            condition += " AND #changed = :epoch"
            values = {**values, ":epoch": {"N": repr(epoch)}}
        else:  # a signal that never moved has no time of change
            condition += " AND attribute_not_exists(#changed)"
        names = {key: name for key, name in _NAMES.items() if key in update + condition}
        try:
            reply = self._client.update_item(
                TableName=self._table,
                Key={"signal": {"S": signal.value}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={**values, ":expected": {"N": str(expected)}},
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except AWS_ERRORS as exc:
            if isinstance(exc, ClientError) and condition_failed(exc):
                # Another instance moved the level first: adopt what it wrote.
                current: dict[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]
                return _state(current), False
            raise _failed(f"updating the {signal} state", exc) from exc
        return _state(reply.get("Attributes")), True


def _state(item: dict[str, Any] | None) -> SignalState:
    if not item:
        return SignalState()
    return SignalState(
        level=int(item.get("level", {}).get("N", 0)),
        failures=int(item.get("failures", {}).get("N", 0)),
        changed_at=float(item.get("changed_at", {}).get("N", 0)),
    )


def _failed(action: str, exc: Exception) -> StateStoreError:
    """The error with AWS's message for the logs, and its code apart for /status."""
    code = error_code(exc)
    message = (
        exc.response.get("Error", {}).get("Message", "") if isinstance(exc, ClientError) else ""
    )
    return StateStoreError(f"{action} failed: {code}: {message}".rstrip(": "), code)
