"""Freshservice: the first source, and the shape every other source writes."""

from __future__ import annotations

import html
import logging
from datetime import date, datetime
from typing import Any, Iterator, Sequence

from ticketdash import timefmt
from ticketdash.names import DEFAULT_STATUSES, Names
from watcher.client import ApiClient, AuthError, BadRequest, NotFound
from watcher.transport import ApiError
from watcher.sources import (BEGINNING, PLANNED_SHARE, ClientSource, check_page, counted, dated, person_name, sliced,
                             that_ticket, total_of)

logger = logging.getLogger(__name__)

FILTER_PAGE = 30  # the filter endpoint's fixed page size
FILTER_MAX_PAGES = 40  # what Freshservice's filter endpoints page to at most, until one refuses fewer


class _PastTheCap(Exception):
    """The filter refused a page before the total was reached."""


class FreshserviceSource(ClientSource):
    name = "freshservice"
    label = "Freshservice"
    done = frozenset({4, 5})  # Resolved, Closed
    usual_active = frozenset({2, 3})  # Open, Pending: asked for even before the status names are known
    types = ("Incident", "Service Request")

    def __init__(self, client: ApiClient, workspace_ids: list[int], link: str = "") -> None:
        super().__init__(client, link)
        self.filter_pages = FILTER_MAX_PAGES
        # None: the account's primary workspace (no parameter); 0: all of them.
        self.scopes: list[int | None] = list(workspace_ids) or [None]

    def _scoped(self, params: dict[str, Any], scope: int | None) -> dict[str, Any]:
        return params if scope is None else {**params, "workspace_id": scope}

    def tickets(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        params = {"updated_since": timefmt.format(since) if since else BEGINNING, "include": "stats"}
        for scope in self.scopes:
            seen: set[Any] = set()
            for number, page in enumerate(self.client.pages("tickets", "tickets", self._scoped(params, scope)), 1):
                check_page(page, number, seen)
                yield from page

    def active(self, statuses: set[int], created: Sequence[date] = ()) -> dict[int, dict[str, Any]] | None:
        """The active set through the filter endpoint, sliced by creation date so that no query passes
        its page cap (learned from the pages it refuses), whatever the size of the helpdesk."""
        terms = " OR ".join(f"status:{s}" for s in sorted(statuses))
        found: dict[int, dict[str, Any]] = {}
        for scope in self.scopes:
            try:
                part = sliced(lambda since, until: self._filter(terms, since, until, scope), created=created,
                              per_slice=PLANNED_SHARE * self.filter_pages * FILTER_PAGE // 100)
            except (NotFound, BadRequest) as error:
                logger.info("the filter endpoint cannot list the active tickets (%s): a full listing instead", error)
                return None
            if part is None:
                logger.info("one day holds more active tickets than the filter pages to: a full listing instead")
                return None
            found.update(part)
        return found

    def _filter(self, terms: str, since: date | None, until: date | None,
                scope: int | None) -> dict[int, dict[str, Any]] | None:
        """One slice, or None when it holds more than the filter pages to."""
        params = self._scoped({"query": f'"{dated(terms, since, until)}"'}, scope)

        def page(number: int) -> dict[str, Any]:
            try:
                return self.client.get("tickets/filter", {**params, "page": number})
            except BadRequest:
                if number == 1:
                    raise
                self.filter_pages = number - 1  # the cap, learned: slice finer from now on
                raise _PastTheCap from None

        try:
            return counted(page, "tickets", self.filter_pages * FILTER_PAGE, self.filter_pages, "filter")
        except _PastTheCap:
            return None

    def visible(self) -> int:
        terms = " OR ".join(f"status:{s}" for s in sorted(self.usual_active))
        return sum(total_of(self.client.get("tickets/filter", self._scoped({"query": f'"{terms}"', "page": 1}, scope)),
                            "total", "tickets/filter") for scope in self.scopes)

    def owner(self) -> str | None:
        person = (self.client.find("agents/me") or {}).get("agent")
        return person_name(person) if isinstance(person, dict) else None

    def ticket(self, ticket_id: int) -> dict[str, Any] | None:
        body = self.client.find(f"tickets/{ticket_id}", {"include": "stats"})
        return None if body is None else that_ticket(body.get("ticket"), ticket_id, f"tickets/{ticket_id}")

    def agents(self) -> Names:
        return {
            a["id"]: person_name(a)
            for page in self.client.pages("agents", "agents")
            for a in page
            if isinstance(a.get("id"), int)
        }

    def groups(self) -> Names:
        found: Names = {}
        for scope in self.scopes:
            params = self._scoped({}, scope if scope != 0 else None)
            for page in self.client.pages("groups", "groups", params):
                found.update({g["id"]: str(g.get("name")) for g in page if isinstance(g.get("id"), int)})
        return found

    def statuses(self) -> Names:
        found = dict(DEFAULT_STATUSES)
        for scope in self.scopes:
            body = self.client.get("ticket_form_fields", self._scoped({}, scope if scope != 0 else None))
            for fld in body.get("ticket_fields") or []:
                if isinstance(fld, dict) and fld.get("name") == "status":
                    for choice in fld.get("choices") or []:
                        if isinstance(choice, dict) and isinstance(choice.get("id"), int) and choice.get("value"):
                            found[choice["id"]] = str(choice["value"])
        return found

    def claim(self, writer: ApiClient, ticket_id: int, agent_id: int, note: str) -> None:
        """Assign the ticket to *agent_id* and say so in a private note, with *writer*'s key (one that
        may write); then read it back, since a 200 can silently drop a field. ApiError when it did not take."""
        path = f"tickets/{ticket_id}"
        try:
            writer.put(path, {"responder_id": agent_id})
        except AuthError as error:
            if "(403)" in str(error):
                raise AuthError("403: the write key's agent role cannot assign tickets") from None
            raise
        writer.post(f"{path}/notes", {"body": html.escape(note), "private": True, "notify_emails": []})
        body = self.client.find(path)
        now = that_ticket(body.get("ticket"), ticket_id, path) if body else None
        if now is None:
            raise ApiError(f"ticket {ticket_id} is gone")
        if now.get("responder_id") != agent_id:
            raise ApiError(f"Freshservice answered, but ticket {ticket_id} is assigned to {now.get('responder_id')}")

    def requester(self, requester_id: int) -> str | None:
        person = (self.client.find(f"requesters/{requester_id}") or {}).get("requester")
        return person_name(person) if isinstance(person, dict) else None

    def requesters(self) -> Iterator[Names]:
        for page in self.client.pages("requesters", "requesters"):
            yield {p["id"]: person_name(p) for p in page if isinstance(p.get("id"), int)}
