"""Who may see the wall: an optional network allowlist and an optional kiosk access key.

The TV opens ``/?key=<access key>`` once; the page answers with a cookie
holding an HMAC of the key (never the key itself) and redirects to the clean
URL. Programs (blinky in remote mode) send ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from typing import Iterable

from flask import Request

from ticketdash.secrets import Secret

logger = logging.getLogger(__name__)

COOKIE = "ticketdash_access"
OPEN_PATHS = ("/healthz", "/static/")


class Access:
    def __init__(self, key: Secret | None, networks: Iterable[str]) -> None:
        self.key = key
        self.networks = [ipaddress.ip_network(n, strict=False) for n in networks]
        self.token = hmac.new(key.reveal().encode(), b"ticketdash-kiosk", hashlib.sha256).hexdigest() if key else ""

    def network_allowed(self, address: str | None) -> bool:
        if not self.networks:
            return True
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return ip.is_loopback or any(ip in network for network in self.networks)

    def key_matches(self, offered: str | None) -> bool:
        if not (self.key and offered):
            return False
        return hmac.compare_digest(offered.encode("utf-8", "surrogateescape"), self.key.reveal().encode())

    def admitted(self, request: Request) -> bool:
        return request.path.startswith(OPEN_PATHS) or self.holds_key(request)

    def holds_key(self, request: Request) -> bool:
        """Whether *request* shows the key (cookie, bearer or ``?key=``), or none is needed."""
        if self.key is None:
            return True
        if hmac.compare_digest(request.cookies.get(COOKIE, "").encode("utf-8", "surrogateescape"), self.token.encode()):
            return True
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and self.key_matches(auth[7:].strip()):
            return True
        return self.key_matches(request.args.get("key"))
