"""Pushes from the helpdesk: a webhook names a ticket, and the watcher fetches it at once.

Freshservice's Workflow Automator can POST on every ticket change (and on
its SLA-violation events) to ``/hooks/freshservice``, which nginx passes to
this receiver on a local port. A push is only a hint: it must carry the
configured secret header (compared in constant time), and of its body only
the ticket's id is read (``123``, ``"123"``, ``INC-123``, ``SR-123``). The
ticket itself always comes from the API, through the watcher's own budget,
so a forged or replayed push can at worst cost one call. Ids wait in a
bounded queue that keeps each id once; while the account is rate limited,
or the queue is full, the answer is 503 with ``Retry-After`` so that the
workflow tries again. Polling stays the backstop.
"""

from __future__ import annotations

import collections
import hmac
import json
import logging
import re
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from ticketdash import timefmt
from ticketdash.secrets import Secret

logger = logging.getLogger(__name__)

PATH = "/hooks/freshservice"
HEADER = "X-Ticketdash-Secret"
MAX_BODY = 4096  # {"ticket_id": "INC-123"} is 25 bytes; a workflow's whole payload fits many times
MAX_QUEUED = 1000  # distinct tickets waiting; more than a busy helpdesk changes between two polls
MAX_CONNECTIONS = 32  # at once; a flood gets 503 rather than a thread each
READ_TIMEOUT = 5.0  # seconds a client may take to send its request
TICKET_ID = re.compile(r"(?:[A-Za-z]{2,4}-)?([0-9]{1,15})")


def ticket_id(body: bytes) -> int | None:
    """The ticket a push names: a JSON number or string, or an object's ``ticket_id`` or ``id``; None
    for anything else. Nothing else in the body is read."""
    try:
        value: Any = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict):
        value = value.get("ticket_id", value.get("id"))
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 10**15 else None
    if isinstance(value, str):
        match = TICKET_ID.fullmatch(value.strip())
        return int(match.group(1)) if match and int(match.group(1)) > 0 else None
    return None


class Pushes:
    """The tickets pushes named, each once, oldest first, at most *limit*; `wake` is set when one arrives."""

    def __init__(self, limit: int = MAX_QUEUED) -> None:
        self.limit = limit
        self.waiting: collections.OrderedDict[int, None] = collections.OrderedDict()
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.received = 0
        self.refused = 0

    def add(self, ticket: int) -> bool:
        """Queue *ticket*; False when the queue is full (the sender should try again later)."""
        with self.lock:
            if ticket not in self.waiting and len(self.waiting) >= self.limit:
                self.refused += 1
                return False
            self.waiting[ticket] = None
            self.received += 1
        self.wake.set()
        return True

    def take(self, most: int) -> list[int]:
        """Up to *most* tickets to fetch now, oldest push first."""
        with self.lock:
            taken = []
            while self.waiting and len(taken) < most:
                taken.append(self.waiting.popitem(last=False)[0])
            if not self.waiting:
                self.wake.clear()
            return taken

    def put_back(self, tickets: list[int]) -> None:
        """Tickets that could not be fetched: first in line next time."""
        with self.lock:
            for ticket in reversed(tickets):
                self.waiting[ticket] = None
                self.waiting.move_to_end(ticket, last=False)
            if self.waiting:
                self.wake.set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out or hung up is no traceback on stderr: a line at debug level."""
        logger.debug("push connection from %s ended badly", client_address[0], exc_info=True)


class Receiver:
    """The webhook endpoint on *host*:*port*, in its own threads; it only ever queues an id."""

    def __init__(self, host: str, port: int, secret: Secret, pushes: Pushes,
                 held_until: Callable[[], datetime | None]) -> None:
        self.secret = secret.reveal().encode("utf-8")
        self.pushes = pushes
        self.held_until = held_until  # while the account is rate limited, pushes are refused (503)
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.lock = threading.Lock()
        self.refusals, self.logged_at = 0, float("-inf")
        self.server = _Server((host, port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="webhook receiver", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> None:
        self.thread.start()
        logger.info("taking pushes on http://%s:%d%s", self.server.server_address[0], self.port, PATH)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def refused(self, status: int, client: str) -> None:
        """Log refusals at most once a minute, with how many: a flood of forged pushes must not flood the log."""
        with self.lock:
            self.refusals += 1
            now = time.monotonic()
            if now - self.logged_at < 60:
                return
            count, self.refusals, self.logged_at = self.refusals, 0, now
        logger.warning("%d push(es) refused in the last minute (the last: %d from %s)", count, status, client)

    def answer(self, path: str, headers: Any, body: bytes | None) -> tuple[int, dict[str, str]]:
        """The status (and headers) for one POST: 202 queued, 4xx refused, 503 later."""
        if path.split("?", 1)[0] != PATH:
            return 404, {}
        offered = (headers.get(HEADER) or "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(offered, self.secret):
            return 401, {}
        if body is None:
            return 413, {}
        ticket = ticket_id(body)
        if ticket is None:
            return 400, {}
        held = self.held_until()
        if held is not None:
            wait = (held - timefmt.now()).total_seconds()
            if wait > 0:
                return 503, {"Retry-After": str(int(wait) + 1)}
        if not self.pushes.add(ticket):
            return 503, {"Retry-After": "60"}
        return 202, {}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            timeout = READ_TIMEOUT  # a client that sends its request slowly is cut off
            server_version = "ticketdash-watcher"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("push: " + format, *args)

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                if not receiver.slots.acquire(blocking=False):
                    self._reply(503, {"Retry-After": "5"})
                    return
                try:
                    length = self.headers.get("Content-Length", "")
                    size = int(length) if length.isdigit() else -1
                    body = self.rfile.read(size) if 0 <= size <= MAX_BODY else None
                    status, extra = receiver.answer(self.path, self.headers, body)
                    if status not in (202, 503):
                        receiver.refused(status, self.client_address[0])
                    self._reply(status, extra)
                finally:
                    receiver.slots.release()

            def do_GET(self) -> None:  # noqa: N802
                self._reply(405, {"Allow": "POST"})

            def _reply(self, status: int, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                if status >= 400:  # a refused request's body may be unread: never reuse the connection
                    self.close_connection = True
                self.end_headers()

        return Handler
