"""One daemon per resource (a tickets folder, a light, a status file, an alerts database).

The claim is an abstract Unix socket name (Linux): it needs no writable
path, and the kernel releases it the moment its process dies, even by
``kill -9``, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import hashlib
import socket


class Taken(Exception):
    """Another running daemon owns it."""


def claim(holder: str, what: str) -> socket.socket:
    """Hold *what* (``the status file /run/x.json``) for *holder* (``blinky``) while the socket is open;
    Taken when another process holds it."""
    digest = hashlib.sha256(f"{holder}\0{what}".encode("utf-8", "surrogateescape")).hexdigest()[:32]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(b"\0ticketdash-" + digest.encode())
    except OSError:
        sock.close()
        raise Taken(f"another {holder} is already running on {what}") from None
    return sock
