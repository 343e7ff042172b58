"""Who may see the wall: an optional network allowlist, and read-only keys for TVs and programs.

A key is either the one in ``[gui] access_key_file`` (the device "kiosk") or
one per TV or program (``python -m gui keys add NAME``), each revocable
alone. A TV shows its key once (``/any/page?key=`` or, keeping it out of
every URL, a POST to ``/access``); it gets a cookie in exchange that holds a
random session id, never the key, expires after ``COOKIE_DAYS`` unused, is
replaced every day, and dies with its device's key. Programs (blinky's
remote mode, Prometheus) send ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import socket
from datetime import datetime, timedelta
from typing import Iterable
from urllib.parse import urlsplit

from flask import Request

from ticketdash.secrets import Secret
from gui.database import Database

logger = logging.getLogger(__name__)

COOKIE = "ticketdash_access"
OPEN_PATHS = ("/healthz", "/static/")
LEGACY = "kiosk"  # the device name of [gui] access_key_file's key
COOKIE_DAYS = 30
ROTATE_AFTER = timedelta(days=1)
GRACE = timedelta(minutes=5)  # a replaced cookie still works this long: requests already on their way


class Access:
    def __init__(self, key: Secret | None, networks: Iterable[str], database: Database, trusted_proxy: str = "",
                 server_names: Iterable[str] = ()) -> None:
        self.key = key
        self.networks = [ipaddress.ip_network(n, strict=False) for n in networks]
        self.database = database
        self.trusted_proxy = trusted_proxy
        self.names = {n.lower().rstrip(".") for n in (*server_names, "localhost", socket.gethostname(),
                                                      socket.getfqdn())}

    def host_allowed(self, host: str) -> bool:
        """Whether the Host header names this dashboard: an IP address, one of this box's names, or a
        configured ``server_names`` entry. Anything else is a name someone pointed here (DNS rebinding)."""
        try:
            name = (urlsplit("//" + host).hostname or "").rstrip(".")
        except ValueError:
            return False
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            return name in self.names

    def network_allowed(self, request: Request) -> bool:
        """In ``allow_networks``; or loopback when that really is the client: a local program, or one
        that a proxy names, never the proxy itself passing on someone it does not name."""
        if not self.networks:
            return True
        address = request.remote_addr or ""
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return False
        if any(ip in network for network in self.networks):
            return True
        named_by_proxy = "HTTP_X_FORWARDED_FOR" in request.environ
        return ip.is_loopback and (named_by_proxy or address != self.trusted_proxy)

    def required(self) -> bool:
        """Whether the wall needs a key: the kiosk key is set, or any device ever had one."""
        return self.key is not None or self.database.any_devices()

    def device_for(self, offered: str | None) -> str | None:
        """Which device a key belongs to (the kiosk key, compared in constant time, or a device's)."""
        if not offered:
            return None
        if self.key is not None and hmac.compare_digest(offered.encode("utf-8", "surrogateescape"),
                                                        self.key.reveal().encode()):
            return LEGACY
        return self.database.device_by_key(offered)

    def bearer(self, request: Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        return auth[7:].strip() if auth.startswith("Bearer ") else None

    def cookie_device(self, request: Request, now: datetime) -> tuple[str, datetime] | None:
        return self.database.device_session(request.cookies.get(COOKIE, ""), now)

    def holds_key(self, request: Request, now: datetime) -> bool:
        """Whether *request* shows a key (its cookie or a bearer), or none is needed."""
        if not self.required():
            return True
        return self.cookie_device(request, now) is not None or self.device_for(self.bearer(request)) is not None

    def key_matches(self, offered: str | None) -> bool:
        """Whether *offered* is any read-only key (the write path refuses those)."""
        return self.device_for(offered) is not None
