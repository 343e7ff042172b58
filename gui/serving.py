"""How the dashboard is served: waitress, guarded against idle, slow and greedy clients.

waitress alone lets a client hold a connection for as long as it trickles a
byte of header now and then, and stops accepting once ``connection_limit``
connections are open: a hundred such sockets take the wall offline. Here
each connection must deliver a whole request within ``READ_SECONDS`` of its
first byte, an idle one is closed after ``IDLE_SECONDS``, one address holds
at most ``PER_ADDRESS`` connections (the trusted proxy excepted: nginx has
its own limits), and an address outside ``allow_networks`` is turned away
when it connects, before anything is read.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from typing import Any, Callable

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

logger = logging.getLogger(__name__)

READ_SECONDS = 10.0  # a request's line, headers and body, from its first byte
IDLE_SECONDS = 30  # a kept-alive connection with nothing to say
PER_ADDRESS = 16
SWEEP_SECONDS = 1  # how often waitress looks for connections to close


class GuardedChannel(HTTPChannel):
    """A connection that must deliver each request whole, in time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reading_since: float | None = None

    def received(self, data: bytes) -> bool:
        if data and self.request is None and self.reading_since is None:
            self.reading_since = time.time()
        result = super().received(data)
        if self.request is None:  # nothing half-read is left
            self.reading_since = None
        return bool(result)


class GuardedServer(TcpWSGIServer):
    channel_class = GuardedChannel

    def __init__(self, application: Any, admit: Callable[[str], bool], trusted: str, **adjustments: Any) -> None:
        adj = Adjustments(channel_timeout=IDLE_SECONDS, cleanup_interval=SWEEP_SECONDS, **adjustments)
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.set_thread_count(adj.threads)
        self.admit = admit
        self.trusted = trusted
        self.refused_at: dict[str, float] = {}
        super().__init__(application, {}, True, None, dispatcher=dispatcher, adj=adj, sockinfo=adj.listen[0])

    def handle_accept(self) -> None:
        try:
            pair = self.accept()
            if pair is None:
                return
            conn, addr = pair
            self.set_socket_options(conn)
        except OSError:
            return
        address = str(self.fix_addr(addr)[0])
        why = self._refusal(address)
        if why:
            self._say_once(address, why)
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
            return
        self.channel_class(self, conn, addr, self.adj, map=self._map)

    def _refusal(self, address: str) -> str | None:
        if address == self.trusted:
            return None
        if not self.admit(address):
            return "not in allow_networks"
        held = sum(1 for channel in self.active_channels.values() if channel.addr and channel.addr[0] == address)
        return f"already holds {held} connections" if held >= PER_ADDRESS else None

    def _say_once(self, address: str, why: str) -> None:
        """One log line per address a minute, not one per refused connection."""
        now = time.monotonic()
        if now - self.refused_at.get(address, -60.0) >= 60:
            self.refused_at[address] = now
            logger.warning("refused connections from %s: %s", address, why)
            if len(self.refused_at) > 10_000:
                self.refused_at.clear()

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # the idle ones
        for channel in list(self.active_channels.values()):
            since = getattr(channel, "reading_since", None)
            if since is not None and now - since > READ_SECONDS:
                channel.will_close = True  # a request still not whole: slow, or an attack


def at_accept(networks: list[str]) -> Callable[[str], bool]:
    """Whether a connecting address may be read at all: in ``allow_networks``, or loopback (the
    request's own check then decides what a proxied or local request may see)."""
    parsed = [ipaddress.ip_network(n, strict=False) for n in networks]

    def admit(address: str) -> bool:
        if not parsed:
            return True
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return False
        return ip.is_loopback or any(ip in network for network in parsed)

    return admit
