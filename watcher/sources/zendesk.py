"""Zendesk (Support API), converted at this edge into the contract's ticket shape.

- Changes: the cursor-based incremental export, ``/incremental/tickets/cursor.json``
  with ``include=slas``: ``start_time`` the first time, then ``cursor=<after_cursor>``
  until ``end_of_stream``. The cursor moves on only when a cycle succeeds and is
  kept in the heartbeat across restarts. These endpoints allow 10 calls a minute:
  they have a pacer of their own, under the client's.
- The active set: ``/search.json?query=type:ticket status<solved``, at most 1,000
  results a query, sliced by creation date until no slice passes that cap.
- Mapping: statuses ``new open pending hold`` are active (``pending``/``hold`` pause by
  their names, "Pending" and "On Hold"), ``solved closed`` left, ``deleted`` deleted;
  priorities ``low normal high urgent`` are 1-4; the ``first_reply_time`` metric's
  ``breach_at`` is the first-response due time while active, the earliest other
  active metric is the due time; ``assignee_id`` is the agent.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from typing import Any, Callable, Iterator, Sequence

from ticketdash import timefmt
from ticketdash.names import Names
from watcher.client import ApiClient
from watcher.transport import ApiError, Pacer, SourceError
from watcher.sources import PLANNED_SHARE, ClientSource, check_page, sliced, that_ticket, total_of

logger = logging.getLogger(__name__)

STATUSES = {"new": (1, "New"), "open": (2, "Open"), "pending": (3, "Pending"), "hold": (6, "On Hold"),
            "solved": (4, "Solved"), "closed": (5, "Closed")}
PRIORITIES = {"low": 1, "normal": 2, "high": 3, "urgent": 4}
FIRST_REPLY = "first_reply_time"
EXPORT_PER_MINUTE = 10
SEARCH_CAP = 1000  # results a search query pages to
MAX_PAGES = 2000


class ZendeskSource(ClientSource):
    name = "zendesk"
    label = "Zendesk"
    done = frozenset({4, 5})  # solved, closed
    usual_active = frozenset({1, 2, 3, 6})
    types = None

    def __init__(self, client: ApiClient, link: str, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, search_cap: int = SEARCH_CAP) -> None:
        super().__init__(client, link)
        self.export_pacer = Pacer(EXPORT_PER_MINUTE, clock, sleep, client.announce, "Zendesk")
        self.export_pacer.why = "Zendesk's incremental export allows 10 calls a minute"
        self.search_cap = search_cap
        self.pending: str | None = None  # the cursor this cycle reached, kept on commit

    def commit(self) -> None:
        if self.pending:
            self.checkpoint, self.pending = self.pending, None

    def tickets(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        self.pending = None
        if since is not None and self.checkpoint:
            params: dict[str, Any] = {"cursor": self.checkpoint, "include": "slas"}
        else:
            start = max(1, int(since.timestamp())) if since else 1
            params = {"start_time": start, "include": "slas"}
        seen_cursors: set[str] = set()
        seen: set[Any] = set()
        for number in range(1, MAX_PAGES + 1):
            self.export_pacer.before_call()
            body = self.client.get("incremental/tickets/cursor.json", params)
            page, cursor = body.get("tickets"), body.get("after_cursor")
            if not isinstance(page, list) or not isinstance(body.get("end_of_stream"), bool):
                raise ApiError("GET incremental/tickets/cursor.json: malformed response")
            if page:
                check_page(page, number, seen)
            yield from (convert(t) for t in page)
            if isinstance(cursor, str) and cursor:
                self.pending = cursor
            if body["end_of_stream"]:
                return
            if not isinstance(cursor, str) or not cursor or cursor in seen_cursors:
                raise SourceError("the incremental export is not coherent: its cursor does not move on")
            seen_cursors.add(cursor)
            params = {"cursor": cursor, "include": "slas"}
        raise ApiError(f"the incremental export has more than {MAX_PAGES} pages; it looks endless")

    def active(self, statuses: set[int], created: Sequence[date] = ()) -> dict[int, dict[str, Any]] | None:
        return sliced(self._search, created=created, per_slice=PLANNED_SHARE * self.search_cap // 100)

    def _search(self, since: date | None, until: date | None) -> dict[int, dict[str, Any]] | None:
        query = "type:ticket status<solved"
        if since:
            query += f" created>={since.isoformat()}"
        if until:
            query += f" created<={until.isoformat()}"
        found: dict[int, dict[str, Any]] = {}
        seen: set[Any] = set()
        body = self.client.get("search.json", {"query": query, "per_page": 100})
        count = body.get("count")
        if type(count) is not int or count < 0:
            raise ApiError("GET search.json: malformed response (no count)")
        if count > self.search_cap:
            return None
        for number in range(1, MAX_PAGES + 1):
            page = body.get("results")
            if not isinstance(page, list):
                raise ApiError("GET search.json: malformed response (no results list)")
            if page or number > 1:
                check_page(page, number, seen)
            tickets = [convert(t) for t in page if isinstance(t, dict) and t.get("result_type", "ticket") == "ticket"]
            found.update({t["id"]: t for t in tickets if type(t.get("id")) is int and "_unparsed" not in t})
            following = body.get("next_page")
            if not following or len(seen) >= count:
                break
            body = self.client.get_url(str(following))
        if len(seen) != count:
            raise SourceError(f"the search listed {len(seen)} active tickets but said there are {count}")
        return found

    def visible(self) -> int:
        return total_of(self.client.get("search.json", {"query": "type:ticket status<solved", "per_page": 1}),
                        "count", "search.json")

    def owner(self) -> str | None:
        user = (self.client.find("users/me.json") or {}).get("user")
        return str(user["name"]) if isinstance(user, dict) and user.get("name") and user.get("id") else None

    def ticket(self, ticket_id: int) -> dict[str, Any] | None:
        body = self.client.find(f"tickets/{ticket_id}.json", {"include": "slas"})
        path = f"tickets/{ticket_id}.json"
        return None if body is None else convert(that_ticket(body.get("ticket"), ticket_id, path))

    def _pages(self, path: str, key: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of an offset-paged list, following ``next_page`` (on the configured host only)."""
        body = self.client.get(path, {**(params or {}), "per_page": 100})
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            items = body.get(key)
            if not isinstance(items, list):
                raise ApiError(f"GET {path}: malformed response (no '{key}' list)")
            yield from (i for i in items if isinstance(i, dict))
            following = body.get("next_page")
            if not isinstance(following, str) or not following:
                return
            if following in seen:
                raise ApiError(f"GET {path}: next_page loops back")
            seen.add(following)
            body = self.client.get_url(following)

    def agents(self) -> Names:
        return {u["id"]: str(u.get("name") or u["id"])
                for u in self._pages("users.json", "users", {"role[]": ["agent", "admin"]}) if type(u.get("id")) is int}

    def groups(self) -> Names:
        return {g["id"]: str(g.get("name") or g["id"]) for g in self._pages("groups.json", "groups")
                if type(g.get("id")) is int}

    def statuses(self) -> Names:
        return {number: name for number, name in STATUSES.values()}

    def requester(self, requester_id: int) -> str | None:
        user = (self.client.find(f"users/{requester_id}.json") or {}).get("user")
        name = user.get("name") if isinstance(user, dict) else None
        return str(name) if name else None


