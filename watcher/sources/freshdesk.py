"""Freshdesk (API v2): the closest sibling of Freshservice, whose ticket shape it already shares.

- Changes: ``GET /tickets?updated_since=..&order_by=updated_at&order_type=asc&include=stats``.
  A listing stops at 300 pages (30,000 tickets); it is then restarted at page 1 from
  the last ``updated_at`` seen (inclusive: the sync engine de-duplicates by id).
- The active set: ``GET /search/tickets`` ("status:2 OR status:3 ..."), 30 a page and
  at most 10 pages, so the query is sliced by creation date until no slice passes
  that cap. Search has no ``include``; the engine asks for one ticket when it needs more.
- Deleted and spam tickets leave the listing; a reconcile notices them missing and
  ``GET /tickets/<id>`` shows ``deleted`` or ``spam``: the evidence to archive.
- Names: ``/agents`` (``contact.name``), ``/groups``, ``/contacts/<id>``, and the
  status field's choices in ``/ticket_fields`` (custom statuses from 6).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any, Iterator, Sequence

from ticketdash import timefmt
from ticketdash.names import DEFAULT_STATUSES, Names
from watcher.client import ApiClient, BadRequest, NotFound
from watcher.transport import SourceError
from watcher.sources import (BEGINNING, PLANNED_SHARE, ClientSource, check_page, counted, dated, sliced,
                             that_ticket, total_of)

logger = logging.getLogger(__name__)

LIST_MAX_PAGES = 300  # a listing pages to at most this many pages of 100
SEARCH_PAGE = 30
SEARCH_MAX_PAGES = 10
MAX_QUERY = 512  # characters, quotes included


class FreshdeskSource(ClientSource):
    name = "freshdesk"
    label = "Freshdesk"
    done = frozenset({4, 5})  # Resolved, Closed
    usual_active = frozenset({2, 3})
    types = None  # Freshdesk's types are a free choice list: every type is mirrored

    def __init__(self, client: ApiClient, link: str, list_max_pages: int = LIST_MAX_PAGES,
                 search_max_pages: int = SEARCH_MAX_PAGES) -> None:
        super().__init__(client, link)
        self.list_max_pages = list_max_pages
        self.search_max_pages = search_max_pages

    def tickets(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        start = timefmt.format(since) if since else BEGINNING
        while True:
            params = {"updated_since": start, "order_by": "updated_at", "order_type": "asc", "include": "stats"}
            seen: set[Any] = set()
            last, full_pages = start, 0
            for number, page in enumerate(self.client.pages("tickets", None, params), 1):
                check_page(page, number, seen)
                yield from page
                stamps = [t["updated_at"] for t in page if isinstance(t, dict) and isinstance(t.get("updated_at"), str)]
                last = max([last, *stamps])
                if number >= self.list_max_pages:
                    full_pages = number
                    break
            if not full_pages:
                return
            if last == start:  # a whole listing of one updated_at: restarting would repeat it forever
                raise SourceError(f"more than {self.list_max_pages} pages of tickets updated at {start}")
            logger.info("the listing reached its %d-page cap; restarting from %s", full_pages, last)
            start = last

    def active(self, statuses: set[int], created: Sequence[date] = ()) -> dict[int, dict[str, Any]] | None:
        terms = " OR ".join(f"status:{s}" for s in sorted(statuses))
        if len(terms) + 80 > MAX_QUERY:
            logger.info("too many active statuses for one search query: a full listing instead")
            return None
        try:
            return sliced(lambda since, until: self._search(terms, since, until), created=created,
                          per_slice=PLANNED_SHARE * SEARCH_PAGE * self.search_max_pages // 100)
        except (NotFound, BadRequest) as error:
            logger.info("the search cannot list the active tickets (%s): a full listing instead", error)
            return None

    def _search(self, terms: str, since: date | None, until: date | None) -> dict[int, dict[str, Any]] | None:
        """One slice by creation date."""
        query = dated(terms, since, until)
        return counted(lambda number: self.client.get("search/tickets", {"query": f'"{query}"', "page": number}),
                       "results", SEARCH_PAGE * self.search_max_pages, self.search_max_pages, "search")

    def visible(self) -> int:
        terms = " OR ".join(f"status:{s}" for s in sorted(self.usual_active))
        return total_of(self.client.get("search/tickets", {"query": f'"{terms}"', "page": 1}), "total", "search/tickets")

    def owner(self) -> str | None:
        agent = self.client.find("agents/me") or {}
        return _contact_name(agent["contact"]) if isinstance(agent.get("contact"), dict) else None

    def ticket(self, ticket_id: int) -> dict[str, Any] | None:
        found = self.client.find(f"tickets/{ticket_id}", {"include": "stats"})
        return None if found is None else that_ticket(found, ticket_id, f"tickets/{ticket_id}")

    def agents(self) -> Names:
        found: Names = {}
        for page in self.client.pages("agents", None):
            for agent in page:
                contact = agent.get("contact") if isinstance(agent.get("contact"), dict) else {}
                if type(agent.get("id")) is int:
                    found[agent["id"]] = str(contact.get("name") or contact.get("email") or agent["id"])
        return found

    def groups(self) -> Names:
        return {g["id"]: str(g.get("name")) for page in self.client.pages("groups", None) for g in page
                if type(g.get("id")) is int}

    def statuses(self) -> Names:
        found = dict(DEFAULT_STATUSES)
        for page in self.client.pages("ticket_fields", None):
            for field in page:
                if field.get("name") == "status":
                    found.update(_choices(field.get("choices")))
        return found

    def requester(self, requester_id: int) -> str | None:
        person = self.client.find(f"contacts/{requester_id}") or {}
        return _contact_name(person)

    def requesters(self) -> Iterator[Names]:
        for page in self.client.pages("contacts", None):
            yield {p["id"]: name for p in page if isinstance(p.get("id"), int) and (name := _contact_name(p))}


def _contact_name(person: dict[str, Any]) -> str | None:
    name = person.get("name") or person.get("email")
    return str(name) if name else None


def _choices(choices: Any) -> Names:
    """The status field's choices: ``{"2": ["Open", "Being Processed"], ...}`` (the agent's label first)."""
    found: Names = {}
    if isinstance(choices, dict):
        for key, value in choices.items():
            label = value[0] if isinstance(value, list) and value else value
            if str(key).isdigit() and isinstance(label, str) and label.strip():
                found[int(key)] = label.strip()
    return found
