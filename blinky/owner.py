"""One blinky per status file and per light: a second copy must not fight the first.

The claim is an abstract Unix socket name (Linux): it needs no writable
path, and the kernel releases it the moment its process dies, even by
``kill -9``, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import hashlib
import socket


class Taken(Exception):
    """Another running blinky owns it."""


def claim(what: str) -> socket.socket:
    """Hold *what* (e.g. ``status file /run/x.json``) for the life of this process; Taken if held."""
    digest = hashlib.sha256(what.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(b"\0ticketdash-blinky-" + digest.encode())
    except OSError:
        sock.close()
        raise Taken(f"another blinky is already running on the {what}") from None
    return sock
