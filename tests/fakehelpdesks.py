"""Fake Freshdesk and Zendesk APIs on 127.0.0.1, built from shared/reference/other-helpdesks.md.

They share the fake Freshservice's server, budget, faults and twists, and
differ where the products differ:

- Freshdesk: lists are bare JSON arrays; ``/tickets`` sorts by ``updated_at`` and
  stops at ``list_max_pages``; ``/search/tickets`` pages 30 at a time to
  ``search_max_pages`` and understands ``status:N OR ...`` with
  ``created_at:>'YYYY-MM-DD'`` / ``:<`` (inclusive here); one ticket comes back bare,
  deleted and spam ones with their flags; names in ``/agents`` (``contact.name``),
  ``/contacts/<id>`` and the status field's choices.
- Zendesk: Basic auth as ``<email>/token:<token>``; the cursor-based incremental
  export (``export_page`` tickets a page, ``export_per_minute`` calls a minute, deleted
  tickets with status ``deleted``, SLA metrics with ``include=slas``);
  ``/search.json`` with ``count``, ``next_page`` and at most ``search_cap`` results;
  ``X-Rate-Limit`` headers; priorities and statuses as words.
"""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from tests.fakefs import FakeFreshservice, _validation, generated, iso, parse_iso, without_stats

Answer = tuple[int, Any, dict[str, str], int]
PRIORITY_WORDS = ("low", "normal", "high", "urgent")


class FakeFreshdesk(FakeFreshservice):
    def __init__(self, api_key: str = "fd-key-0123456789", latency: float = 0.0, budget_per_minute: int = 100_000,
                 list_max_pages: int = 300, search_max_pages: int = 10) -> None:
        super().__init__(api_key, latency, budget_per_minute)
        self.list_max_pages = list_max_pages
        self.search_max_pages = search_max_pages
        self.contacts: dict[int, dict[str, Any]] = {}
        self.statuses = {2: ["Open", "Being Processed"], 3: ["Pending", "Awaiting your Reply"],
                         4: ["Resolved", "This ticket has been Resolved"], 5: ["Closed", "This ticket has been Closed"],
                         6: ["Waiting on Customer", "Awaiting your Reply"], 7: ["Waiting on Third Party", "Being Processed"]}

    def add_ticket(self, **fields: Any) -> dict[str, Any]:
        fields.setdefault("type", "Question")
        ticket = super().add_ticket(**fields)
        ticket.pop("workspace_id", None)
        return ticket

    def add_person(self, kind: str, person_id: int, first: str, last: str = "") -> None:
        name = f"{first} {last}".strip()
        if kind == "agent":
            self.agents[person_id] = {"id": person_id, "contact": {"name": name, "email": f"{first.lower()}@example.com"}}
        else:
            self.contacts[person_id] = {"id": person_id, "name": name, "email": f"{first.lower()}@example.com"}

    @staticmethod
    def wrap_ticket(body: dict[str, Any]) -> Any:
        return body  # Freshdesk's single ticket is bare


    def more_routes(self, parts: list[str], query: dict[str, str]) -> Answer:
        if parts == ["search", "tickets"]:
            return self._search(query)
        if parts == ["agents", "me"]:
            agent = self.agents.get(self.me) if self.me is not None else None
            return (200, agent, {}, 1) if agent else (404, {}, {}, 1)
        if len(parts) == 2 and parts[0] == "contacts" and parts[1].isdigit():
            person = self.contacts.get(int(parts[1]))
            return (200, person, {}, 1) if person else (404, {}, {}, 1)
        if parts == ["agents"]:
            return self._bare(list(self.agents.values()), query, 0)
        if parts == ["contacts"]:
            return self._bare(list(self.contacts.values()), query, 0)
        if parts == ["groups"]:
            return self._bare(list(self.groups.values()), query, 0)
        if parts == ["ticket_fields"]:
            choices = {str(k): v for k, v in self.statuses.items()}
            return 200, [{"name": "status", "type": "default_status", "choices": choices},
                         {"name": "priority", "type": "default_priority", "choices": {"Low": 1, "Urgent": 4}}], {}, 1
        return 404, {}, {}, 1

    def list_tickets(self, query: dict[str, str], include: list[str]) -> Answer:
        tickets = self.since(query, [t for t in self.tickets.values() if not t["deleted"] and not t["spam"]])
        if tickets is None:
            return 400, _validation("updated_since", "invalid_value"), {}, 1
        order = query.get("order_by", "created_at")
        tickets.sort(key=lambda t: (t[order], t["id"]), reverse=query.get("order_type") != "asc")
        if int(query.get("page", 1)) > self.list_max_pages:
            return 400, _validation("page", "invalid_value"), {}, 1
        if "stats" not in include:
            tickets = [without_stats(t) for t in tickets]
        return self._bare(tickets, query, 2 if include else 0)

    def _bare(self, items: list[Any], query: dict[str, str], extra: int) -> Answer:
        status, body, headers, cost = self._paged("items", items, query, extra)
        return status, body["items"] if status == 200 else body, headers, cost

    def _search(self, query: dict[str, str]) -> Answer:
        return self.search(query, "results", self.search_max_pages)


