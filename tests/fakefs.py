"""A fake Freshservice API v2 on 127.0.0.1, built from shared/reference/freshservice-api.md.

It behaves like the real service where a poller can trip: Basic auth with the
key, ``per_page`` 1-100 (else 400), the ``link`` header only when another page
exists (keeping every query parameter), the list's hidden 30-day window when
``updated_since`` is missing, deleted and spam tickets left out, workspace
scoping (none = primary, 0 = all), include credits (+2 on a list, +1 on a
show), ``X-RateLimit-*`` headers on every answer and 429 with ``Retry-After``
over the per-minute budget. Faults can be queued or sprayed at random: an
HTTP status, a slow answer, a truncated or malformed body, a reset connection.

Run it by hand: ``python -m tests.fakefs --port 8765 --active 50``.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import re
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.helpers import serve, unserve

PRIMARY_WORKSPACE = 2
STATUS_CHOICES = [(2, "Open"), (3, "Pending"), (4, "Resolved"), (5, "Closed"),
                  (6, "Waiting on Customer"), (7, "Waiting on Third Party")]


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass
class Fault:
    kind: str  # "status" | "slow" | "truncate" | "malformed" | "reset"
    path: str = ""  # applies to requests whose path starts with /api/v2/<path>
    status: int = 500
    retry_after: int | None = None
    seconds: float = 0.0
    times: int = 1


class FakeFreshservice:
    def __init__(self, api_key: str = "fake-key-0123456789", latency: float = 0.0,
                 budget_per_minute: int = 100_000) -> None:
        self.api_key = api_key
        self.latency = latency
        self.budget_per_minute = budget_per_minute
        self.tickets: dict[int, dict[str, Any]] = {}
        self.agents: dict[int, dict[str, Any]] = {}
        self.requesters: dict[int, dict[str, Any]] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self.workspaces = [{"id": 1, "name": "Global", "primary": False}, {"id": 2, "name": "IT", "primary": True}]
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.credits = 0
        self.faults: list[Fault] = []
        self.storm_rate = 0.0
        self.storm_random = random.Random(0)
        self.window_start = time.monotonic()
        self.window_used = 0
        self.lock = threading.RLock()
        self.next_id = 1
        self.me: int | None = None  # the agent id the key belongs to (GET agents/me); None: 404
        self.write_key: str | None = None  # a key whose agent role may assign (PUT tickets, POST notes)
        self.write_role_ok = True  # False: that key's role cannot assign (403), as a read-only role
        self.writes: list[tuple[str, str, Any]] = []  # every write: (method, path, body)
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.filter_max_pages = 40  # what /tickets/filter pages to (UNCONFIRMED for tickets: 10 or 40)
        self.server: ThreadingHTTPServer | None = None
        self.stopping = threading.Event()  # a slow answer ends when the server stops
        # A hostile or broken Freshservice: (path, query, the honest answer) -> the answer to send instead,
        # whose body may be raw bytes.
        self.twist: Callable[[str, dict[str, str], tuple[int, Any, dict[str, str], int]],
                             tuple[int, Any, dict[str, str], int]] | None = None

    # -- data ------------------------------------------------------------

    def numbered(self, fields: dict[str, Any]) -> tuple[datetime, int, str]:
        """A new ticket's moment, id (the next one unless *fields* name it) and creation time, taken from *fields*."""
        now = datetime.now(timezone.utc)
        ticket_id = fields.pop("id", None) or self.next_id
        self.next_id = max(self.next_id, ticket_id + 1)
        return now, ticket_id, fields.pop("created_at", iso(now))

    def add_ticket(self, **fields: Any) -> dict[str, Any]:
        """A ticket with realistic defaults; *fields* override them."""
        with self.lock:
            now, ticket_id, created = self.numbered(fields)
            stats = {
                "ticket_id": 21000000000 + ticket_id, "created_at": created, "updated_at": created,
                "opened_at": None, "pending_since": None, "status_updated_at": created, "resolved_at": None,
                "closed_at": None, "first_assigned_at": None, "assigned_at": None, "first_responded_at": None,
                "agent_responded_at": None, "requester_responded_at": None, "group_escalated": False,
                "inbound_count": 1, "outbound_count": 0, "first_resp_time_in_secs": None,
                "resolution_time_in_secs": 0,
            }
            stats.update(fields.pop("stats", {}))
            ticket = {
                "id": ticket_id, "workspace_id": PRIMARY_WORKSPACE, "subject": f"Ticket {ticket_id}",
                "description": f"<div>Description of ticket {ticket_id}</div>",
                "description_text": f"Description of ticket {ticket_id}", "type": "Incident", "status": 2,
                "priority": 2, "source": 1, "requester_id": 29000000001, "requested_for_id": 29000000001,
                "responder_id": None, "group_id": None, "department_id": None, "category": None,
                "sub_category": None, "item_category": None, "cc_emails": [], "fwd_emails": [],
                "reply_cc_emails": [], "to_emails": None, "email_config_id": None,
                "due_by": iso(now + timedelta(days=2)), "fr_due_by": iso(now + timedelta(hours=4)),
                "is_escalated": False, "fr_escalated": False, "spam": False, "deleted": False,
                "custom_fields": {}, "created_at": created, "updated_at": fields.pop("updated_at", created),
                "stats": stats,
            }
            ticket.update(fields)
            self.tickets[ticket_id] = ticket
            return ticket

    def update_ticket(self, ticket_id: int, **fields: Any) -> dict[str, Any]:
        """Change a ticket as an agent would: updated_at moves to now."""
        with self.lock:
            ticket = self.tickets[ticket_id]
            ticket.update(fields)
            ticket["updated_at"] = fields.get("updated_at", iso(datetime.now(timezone.utc)))
            return ticket

    def add_person(self, kind: str, person_id: int, first: str, last: str = "") -> None:
        table = self.agents if kind == "agent" else self.requesters
        table[person_id] = {"id": person_id, "first_name": first, "last_name": last,
                            "email": f"{first.lower()}@example.com", "active": True}

    def populate(self, total: int, active: int, days: int = 90, requesters: int = 200, seed: int = 1) -> None:
        """*total* tickets created over *days*, *active* of them still open; the rest resolved or closed."""
        self.groups = {31000000001: {"id": 31000000001, "name": "Service Desk", "workspace_id": PRIMARY_WORKSPACE}}
        for n, rnd, fields in generated(self, total, active, days, requesters, seed, (21000000000, 29000000000)):
            self.add_ticket(
                **fields, status=rnd.choice([2, 2, 3, 6]) if fields.pop("open") else rnd.choice([4, 5]),
                type=rnd.choice(["Incident", "Incident", "Service Request"]), priority=rnd.randint(1, 4),
                requester_id=29000000000 + rnd.randint(1, requesters),
                responder_id=21000000000 + rnd.randint(1, 5), group_id=31000000001,
            )

    # -- faults ----------------------------------------------------------

    def fault(self, kind: str, path: str = "", times: int = 1, **kw: Any) -> None:
        with self.lock:
            self.faults.append(Fault(kind, path, times=times, **kw))

    def storm(self, rate: float, seed: int = 0) -> None:
        """From now on, each request fails at random with probability *rate*."""
        self.storm_rate, self.storm_random = rate, random.Random(seed)

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if path.startswith("/api/v2/" + fault.path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
            if self.storm_rate and self.storm_random.random() < self.storm_rate:
                kind = self.storm_random.choice(["status", "status", "slow", "truncate", "malformed", "reset"])
                status = self.storm_random.choice([429, 500, 502, 503, 504])
                return Fault(kind, status=status, retry_after=1, seconds=0.2)
        return None

    # -- serving ---------------------------------------------------------

    def start(self, port: int = 0) -> str:
        self.server = serve(_handler(self), port)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self.server:
            self.stopping.set()
            unserve(self.server)

    def authorised(self, user: str, password: str) -> bool:
        """HTTP Basic as Freshworks takes it: the key as the user name (a key that may write may also read)."""
        return user == self.api_key or (self.write_key is not None and user == self.write_key)

    def rate_headers(self, remaining: int, cost: int) -> dict[str, str]:
        return {"X-RateLimit-Total": str(self.budget_per_minute), "X-RateLimit-Remaining": str(max(0, remaining)),
                "X-RateLimit-Used-CurrentRequest": str(cost)}

    def calls_to(self, prefix: str) -> list[dict[str, str]]:
        return [q for p, q in self.requests if p.startswith("/api/v2/" + prefix)]

    def charge(self, cost: int) -> tuple[bool, int, int]:
        """(allowed, remaining, seconds to the next window) under the per-minute budget."""
        with self.lock:
            now = time.monotonic()
            if now - self.window_start >= 60:
                self.window_start, self.window_used = now, 0
            left = self.budget_per_minute - self.window_used
            reset = max(1, int(60 - (now - self.window_start)))
            if cost > left:
                return False, left, reset
            self.window_used += cost
            self.credits += cost
            return True, self.budget_per_minute - self.window_used, reset

    def route(self, path: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str], int]:
        """(status, body, extra headers, credits) for an authorised GET: the ticket routes, then `more_routes`."""
        parts = path.removeprefix("/api/v2/").strip("/").split("/")
        include = [i for i in query.get("include", "").split(",") if i]
        if parts == ["tickets"]:
            return self.list_tickets(query, include)
        if len(parts) == 2 and parts[0] == "tickets" and parts[1].isdigit():
            return self.one_ticket(int(parts[1]), include, self.wrap_ticket)
        return self.more_routes(parts, query)

    @staticmethod
    def wrap_ticket(body: dict[str, Any]) -> Any:
        return {"ticket": body}

    def more_routes(self, parts: list[str], query: dict[str, str]) -> tuple[int, Any, dict[str, str], int]:
        if parts == ["tickets", "filter"]:
            return self._filter_tickets(query)
        if parts == ["agents", "me"]:
            person = self.agents.get(self.me) if self.me is not None else None
            return (200, {"agent": person}, {}, 1) if person else (404, {}, {}, 1)
        if len(parts) == 2 and parts[0] in ("requesters", "agents") and parts[1].isdigit():
            table = self.requesters if parts[0] == "requesters" else self.agents
            person = table.get(int(parts[1]))
            return (200, {parts[0][:-1]: person}, {}, 1) if person else (404, {}, {}, 1)
        if parts == ["agents"]:
            return self._paged("agents", sorted(self.agents.values(), key=lambda a: a["first_name"]), query, 0)
        if parts == ["requesters"]:
            return self._paged("requesters", list(self.requesters.values()), query, 0)
        if parts == ["groups"]:
            workspace = int(query.get("workspace_id", PRIMARY_WORKSPACE))
            found = [g for g in self.groups.values() if g["workspace_id"] == workspace]
            return self._paged("groups", found, query, 0)
        if parts == ["workspaces"]:
            return self._paged("workspaces", self.workspaces, query, 0)
        if parts == ["ticket_form_fields"]:
            choices = [{"id": i, "value": v, "requester_display_value": v} for i, v in STATUS_CHOICES]
            fields = [{"name": "status", "field_type": "default_status", "choices": choices},
                      {"name": "priority", "field_type": "default_priority",
                       "choices": [{"id": 1, "value": "Low"}, {"id": 4, "value": "Urgent"}]}]
            return 200, {"ticket_fields": fields}, {}, 1
        return 404, {}, {}, 1

    def write(self, method: str, path: str, body: Any, user: str) -> tuple[int, Any, dict[str, str], int]:
        """``PUT /tickets/<id>`` (``responder_id``) and ``POST /tickets/<id>/notes``, as Freshservice takes them:
        only with a key whose role may (the read key's may not: 403)."""
        parts = path.removeprefix("/api/v2/").strip("/").split("/")
        with self.lock:
            self.writes.append((method, path, body))
            if user != self.write_key or not self.write_role_ok:
                return 403, {"code": "access_denied", "message": "You are not authorized to perform this action."}, {}, 1
            if len(parts) < 2 or parts[0] != "tickets" or not parts[1].isdigit() or int(parts[1]) not in self.tickets:
                return 404, {}, {}, 1
            ticket_id = int(parts[1])
            if method == "PUT" and len(parts) == 2 and isinstance(body, dict):
                if not isinstance(body.get("responder_id"), int) or body["responder_id"] not in self.agents:
                    return 400, _validation("responder_id", "invalid_value"), {}, 1
                return 200, {"ticket": self.update_ticket(ticket_id, responder_id=body["responder_id"])}, {}, 1
            if method == "POST" and parts[2:] == ["notes"] and isinstance(body, dict) and isinstance(body.get("body"), str):
                note = {"id": len(self.notes.get(ticket_id, [])) + 1, "body": body["body"],
                        "private": body.get("private", True), "user_id": self.me}
                self.notes.setdefault(ticket_id, []).append(note)
                return 201, {"conversation": note}, {}, 1
            return 405 if method == "PUT" else 400, {}, {}, 1

    def one_ticket(self, ticket_id: int, include: list[str], wrap: Callable[[dict[str, Any]], Any]
                   ) -> tuple[int, Any, dict[str, str], int]:
        """``GET /tickets/<id>``: the ticket (*wrap* puts it in the product's envelope), stats only when asked."""
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return 404, {}, {}, 1
        return 200, wrap(ticket if "stats" in include else without_stats(ticket)), {}, 1 + len(include)

    @staticmethod
    def since(query: dict[str, str], tickets: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """The tickets updated since ``updated_since``, without it those created in the last 30 days (the
        documented trap); None for a date that does not parse."""
        if "updated_since" not in query:
            return [t for t in tickets if parse_iso(t["created_at"]) >= datetime.now(timezone.utc) - timedelta(days=30)]
        try:
            since = parse_iso(query["updated_since"])
        except ValueError:
            return None
        return [t for t in tickets if parse_iso(t["updated_at"]) >= since]

    def list_tickets(self, query: dict[str, str], include: list[str]) -> tuple[int, Any, dict[str, str], int]:
        tickets = list(self.tickets.values())
        kind = query.get("filter")
        if kind in ("deleted", "spam"):
            tickets = [t for t in tickets if t[kind]]
        else:
            tickets = [t for t in tickets if not t["deleted"] and not t["spam"]]
        tickets = self.since(query, tickets)
        if tickets is None:
            return 400, _validation("updated_since", "invalid_value"), {}, 1
        workspace = int(query.get("workspace_id", PRIMARY_WORKSPACE))
        if workspace:
            tickets = [t for t in tickets if t["workspace_id"] == workspace]
        if "type" in query:
            tickets = [t for t in tickets if t["type"] == query["type"]]
        tickets.sort(key=lambda t: (t["created_at"], t["id"]), reverse=query.get("order_type") != "asc")
        if "stats" not in include:
            tickets = [without_stats(t) for t in tickets]
        return self._paged("tickets", tickets, query, 2 if include else 0)

    def _filter_tickets(self, query: dict[str, str]) -> tuple[int, Any, dict[str, str], int]:
        """``/tickets/filter?query="status:2 OR status:3"``, optionally ``AND created_at:>'yyyy-mm-dd'``
        (and ``:<``, both inclusive here): 30 a page, pages 1 to ``filter_max_pages``, with ``total``."""
        workspace = int(query.get("workspace_id", PRIMARY_WORKSPACE))
        return self.search(query, "tickets", self.filter_max_pages,
                           lambda t: not workspace or t.get("workspace_id") == workspace)

    def search(self, query: dict[str, str], key: str, max_pages: int,
               scope: Callable[[dict[str, Any]], bool] = lambda t: True) -> tuple[int, Any, dict[str, str], int]:
        """The Freshworks query language as the fakes understand it: statuses, and creation days."""
        text = query.get("query", "")
        if not (len(text) > 2 and text[0] == text[-1] == '"') or len(text) > 512:
            return 400, _validation("query", "invalid_value"), {}, 1
        match = re.fullmatch(r"\(?((?:status:\d+)(?: OR status:\d+)*)\)?((?: AND created_at:[<>]'\d{4}-\d\d-\d\d')*)",
                             text[1:-1])
        if not match:
            return 400, _validation("query", "invalid_value"), {}, 1
        statuses = {int(n) for n in re.findall(r"status:(\d+)", match.group(1))}
        found = [t for t in self.tickets.values()
                 if t["status"] in statuses and not t["deleted"] and not t["spam"] and scope(t)]
        for op, day in re.findall(r"created_at:([<>])'([\d-]+)'", match.group(2)):
            limit = date.fromisoformat(day).isoformat()
            found = [t for t in found if (_day(t["created_at"]) >= limit if op == ">" else _day(t["created_at"]) <= limit)]
        try:
            page = int(query.get("page", 1))
        except ValueError:
            page = 0
        if not 1 <= page <= max_pages:
            return 400, _validation("page", "invalid_value"), {}, 1
        found.sort(key=lambda t: (t["created_at"], t["id"]), reverse=True)
        chunk = [without_stats(t) for t in found[(page - 1) * 30: page * 30]]
        return 200, {key: chunk, "total": len(found)}, {}, 1

    def _paged(self, key: str, items: list[Any], query: dict[str, str], extra: int) -> tuple[int, Any, dict[str, str], int]:
        try:
            per_page = int(query.get("per_page", 30))
            page = int(query.get("page", 1))
        except ValueError:
            return 400, _validation("per_page", "invalid_value"), {}, 1
        if not 1 <= per_page <= 100 or page < 1:
            return 400, _validation("per_page", "invalid_value"), {}, 1
        chunk = items[(page - 1) * per_page: page * per_page]
        headers = {}
        if page * per_page < len(items):
            headers["link"] = "<{base}?" + urlencode({**query, "page": page + 1}) + '>; rel="next"'
        return 200, {key: [dict(i) for i in chunk]}, headers, 1 + extra


def without_stats(ticket: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ticket.items() if k != "stats"}


def generated(fake: Any, total: int, active: int, days: int, requesters: int, seed: int,
              id_bases: tuple[int, int]) -> Any:
    """A generated helpdesk, for any fake: its people added, then each ticket's number, random source and
    the fields every product shares (``open`` says whether it is still active)."""
    rnd = random.Random(seed)
    now = datetime.now(timezone.utc)
    agents, people = id_bases
    for i in range(1, 6):
        fake.add_person("agent", agents + i, f"Agent{i}", "Smith")
    for i in range(1, requesters + 1):
        fake.add_person("requester", people + i, f"Requester{i}", "Jones")
    open_ids = set(rnd.sample(range(1, total + 1), active))
    for n in range(1, total + 1):
        created = now - timedelta(seconds=rnd.uniform(3600, days * 86400))
        updated = created + (now - created) * rnd.uniform(0.0, 1.0)
        yield n, rnd, {"id": n, "created_at": iso(created), "updated_at": iso(updated - timedelta(minutes=10)),
                       "open": n in open_ids, "subject": f"Generated ticket {n} " + "lorem ipsum " * rnd.randint(1, 6)}


def _day(moment: str) -> str:
    """The UTC day of a timestamp, as ``YYYY-MM-DD`` (cheap for the fakes' own ``...Z`` form)."""
    if moment.endswith("Z") and len(moment) == 20:
        return moment[:10]
    return parse_iso(moment).date().isoformat()


def _validation(field: str, code: str) -> dict[str, Any]:
    return {"description": "Validation failed", "errors": [{"field": field, "message": "invalid", "code": code}]}


def _handler(fake: FakeFreshservice) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            query = dict(parse_qsl(url.query))
            with fake.lock:
                fake.requests.append((url.path, query))
            if fake.latency:
                fake.stopping.wait(fake.latency)
            fault = fake.take_fault(url.path)
            if fault and fault.kind == "reset":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fault and fault.kind == "slow":
                fake.stopping.wait(fault.seconds)
            if not self._authorised():
                self._send(401, {"code": "invalid_credentials", "message": "You have to be logged in"}, {}, 1)
                return
            if fault and fault.kind == "status":
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                self._send(fault.status, {"message": "fault injected"}, headers, 1)
                return
            status, body, headers, cost = fake.route(url.path, query)
            if fake.twist is not None:
                status, body, headers, cost = fake.twist(url.path, query, (status, body, headers, cost))
            if "link" in headers:
                base = f"http://{self.headers.get('Host')}{url.path}"
                headers["link"] = headers["link"].replace("{base}", base)
            if isinstance(body, bytes):
                self._send(status, None, headers, cost, raw=body)
            elif fault and fault.kind == "malformed":
                self._send(200, None, headers, cost, raw=b'{"tickets": [{"id": 1, "subj')
            elif fault and fault.kind == "truncate":
                self._send(status, body, headers, cost, truncate=True)
            else:
                self._send(status, body, headers, cost)

        def do_PUT(self) -> None:  # noqa: N802
            self._write("PUT")

        def do_POST(self) -> None:  # noqa: N802
            self._write("POST")

        def _write(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(min(length, 1_000_000))
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                body = None
            header = self.headers.get("Authorization", "")
            try:
                user = base64.b64decode(header[6:]).decode().partition(":")[0] if header.startswith("Basic ") else ""
            except ValueError:
                user = ""
            if user not in (fake.api_key, fake.write_key):
                self._send(401, {"code": "invalid_credentials", "message": "You have to be logged in"}, {}, 1)
                return
            fault = fake.take_fault(url.path)
            if fault and fault.kind == "status":
                self._send(fault.status, {"message": "fault injected"}, {"Retry-After": str(fault.retry_after or 1)}, 1)
                return
            self._send(*fake.write(method, url.path, body, user))

        def _authorised(self) -> bool:
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return False
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return False
            return fake.authorised(user, password)

        def _send(self, status: int, body: Any, headers: dict[str, str], cost: int,
                  raw: bytes | None = None, truncate: bool = False) -> None:
            allowed, remaining, reset = fake.charge(cost)
            if not allowed:
                status, body, headers, raw = 429, {}, {"Retry-After": str(reset)}, None
                cost = 0
            data = raw if raw is not None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in fake.rate_headers(remaining, cost).items():
                self.send_header(name, value)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if truncate:
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
            else:
                self.wfile.write(data)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Freshservice API on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--key", default="fake-key-0123456789")
    parser.add_argument("--total", type=int, default=300)
    parser.add_argument("--active", type=int, default=50)
    args = parser.parse_args()
    fake = FakeFreshservice(api_key=args.key)
    fake.populate(args.total, args.active)
    print(f"serving {fake.start(args.port)}/api/v2 with key {args.key}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
