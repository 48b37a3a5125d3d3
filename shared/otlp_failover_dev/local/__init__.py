"""The local stack: the same handlers behind an emulated HTTP API, AWS emulated by moto.

Nothing here is shipped to Lambda; it needs the ``local`` extra (boto3, moto, PyYAML).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt like Ctrl-C, so both leave through the caller's
    cleanup (``with``, ``finally``). Main thread only."""
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def wait_for_termination() -> None:
    """Block until Ctrl-C or SIGTERM."""
    with sigterm_as_interrupt():
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return