def convert(ticket: Any) -> dict[str, Any]:
    """A Zendesk ticket in the contract's shape; ``_unparsed`` (the engine skips and names it) when
    it cannot be judged."""
    if not isinstance(ticket, dict):
        return {"id": None, "_unparsed": "not a ticket object"}
    raw_status = ticket.get("status")
    deleted = raw_status == "deleted"
    if not deleted and raw_status not in STATUSES:
        return {"id": ticket.get("id"), "_unparsed": f"unknown status {str(raw_status)[:40]!r}"}
    status = STATUSES["closed" if deleted else raw_status][0]
    first, due = _deadlines(ticket.get("slas"))
    updated = ticket.get("updated_at")
    description = ticket.get("description")
    return {
        "id": ticket.get("id"),
        "subject": ticket.get("subject") if isinstance(ticket.get("subject"), str) else ticket.get("raw_subject"),
        "description_text": description if isinstance(description, str) else None,
        "type": ticket.get("type") if isinstance(ticket.get("type"), str) else None,
        "status": status,
        "priority": PRIORITIES.get(ticket.get("priority")) if isinstance(ticket.get("priority"), str) else None,
        "requester_id": ticket.get("requester_id"),
        "responder_id": ticket.get("assignee_id"),
        "group_id": ticket.get("group_id"),
        "created_at": ticket.get("created_at"),
        "updated_at": updated,
        "fr_due_by": first,
        "due_by": due,
        "deleted": deleted,
        "spam": False,
        "stats": {"first_responded_at": None, "agent_responded_at": None, "requester_responded_at": None,
                  "resolved_at": updated if status in (4, 5) and not deleted else None},
    }


def _deadlines(slas: Any) -> tuple[str | None, str | None]:
    """(first-response due, due) from ``slas.policy_metrics``: active metrics only."""
    metrics = slas.get("policy_metrics") if isinstance(slas, dict) else None
    first, others = None, []
    for metric in metrics if isinstance(metrics, list) else []:
        if not isinstance(metric, dict) or metric.get("stage") != "active":
            continue
        breach = metric.get("breach_at")
        if timefmt.parse(breach) is None:
            continue
        if metric.get("metric") == FIRST_REPLY:
            first = breach
        else:
            others.append(breach)
    due = min(others, key=lambda b: timefmt.parse(b)) if others else None  # type: ignore[arg-type, return-value]
    return first, due