class FakeZendesk(FakeFreshservice):
    """Tickets are kept in Zendesk's own shape: ``status`` and ``priority`` words, ``assignee_id``, ``slas``."""

    def __init__(self, token: str = "zd-token-0123456789", email: str = "wall@acme.example", latency: float = 0.0,
                 budget_per_minute: int = 100_000, export_page: int = 1000, export_per_minute: int = 10,
                 search_cap: int = 1000) -> None:
        super().__init__(token, latency, budget_per_minute)
        self.email = email
        self.export_page = export_page
        self.export_per_minute = export_per_minute
        self.export_calls: list[float] = []
        self.export_refused = 0
        self.clock = time.monotonic  # the export's rate window runs on this clock
        self.search_cap = search_cap
        self.users: dict[int, dict[str, Any]] = {}

    def authorised(self, user: str, password: str) -> bool:
        return user == f"{self.email}/token" and password == self.api_key

    def rate_headers(self, remaining: int, cost: int) -> dict[str, str]:
        return {"X-Rate-Limit": str(self.budget_per_minute), "X-Rate-Limit-Remaining": str(max(0, remaining))}

    def add_ticket(self, **fields: Any) -> dict[str, Any]:
        """A Zendesk ticket; ``fr_due``/``due`` (datetimes or None) become active SLA metrics."""
        with self.lock:
            now, ticket_id, created = self.numbered(fields)
            fr_due = fields.pop("fr_due", now + timedelta(hours=4))
            due = fields.pop("due", now + timedelta(days=2))
            metrics = []
            if fr_due is not None:
                metrics.append({"metric": "first_reply_time", "stage": "active", "breach_at": iso(fr_due), "hours": 4})
            if due is not None:
                metrics.append({"metric": "agent_work_time", "stage": "active", "breach_at": iso(due), "hours": 48})
            ticket = {
                "id": ticket_id, "url": f"https://acme.zendesk.com/api/v2/tickets/{ticket_id}.json",
                "subject": f"Ticket {ticket_id}", "raw_subject": f"Ticket {ticket_id}",
                "description": f"Description of ticket {ticket_id}", "type": "incident", "status": "open",
                "priority": "normal", "requester_id": 361000001, "submitter_id": 361000001, "assignee_id": None,
                "group_id": None, "tags": [], "created_at": created, "updated_at": fields.pop("updated_at", created),
                "slas": {"policy_metrics": metrics},
            }
            ticket.update(fields)
            self.tickets[ticket_id] = ticket
            return ticket

    def populate_zendesk(self, total: int, active: int, days: int = 90, requesters: int = 200, seed: int = 1) -> None:
        """*total* tickets created over *days*, *active* of them open; the rest solved or closed."""
        self.groups = {40: {"id": 40, "name": "Service Desk"}}
        for n, rnd, fields in generated(self, total, active, days, requesters, seed, (900, 361000000)):
            created = parse_iso(fields["created_at"])
            self.add_ticket(**fields, status=rnd.choice(["new", "open", "open", "pending"]) if fields.pop("open")
                            else rnd.choice(["solved", "closed"]),
                            priority=rnd.choice(list(PRIORITY_WORDS)), requester_id=361000000 + rnd.randint(1, requesters),
                            assignee_id=900 + rnd.randint(1, 5), group_id=40,
                            fr_due=created + timedelta(hours=rnd.randint(1, 48)), due=created + timedelta(days=3))

    def add_person(self, kind: str, person_id: int, first: str, last: str = "") -> None:
        self.users[person_id] = {"id": person_id, "name": f"{first} {last}".strip(),
                                 "role": "agent" if kind == "agent" else "end-user"}

    def route(self, path: str, query: dict[str, str]) -> Answer:
        parts = path.removeprefix("/api/v2/").strip("/").split("/")
        slas = "slas" in query.get("include", "")
        if parts == ["incremental", "tickets", "cursor.json"]:
            return self._export(query, slas)
        if parts == ["search.json"]:
            return self._search(query)
        if parts == ["users", "me.json"]:
            user = self.users.get(self.me) if self.me is not None else None
            return 200, {"user": user or {"id": None, "name": "Anonymous user"}}, {}, 1
        if len(parts) == 2 and parts[0] == "tickets" and parts[1].removesuffix(".json").isdigit():
            ticket = self.tickets.get(int(parts[1].removesuffix(".json")))
            if ticket is None or ticket["status"] == "deleted":
                return 404, {"error": "RecordNotFound"}, {}, 1
            return 200, {"ticket": _shown(ticket, slas)}, {}, 1
        if len(parts) == 2 and parts[0] == "users" and parts[1].removesuffix(".json").isdigit():
            user = self.users.get(int(parts[1].removesuffix(".json")))
            return (200, {"user": user}, {}, 1) if user else (404, {"error": "RecordNotFound"}, {}, 1)
        if parts == ["users.json"]:
            return self._offset("users", [u for u in self.users.values() if u["role"] != "end-user"], path, query)
        if parts == ["groups.json"]:
            return self._offset("groups", list(self.groups.values()), path, query)
        return 404, {"error": "InvalidEndpoint"}, {}, 1

    def _export(self, query: dict[str, str], slas: bool) -> Answer:
        now = self.clock()
        self.export_calls = [c for c in self.export_calls if c > now - 60]
        if len(self.export_calls) >= self.export_per_minute:
            self.export_refused += 1
            wait = int(self.export_calls[0] + 60 - now) + 1
            return 429, {"error": "APIRateLimitExceeded"}, {"Retry-After": str(wait)}, 1
        self.export_calls.append(now)
        order = sorted(self.tickets.values(), key=lambda t: (t["updated_at"], t["id"]))
        if "cursor" in query:
            try:
                after = tuple(json.loads(base64.urlsafe_b64decode(query["cursor"])))
            except ValueError:
                return 400, {"error": "InvalidPaginationParameter"}, {}, 1
            rest = [t for t in order if (t["updated_at"], t["id"]) > after]
        elif query.get("start_time", "").isdigit():
            start = datetime.fromtimestamp(int(query["start_time"]), timezone.utc)
            rest = [t for t in order if _updated(t) >= start]
            after = ("", 0)
        else:
            return 400, {"error": "InvalidPaginationParameter"}, {}, 1
        chunk = rest[: self.export_page]
        last = (chunk[-1]["updated_at"], chunk[-1]["id"]) if chunk else after
        cursor = base64.urlsafe_b64encode(json.dumps(list(last)).encode()).decode()
        return 200, {"tickets": [_shown(t, slas) for t in chunk], "after_cursor": cursor, "before_cursor": None,
                     "end_of_stream": len(rest) <= self.export_page}, {}, 1

    def _search(self, query: dict[str, str]) -> Answer:
        match = re.fullmatch(r"type:ticket status<solved((?: created[<>]=\d{4}-\d\d-\d\d)*)", query.get("query", ""))
        if not match:
            return 400, {"error": "InvalidQuery"}, {}, 1
        found = [t for t in self.tickets.values() if t["status"] in ("new", "open", "pending", "hold")]
        for op, day in re.findall(r"created([<>])=([\d-]+)", match.group(1)):
            limit = date.fromisoformat(day)
            found = [t for t in found if (parse_iso(t["created_at"]).date() >= limit if op == ">"
                                          else parse_iso(t["created_at"]).date() <= limit)]
        found.sort(key=lambda t: (t["created_at"], t["id"]))
        per_page, page = int(query.get("per_page", 100)), int(query.get("page", 1))
        if (page - 1) * per_page >= self.search_cap:
            return 422, {"error": "InvalidPaginationParameter"}, {}, 1
        chunk = found[(page - 1) * per_page: page * per_page]
        following = None
        if page * per_page < min(len(found), self.search_cap):
            following = f"{self.url}/api/v2/search.json?" + urlencode({**query, "page": page + 1})
        results = [{**_shown(t, False), "result_type": "ticket"} for t in chunk]
        return 200, {"results": results, "count": len(found), "next_page": following}, {}, 1

    def _offset(self, key: str, items: list[Any], path: str, query: dict[str, str]) -> Answer:
        per_page, page = int(query.get("per_page", 100)), int(query.get("page", 1))
        following = None
        if page * per_page < len(items):
            following = f"{self.url}{path}?" + urlencode({**query, "page": page + 1})
        return 200, {key: items[(page - 1) * per_page: page * per_page], "next_page": following}, {}, 1


def _updated(ticket: dict[str, Any]) -> datetime:
    """When a ticket changed; a hostile date counts as now, so the export still carries it."""
    try:
        return parse_iso(ticket["updated_at"])
    except (TypeError, ValueError):
        return datetime.now(timezone.utc)


def _shown(ticket: dict[str, Any], slas: bool) -> dict[str, Any]:
    return dict(ticket) if slas else {k: v for k, v in ticket.items() if k != "slas"}
