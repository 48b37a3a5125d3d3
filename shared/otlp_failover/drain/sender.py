"""One replay: decoded lines merged into one request, cut into requests of at most the
batch size (a collector-sized export is sent in pieces, each taking no longer than a live
export), gzip-compressed, paced, and what the backend's answers mean for the drain."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Sequence
from enum import Enum
from typing import Any

from otlp_failover.codec import ExportBody, MediaType, decode_export_response, media_type_of
from otlp_failover.codec.split import split_request
from otlp_failover.drain.pacer import Pacer
from otlp_failover.failover.levels import Level
from otlp_failover.failover.outcomes import ExportResult, Outcome
from otlp_failover.signals import Signal

log = logging.getLogger(__name__)

# Replays are compressed as the collector's exporter compresses by default: a backend with
# a body cap takes the request it took live. Level 1 costs a fifth of level 6's CPU and
# still shrinks OTLP protobuf several times.
GZIP_LEVEL = 1
THROTTLED_TRIES = 3  # sends of one batch that a Retry-After may ask for before the run stops


class Sent(Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"  # the payload's fault (400/413): some line in it is bad data
    FAILED = "failed"  # the backend's fault: stop and leave the rest
    NO_TIME = "no time"  # the run's deadline came before this send's turn


class BatchSender:
    def __init__(self, signal: Signal, level: Level, pacer: Pacer, max_bytes: int) -> None:
        self.signal = signal
        self.level = level
        self._pacer = pacer
        self._max_bytes = max_bytes  # protobuf bytes per request before compression
        self.requests = 0
        self.rejected_items = 0  # dropped by the backend inside a 200 (OTLP partial success)
        self.last_failure = ""

    def send(self, messages: Sequence[Any], deadline: float) -> Sent:
        """ACCEPTED once every piece was accepted; otherwise how the first other one ended
        (pieces accepted before it are sent again with the rest: a duplicate, never a loss)."""
        if len(messages) == 1:
            merged = messages[0]  # no copy of a large line
        else:
            merged = self.signal.request_class()
            for message in messages:  # OTLP requests of one signal merge by concatenation
                merged.MergeFrom(message)
        for piece in split_request(self.signal, merged, self._max_bytes):
            sent = self._send_one(self._body(piece), deadline)
            if sent is not Sent.ACCEPTED:
                return sent
        return Sent.ACCEPTED

    def _send_one(self, body: ExportBody, deadline: float) -> Sent:
        for _ in range(THROTTLED_TRIES):
            if not self._pacer.wait(deadline):
                return Sent.NO_TIME
            result = self.level.export(body, deadline)
            self.requests += 1
            if result.outcome is Outcome.ACCEPTED:
                self._note_partial_success(result)
                return Sent.ACCEPTED
            if result.outcome is Outcome.REJECTED:
                return Sent.REFUSED
            self.last_failure = (
                f"level {self.level.index} ({self.level.name}) failed: {result.reason}"
            )
            if result.retry_after is None:
                break
            self._pacer.pause(result.retry_after)
        log.warning("drain of %s stopped: %s", self.signal, self.last_failure)
        return Sent.FAILED

    def _body(self, request: Any) -> ExportBody:
        raw = gzip.compress(request.SerializeToString(), compresslevel=GZIP_LEVEL, mtime=0)
        return ExportBody(self.signal, MediaType.PROTOBUF, "gzip", request, raw)

    def _note_partial_success(self, result: ExportResult) -> None:
        """A backend may drop items inside a 200; say so, since nobody else will."""
        media = media_type_of(result.content_type)
        if not result.body or media is None:
            return
        response = decode_export_response(self.signal, result.body, media)
        partial = getattr(response, "partial_success", None)
        rejected = sum(
            getattr(partial, field, 0)
            for field in ("rejected_spans", "rejected_data_points", "rejected_log_records")
        )
        if rejected:
            self.rejected_items += rejected
            log.warning(
                "the backend dropped %d %s items of a replayed batch: %s",
                rejected,
                self.signal,
                getattr(partial, "error_message", ""),
            )
