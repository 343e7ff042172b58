"""Signed "acknowledge" links for alert messages: one ticket, one state, a day at most.

A chat message carries ``<public_url>/ack/<ticket>?helpdesk=&state=&exp=&sig=``.
The signature (HMAC-SHA256 with a secret the dashboard keeps beside its
database) proves the link came from this installation; the page it opens
still asks the agent to sign in and to confirm with a POST (chat clients
fetch links on their own), and refuses once the ticket has left that state.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from ticketdash import secrets as key_files

LIFETIME = timedelta(hours=24)


def secret_file(database: Path) -> Path:
    return database.with_name("links.key")


def make_secret(path: Path) -> None:
    """The dashboard's signing secret, made once; the alerts daemon (the same service group) reads it."""
    if path.exists():
        return
    path.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(32))


def read_secret(path: Path) -> bytes | None:
    """The signing secret; None while there is none (or it is too short to trust)."""
    text = key_files.read_secret(path)
    return text.encode() if len(text) >= 32 else None


def signature(secret: bytes, helpdesk: str, ticket: int, state: str, expires: int) -> str:
    message = f"ack|{helpdesk}|{ticket}|{state}|{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def ack_link(public_url: str, secret: bytes, helpdesk: str, ticket: int, state: str, now: datetime) -> str:
    expires = int((now + LIFETIME).timestamp())
    query = {"helpdesk": helpdesk, "state": state, "exp": expires,
             "sig": signature(secret, helpdesk, ticket, state, expires)}
    return f"{public_url.rstrip('/')}/ack/{ticket}?{urlencode(query)}"


def valid(secret: bytes, helpdesk: str, ticket: int, state: str, expires: str, offered: str, now: datetime) -> bool:
    """Whether a link's signature is this installation's and it has not expired."""
    if not expires.isdigit() or int(expires) < now.timestamp() or len(offered) != 64:
        return False
    return hmac.compare_digest(signature(secret, helpdesk, ticket, state, int(expires)), offered)
