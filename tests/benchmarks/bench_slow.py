"""Slow clients: /healthz and the board while 150 connections trickle their headers, one byte a second.

The real ``python -m gui`` (waitress with the dashboard's guard); the tricklers come from 150 loopback
addresses (127.0.1.x), so the per-address limit does not refuse them: only the read deadline helps.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path

import requests

from tests.benchmarks.common import latency, quiet_helpdesk, table
from tests.helpers import GuiServer

SLOW = 150
PROBES = 40


def main() -> str:
    root = Path(tempfile.mkdtemp(prefix="bench-slow-"))
    server = GuiServer(root / "site")
    server.tickets.rmdir()
    quiet_helpdesk(server.tickets.parent, 500)
    server.start()
    try:
        calm = _probe(server.url)
        stop = threading.Event()
        closed_after: list[float] = []
        threads = [threading.Thread(target=_trickle, args=(server.port, f"127.0.1.{n}", stop, closed_after))
                   for n in range(1, SLOW + 1)]
        for thread in threads:
            thread.start()
        time.sleep(1)
        held = _probe(server.url)
        for thread in threads:
            thread.join(timeout=30)
        stop.set()
    finally:
        server.stop()
    rows = [
        ["/healthz and /api/board, nothing else connected", latency(calm), ""],
        [f"the same while {SLOW} connections trickle headers", latency(held), "answers, median <= 2x the calm one"],
        [f"a trickling connection closed after (of {len(closed_after)})",
         f"median {sorted(closed_after)[len(closed_after) // 2]:.1f} s, max {max(closed_after):.1f} s",
         "<= 10 s + 1 s sweep"],
    ]
    return table("Slow clients (python -m gui, 500 tickets)", ["what", "measured", "target"], rows)


def _probe(url: str) -> list[float]:
    times = []
    with requests.Session() as session:
        for n in range(PROBES):
            began = time.perf_counter()
            session.get(url + ("/healthz" if n % 2 else "/api/board"), timeout=10)
            times.append(time.perf_counter() - began)
    return times


def _trickle(port: int, source: str, stop: threading.Event, closed_after: list[float]) -> None:
    """Send a request's headers one byte a second until the server closes the connection."""
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        while not stop.is_set() and time.monotonic() - began < 30:
            try:
                sock.sendall(b"a")
                sock.settimeout(1.0)
                if sock.recv(1) == b"":
                    break
            except socket.timeout:
                continue
            except OSError:
                break
    closed_after.append(time.monotonic() - began)


if __name__ == "__main__":
    print(main())
