"""The unit tier's guard: a connect of any kind fails loudly (tests/unit/conftest.py)."""

from __future__ import annotations

import socket

import pytest
import urllib3

REFUSED = "unit tests never touch the network"


def test_a_plain_socket_connect_fails_loudly() -> None:
    with socket.socket() as sock, pytest.raises(AssertionError, match=REFUSED):
        sock.connect(("127.0.0.1", 9))


def test_connect_ex_fails_loudly_instead_of_returning_an_errno() -> None:
    with socket.socket() as sock, pytest.raises(AssertionError, match=REFUSED):
        sock.connect_ex(("127.0.0.1", 9))


def test_create_connection_fails_loudly() -> None:
    with pytest.raises(AssertionError, match=REFUSED):
        socket.create_connection(("127.0.0.1", 9), timeout=0.1)


def test_a_real_urllib3_pool_cannot_reach_a_server() -> None:
    with pytest.raises(AssertionError, match=REFUSED):
        urllib3.PoolManager(retries=False).request("GET", "http://127.0.0.1:9/")
