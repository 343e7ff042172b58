"""Where tickets come from. A source answers five questions; the sync engine does the rest.

To mirror another helpdesk product, write a class with these methods that
returns ticket objects shaped like Freshservice's (``id``, ``status``,
``type``, ``updated_at``, ``due_by``, ``fr_due_by``, ``stats`` ...).
"""

from __future__ import annotations

from datetime import datetime
import logging
from typing import Any, Iterator, Protocol

from ticketdash import timefmt
from ticketdash.names import DEFAULT_STATUSES, Names
from watcher.client import BadRequest, FreshserviceClient, FreshserviceError, NotFound, SourceError, Usage

logger = logging.getLogger(__name__)

# Any date before the account existed: always sending updated_since lifts the
# list endpoint's hidden "created in the last 30 days" restriction.
BEGINNING = "2000-01-01T00:00:00Z"
FILTER_PAGE = 30  # the filter endpoint's fixed page size
FILTER_MAX_PAGES = 40  # what Freshservice's filter endpoints page to at most


class Source(Protocol):
    name: str
    usage: Usage

    def tickets(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        """Every ticket updated since *since* (all of them for None), in every scope.
        SourceError when the listing is not coherent (a page repeats, an empty page follows)."""

    def active(self, statuses: set[int]) -> dict[int, dict[str, Any]] | None:
        """Every ticket in *statuses*, by id (content without ``stats``): the active set, at the cost
        of the active tickets only. None when the source cannot list it (a full listing instead)."""

    def ticket(self, ticket_id: int) -> dict[str, Any] | None:
        """One ticket with its stats, now; None when it no longer exists (deleted)."""

    def set_deadline(self, deadline: float | None) -> None:
        """No call may start after *deadline* (time.monotonic), nor run past it."""

    def agents(self) -> Names: ...

    def groups(self) -> Names: ...

    def statuses(self) -> Names: ...

    def requester(self, requester_id: int) -> str | None:
        """The name of one requester, None if the helpdesk does not know it."""

    def close(self) -> None: ...


def _check_page(page: list[dict[str, Any]], number: int, seen: set[Any]) -> None:
    """A listing is believed only when coherent: every page after the first adds new tickets."""
    ids = {_key(t.get("id") if isinstance(t, dict) else t) for t in page}
    if number > 1 and not ids - seen:
        what = "is empty" if not page else "repeats tickets already listed"
        raise SourceError(f"the ticket listing is not coherent: page {number} {what}")
    seen |= ids


def _key(value: Any) -> Any:
    return value if isinstance(value, (int, str)) else repr(value)[:80]


def person_name(person: dict[str, Any]) -> str:
    name = " ".join(str(person.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    return name or str(person.get("email") or person.get("primary_email") or person.get("id"))


class FreshserviceSource:
    name = "freshservice"

    def __init__(self, client: FreshserviceClient, workspace_ids: list[int]) -> None:
        self.client = client
        # None: the account's primary workspace (no parameter); 0: all of them.
        self.scopes: list[int | None] = list(workspace_ids) or [None]

    @property
    def usage(self) -> Usage:
        return self.client.usage

    def close(self) -> None:
        self.client.close()

    def _scoped(self, params: dict[str, Any], scope: int | None) -> dict[str, Any]:
        return params if scope is None else {**params, "workspace_id": scope}

    def set_deadline(self, deadline: float | None) -> None:
        self.client.deadline = deadline

    def tickets(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        params = {"updated_since": timefmt.format(since) if since else BEGINNING, "include": "stats"}
        for scope in self.scopes:
            seen: set[Any] = set()
            for number, page in enumerate(self.client.pages("tickets", "tickets", self._scoped(params, scope)), 1):
                _check_page(page, number, seen)
                yield from page

    def active(self, statuses: set[int]) -> dict[int, dict[str, Any]] | None:
        query = '"' + " OR ".join(f"status:{s}" for s in sorted(statuses)) + '"'
        found: dict[int, dict[str, Any]] = {}
        for scope in self.scopes:
            seen: set[Any] = set()
            total = None
            for number in range(1, FILTER_MAX_PAGES + 1):
                try:
                    body = self.client.get("tickets/filter", self._scoped({"query": query, "page": number}, scope))
                except (NotFound, BadRequest) as error:
                    logger.info("the filter endpoint cannot list the active tickets (%s): a full listing instead",
                                error)
                    return None
                page, total = body.get("tickets"), body.get("total")
                if not isinstance(page, list) or type(total) is not int or total < 0:
                    raise FreshserviceError("GET tickets/filter: malformed response (no tickets list or total)")
                if total > FILTER_MAX_PAGES * FILTER_PAGE:
                    logger.info("%d active tickets: more than the filter endpoint pages to; a full listing instead",
                                total)
                    return None
                if not page and number == 1:
                    break
                _check_page(page, number, seen)
                found.update({t["id"]: t for t in page if isinstance(t, dict) and isinstance(t.get("id"), int)})
                if len(seen) >= total:
                    break
            if total is None or len(seen) != total:
                raise SourceError(f"the filter listed {len(seen)} active tickets but said there are {total}")
        return found

    def ticket(self, ticket_id: int) -> dict[str, Any] | None:
        try:
            body = self.client.get(f"tickets/{ticket_id}", {"include": "stats"})
        except NotFound:
            return None
        found = body.get("ticket")
        if not isinstance(found, dict) or found.get("id") != ticket_id:
            raise FreshserviceError(f"GET tickets/{ticket_id}: malformed response (not that ticket)")
        return found

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

    def requester(self, requester_id: int) -> str | None:
        try:
            body = self.client.get(f"requesters/{requester_id}")
        except NotFound:
            return None
        person = body.get("requester")
        return person_name(person) if isinstance(person, dict) else None
