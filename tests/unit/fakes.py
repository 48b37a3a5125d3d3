"""In-memory fakes of the ports, so the unit tier needs no AWS, no HTTP and no real time.

    ManualClock         monotonic and wall time that move only on ``sleep`` or ``advance``
    MemoryStateStore    the StateStore, with DynamoDB's conditional semantics
    MemoryObjectStore   the ObjectStore: a dict bucket listed in key order
    MemoryCheckpoints   the drain's CheckpointStore
    MemoryLeases        the drain's DrainLeases
    ScriptedExporter    an Exporter answering from a script, recording every call
    RecordingMetrics    Metrics that keeps what was counted and gauged

The credential fakes (Secrets Manager, header sources) are in ``secret_fakes.py``.

``journal`` lists may be shared between fakes to check the order of their operations.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from otlp_failover.backup.ports import StoredObject
from otlp_failover.codec import ExportBody, MediaType
from otlp_failover.drain.ports import Checkpoint, DrainUnit
from otlp_failover.errors import BackupError, StateStoreError
from otlp_failover.failover.outcomes import ExportResult, Outcome
from otlp_failover.failover.state import SignalState
from otlp_failover.signals import Signal

WALL_START = 1_800_000_000.0  # 2027-01-15T08:00:00Z, a multiple of 60 and 120 seconds


class ManualClock:
    """``clock()`` is monotonic time; ``wall()`` moves with it. Only ``sleep`` records."""

    def __init__(self, now: float = 0.0, wall: float = WALL_START) -> None:
        self.now = now
        self.wall_offset = wall - now
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.now + self.wall_offset

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(round(seconds, 6))
            self.now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class MemoryStateStore:
    """Every write holds only while the signal is on the level and in the epoch named, as
    in ``aws/dynamodb_state.py``; otherwise it writes nothing and answers the current state.

    ``failing = True`` makes every call raise ``StateStoreError``. ``before_next(op, do)``
    runs ``do`` once, just before the next ``op`` is applied: another instance's write.
    """

    def __init__(
        self,
        states: Mapping[Signal, SignalState] | None = None,
        wall_clock: Callable[[], float] | None = None,
    ) -> None:
        self.states: dict[Signal, SignalState] = dict(states or {})
        self.failing = False
        self.calls: list[tuple[str, Signal, tuple[float, ...]]] = []
        self._wall_clock = wall_clock or _ticks(WALL_START)
        self._hooks: dict[str, Callable[[], object]] = {}
        self._lock = threading.RLock()

    def before_next(self, op: str, do: Callable[[], object]) -> None:
        self._hooks[op] = do

    def writes(self) -> list[tuple[str, Signal, tuple[float, ...]]]:
        return [call for call in self.calls if call[0] != "read"]

    def read(self, signal: Signal) -> SignalState:
        self._enter("read", signal)
        return self._get(signal)

    def count_failure(self, signal: Signal, level: int, epoch: float) -> SignalState:
        self._enter("count_failure", signal, level, epoch)
        current = self._get(signal)
        if (current.level, current.changed_at) != (level, epoch):
            return current
        return self._put(signal, SignalState(level, current.failures + 1, epoch))

    def reset_failures(self, signal: Signal, level: int, epoch: float) -> SignalState:
        self._enter("reset_failures", signal, level, epoch)
        current = self._get(signal)
        if (current.level, current.changed_at) != (level, epoch):
            return current
        return self._put(signal, SignalState(level, 0, epoch))

    def move(
        self, signal: Signal, from_level: int, to_level: int, epoch: float
    ) -> tuple[SignalState, bool]:
        self._enter("move", signal, from_level, to_level, epoch)
        current = self._get(signal)
        if (current.level, current.changed_at) != (from_level, epoch):
            return current, False
        return self._put(signal, SignalState(to_level, 0, self._wall_clock())), True

    def _enter(self, op: str, signal: Signal, *args: float) -> None:
        self.calls.append((op, signal, args))
        hook = self._hooks.pop(op, None)
        if hook is not None:
            hook()
        if self.failing:
            raise StateStoreError(
                f"{op} of the {signal} state failed: ThrottlingException: Rate exceeded for "
                "arn:aws:iam::123456789012:role/otlp-failover-probe",
                "ThrottlingException",
            )

    def _get(self, signal: Signal) -> SignalState:
        with self._lock:
            return self.states.get(signal, SignalState())

    def _put(self, signal: Signal, state: SignalState) -> SignalState:
        with self._lock:
            self.states[signal] = state
        return state


def _ticks(start: float) -> Callable[[], float]:
    """A wall clock one second on at every call: each move gets an epoch of its own."""
    moments = itertools.count(1)
    return lambda: start + next(moments)


class MemoryObjectStore:
    """One bucket as a dict. ``failing`` names operations ("put", "list", "get",
    "delete") that raise ``BackupError``."""

    def __init__(self, bucket: str = "backup-bucket", journal: list[str] | None = None) -> None:
        self.bucket = bucket
        self.objects: dict[str, bytes] = {}
        self.metadata: dict[str, dict[str, str]] = {}
        self.content_types: dict[str, str] = {}
        self.failing: set[str] = set()
        self.journal = [] if journal is None else journal
        self._lock = threading.Lock()
        self._outstanding: dict[str, int] = {}  # read and not deleted yet: key -> bytes
        self.most_outstanding_bytes = 0  # the most bytes ever read and not deleted yet

    def put(self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        self._check("put")
        with self._lock:
            self.objects[key] = body
            self.content_types[key] = content_type
            self.metadata[key] = dict(metadata)
        self.journal.append(f"put {key}")

    def put_stream(
        self, key: str, chunks: Iterable[bytes], content_type: str, metadata: Mapping[str, str]
    ) -> int:
        """Joins the chunks and ``put``s them: an object is there whole or not at all."""
        self._check("put")
        body = b"".join(chunks)
        self.put(key, body, content_type, metadata)
        return len(body)

    def list(self, prefix: str) -> Iterator[StoredObject]:
        self._check("list")
        moment = datetime.fromtimestamp(WALL_START, UTC)
        for key in sorted(k for k in self.objects if k.startswith(prefix)):
            yield StoredObject(key, len(self.objects[key]), moment)

    def folders(self, prefix: str) -> Sequence[str]:
        self._check("list")
        below = (k[len(prefix) :] for k in self.objects if k.startswith(prefix))
        return sorted({rest.split("/", 1)[0] for rest in below if "/" in rest})

    def get(self, key: str) -> bytes:
        self._check("get")
        try:
            body = self.objects[key]
        except KeyError:
            raise BackupError(f"s3://{self.bucket}/{key} does not exist", "NoSuchKey") from None
        with self._lock:
            self._outstanding[key] = len(body)
            outstanding = sum(self._outstanding.values())
            self.most_outstanding_bytes = max(self.most_outstanding_bytes, outstanding)
        return body

    def delete(self, keys: Sequence[str]) -> None:
        self._check("delete")
        with self._lock:
            for key in keys:
                self.objects.pop(key, None)
                self._outstanding.pop(key, None)
        self.journal.append(f"delete {' '.join(keys)}")

    def _check(self, op: str) -> None:
        if op in self.failing:
            raise BackupError(f"{op} on s3://{self.bucket} failed", "SlowDown")


class MemoryCheckpoints:
    def __init__(self, journal: list[str] | None = None) -> None:
        self.checkpoints: dict[DrainUnit, Checkpoint] = {}
        self.saves: list[tuple[DrainUnit, Checkpoint]] = []
        self.journal = [] if journal is None else journal

    def load(self, unit: DrainUnit) -> Checkpoint:
        return self.checkpoints.get(unit, Checkpoint())

    def save(self, unit: DrainUnit, checkpoint: Checkpoint) -> None:
        self.checkpoints[unit] = checkpoint
        self.saves.append((unit, checkpoint))
        self.journal.append(f"save done={' '.join(checkpoint.done)}")


class MemoryLeases:
    """Every unit free unless listed in ``held_by_other``; ``release_error`` makes release
    raise. A refused ``acquire`` asks the holder to go again, as the DynamoDB one does."""

    def __init__(self, held_by_other: set[DrainUnit] | None = None) -> None:
        self.held_by_other = set() if held_by_other is None else held_by_other
        self.release_error = False
        self.acquired: list[tuple[DrainUnit, float]] = []  # unit, lease_seconds asked for
        self.held: set[DrainUnit] = set()
        self.asked_again: set[DrainUnit] = set()
        self._lock = threading.Lock()

    def acquire(self, unit: DrainUnit, lease_seconds: float) -> bool:
        with self._lock:
            if unit in self.held_by_other or unit in self.held:
                self.asked_again.add(unit)
                return False
            self.acquired.append((unit, lease_seconds))
            self.held.add(unit)
            return True

    def release(self, unit: DrainUnit) -> bool:
        with self._lock:
            self.held.discard(unit)
            asked = unit in self.asked_again
            self.asked_again.discard(unit)
        if self.release_error:
            raise StateStoreError(f"releasing the {unit} drain lease failed: InternalServerError")
        return asked


@dataclass(frozen=True)
class ExportCall:
    body: ExportBody
    deadline: float
    retry: bool
    at: float  # on the exporter's ``clock``


Answer = ExportResult | Outcome
Script = Callable[[ExportCall], Answer]


class ScriptedExporter:
    """Answers from ``answers`` in order, then from ``script`` (default: ``then``).

    An ``Outcome`` stands for the plain result of that outcome (REJECTED with status 400).
    Each call is recorded with the time on ``clock``.
    """

    def __init__(
        self,
        name: str = "otlphttp/fake",
        answers: Iterable[Answer] = (),
        script: Script | None = None,
        then: Answer = Outcome.ACCEPTED,
        journal: list[str] | None = None,
        clock: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.name = name
        self.calls: list[ExportCall] = []
        self._clock = clock
        self.closed = False
        self.journal = [] if journal is None else journal
        self._answers = list(answers)
        self._script = script or (lambda _: then)
        self._lock = threading.Lock()

    @property
    def bodies(self) -> list[ExportBody]:
        return [call.body for call in self.calls]

    @property
    def times(self) -> list[float]:
        return [call.at for call in self.calls]

    def export(self, body: ExportBody, deadline: float, *, retry: bool = True) -> ExportResult:
        call = ExportCall(body, deadline, retry, self._clock())
        with self._lock:
            self.calls.append(call)
            answer = self._answers.pop(0) if self._answers else self._script(call)
        self.journal.append(f"export {self.name}")
        if isinstance(answer, ExportResult):
            return answer
        status = {Outcome.ACCEPTED: 200, Outcome.REJECTED: 400, Outcome.FAILED: 503}[answer]
        return ExportResult(answer, self.name, status=status, reason=f"HTTP {status}")

    def close(self) -> None:
        self.closed = True


@dataclass
class RecordingMetrics:
    """Keeps every count and gauge; ``journal`` gets ``flush <gauge names flushed>``."""

    counts: list[tuple[str, Signal, float, int | None]] = field(default_factory=list)
    gauges: list[tuple[str, Signal, float]] = field(default_factory=list)
    flushes: int = 0
    journal: list[str] = field(default_factory=list)
    _unflushed: set[str] = field(default_factory=set)

    def count(self, name: str, signal: Signal, value: float = 1, level: int | None = None) -> None:
        self.counts.append((name, signal, value, level))

    def gauge(self, name: str, signal: Signal, value: float) -> None:
        self.gauges.append((name, signal, value))
        self._unflushed.add(name)

    def flush(self) -> None:
        self.flushes += 1
        self.journal.append(" ".join(["flush", *sorted(self._unflushed)]))
        self._unflushed = set()

    def total(self, name: str, signal: Signal | None = None, level: int | None = None) -> float:
        return sum(
            value
            for n, s, value, lvl in self.counts
            if n == name and signal in (None, s) and level in (None, lvl)
        )

    def gauged(self, name: str, signal: Signal) -> list[float]:
        return [value for n, s, value in self.gauges if n == name and s == signal]


def export_body(signal: Signal = Signal.TRACES, raw: bytes = b"") -> ExportBody:
    """An export request of ``signal`` (empty unless ``raw`` says otherwise)."""
    message = signal.request_class.FromString(raw)
    return ExportBody(signal, MediaType.PROTOBUF, None, message, raw)
