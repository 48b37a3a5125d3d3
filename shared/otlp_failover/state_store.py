"""DynamoDB state store: one item per signal holding its level and failure counter.

Reads are cached per Lambda instance for ``cache_ttl`` seconds so the healthy path costs
at most one GetItem per interval. Every write is conditional on the level the caller saw
(``level = :expected``); when that condition fails DynamoDB hands back the current item
(``ReturnValuesOnConditionCheckFailure``), so the instance learns the new level at once
without another read. That keeps the one hot item far below the per-partition limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from otlp_failover.errors import StateStoreError
from otlp_failover.policy import Action, Decision, SignalState
from otlp_failover.signals import Signal

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

_NAMES = {"#level": "level", "#failures": "failures", "#changed": "changed_at"}


class DynamoDBStateStore:
    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        cache_ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._table = table
        self._cache_ttl = cache_ttl
        self._clock = clock
        self._wall_clock = wall_clock
        self._cache: dict[Signal, tuple[float, SignalState]] = {}

    @property
    def cache_ttl(self) -> float:
        return self._cache_ttl

    def get(self, signal: Signal) -> SignalState:
        """The signal's state, from the per-instance cache while it is fresh."""
        cached = self._cache.get(signal)
        if cached is not None and self._clock() - cached[0] < self._cache_ttl:
            return cached[1]
        return self.read(signal)

    def cached(self, signal: Signal) -> SignalState | None:
        """The last state this instance saw, however old (the fallback when DynamoDB fails)."""
        cached = self._cache.get(signal)
        return cached[1] if cached else None

    def read(self, signal: Signal) -> SignalState:
        """A strongly consistent read, bypassing the cache."""
        try:
            reply = self._client.get_item(
                TableName=self._table, Key={"signal": {"S": signal.value}}, ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as exc:
            raise StateStoreError(f"reading the {signal} state failed: {_reason(exc)}") from exc
        return self.remember(signal, _state(reply.get("Item")))

    def apply(self, signal: Signal, decision: Decision) -> tuple[SignalState, bool]:
        """Write ``decision`` if the level is still the one it was made at.

        Returns what the item holds afterwards and whether this call wrote it: the new
        state, or, when another instance moved the level first, the state it moved to.
        """
        if not decision.writes:
            return decision.new_state, False
        update, values = _update(decision, self._wall_clock())
        condition = "#level = :expected"
        if decision.expected_level == 0:
            # A missing item means level 0: the very first failure creates it.
            condition = "attribute_not_exists(#level) OR " + condition
        values[":expected"] = {"N": str(decision.expected_level)}
        names = {key: name for key, name in _NAMES.items() if key in update + condition}
        try:
            reply = self._client.update_item(
                TableName=self._table,
                Key={"signal": {"S": signal.value}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                # Another instance moved the level first: adopt what it wrote.
                current: dict[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]
                return self.remember(signal, _state(current)), False
            raise StateStoreError(f"updating the {signal} state failed: {_reason(exc)}") from exc
        except BotoCoreError as exc:
            raise StateStoreError(f"updating the {signal} state failed: {_reason(exc)}") from exc
        return self.remember(signal, _state(reply.get("Attributes"))), True

    def remember(self, signal: Signal, state: SignalState) -> SignalState:
        """Cache ``state`` for one TTL (also used to hold the last level while DynamoDB fails)."""
        self._cache[signal] = (self._clock(), state)
        return state


def _update(decision: Decision, now: float) -> tuple[str, dict[str, Any]]:
    """The update expression of ``decision`` and its values (the caller adds the condition)."""
    if decision.action is Action.COUNT_FAILURE:  # atomic: concurrent failures all count
        update = "SET #level = :expected, #failures = if_not_exists(#failures, :zero) + :one"
        return update, {":zero": {"N": "0"}, ":one": {"N": "1"}}
    if decision.action is Action.RESET_FAILURES:  # the level did not change: keep its time
        return "SET #failures = :zero", {":zero": {"N": "0"}}
    new = decision.new_state
    return "SET #level = :level, #failures = :failures, #changed = :changed", {
        ":level": {"N": str(new.level)},
        ":failures": {"N": str(new.failures)},
        ":changed": {"N": repr(new.changed_at or now)},
    }


def _state(item: dict[str, Any] | None) -> SignalState:
    if not item:
        return SignalState()
    return SignalState(
        level=int(item.get("level", {}).get("N", 0)),
        failures=int(item.get("failures", {}).get("N", 0)),
        changed_at=float(item.get("changed_at", {}).get("N", 0)),
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    return type(exc).__name__
