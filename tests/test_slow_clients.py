"""One client, or many, cannot take the wall down by holding connections open (a real waitress process)."""

from __future__ import annotations

import socket

import pytest
import requests

from gui.serving import PER_ADDRESS, at_accept
from tests.helpers import wait_for

pytestmark = pytest.mark.slow


def trickler(port: int, source: str) -> socket.socket:
    """A client that started a request and sends its headers one byte at a time, forever."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    return sock


def closed(sock: socket.socket) -> bool:
    """Whether the server has closed this connection (after one more trickled byte)."""
    try:
        sock.sendall(b"a")
        sock.settimeout(0.05)
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def test_150_trickling_connections_neither_block_the_wall_nor_stay(gui_server) -> None:
    server = gui_server().start()
    sockets = [trickler(server.port, f"127.0.1.{n}") for n in range(1, 151)]  # 150 addresses
    sockets += [trickler(server.port, "127.0.0.2") for _ in range(PER_ADDRESS + 10)]  # and one greedy one
    try:
        for n in range(5):  # the TV and the monitors still get through, every time
            assert requests.get(server.url + "/healthz", timeout=5).status_code in (200, 503)
            for sock in sockets:
                closed(sock)  # keep trickling
        wait_for(lambda: all(closed(s) for s in sockets), timeout=30, what="every slow connection closed")
        assert requests.get(server.url + "/healthz", timeout=5).status_code in (200, 503)
    finally:
        for sock in sockets:
            sock.close()
    log = server.process.log.read_text()
    assert "refused connections from 127.0.0.2: already holds 16 connections" in log


def own_address() -> str | None:
    """This machine's first address that is not loopback (a client "from the network")."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("198.51.100.1", 9))  # no packet is sent: only the route is looked up
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_an_address_outside_the_allowlist_is_turned_away_when_it_connects(gui_server) -> None:
    address = own_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    server = gui_server(gui={"allow_networks": ["203.0.113.0/24", "127.0.0.1/32"]}).start()
    outsider = socket.create_connection(("127.0.0.1", server.port), timeout=5, source_address=(address, 0))
    try:
        outsider.settimeout(5)
        assert outsider.recv(1) == b""  # closed before a byte was asked for, let alone read
    except ConnectionResetError:
        pass
    finally:
        outsider.close()
    assert at_accept(["203.0.113.0/24"])("203.0.113.9") and not at_accept(["203.0.113.0/24"])("198.51.100.7")
    assert at_accept([])("198.51.100.7") and at_accept(["203.0.113.0/24"])("127.0.0.1")
    wait_for(lambda: f"refused connections from {address}: not in allow_networks" in server.process.log.read_text(),
             what="the refusal in the log")
