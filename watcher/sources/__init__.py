"""Where tickets come from. A source answers five questions; the sync engine does the rest.

One module per helpdesk product speaks its API and hands the engine ticket
objects in the contract's file shape (Freshservice's: ``id``, ``status``,
``type``, ``updated_at``, ``due_by``, ``fr_due_by``, ``stats`` ...), so that
nothing outside the module knows its product. ``docs/sources.md`` tells how
to write one.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterator, Protocol, Sequence

from ticketdash.names import Names
from watcher.client import ApiClient
from watcher.transport import ApiError, SourceError, Usage

logger = logging.getLogger(__name__)

# Any date before the account existed: always sending updated_since lifts the
# list endpoints' hidden "created in the last 30 days" restriction.
BEGINNING = "2000-01-01T00:00:00Z"
FIRST_DAY = date(2000, 1, 1)
PLANNED_SHARE = 70  # percent of a capped search's results a planned slice is given, leaving room for the unknown


class Source(Protocol):
    name: str  # what the heartbeat and the logs call it: "freshservice", "freshdesk", "zendesk", "demo"
    label: str  # how a message names the helpdesk: "Freshservice"
    usage: Usage
    done: frozenset[int]  # status ids of tickets that left the active set
    usual_active: frozenset[int]  # status ids that are active in every account
    types: tuple[str, ...] | None  # the ticket types mirrored unless [watcher] ticket_types says; None: all
    link: str  # a ticket's page for agents, with "{id}" in it

    def tickets(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        """Every ticket updated since *since* (all of them for None), in every scope.
        SourceError when the listing is not coherent (a page repeats, an empty page follows)."""

    def active(self, statuses: set[int], created: Sequence[date] = ()) -> dict[int, dict[str, Any]] | None:
        """Every ticket in *statuses*, by id (content may lack ``stats``): the active set, at the cost
        of the active tickets only. None when the source cannot list it (a full listing instead).
        *created*: the known tickets' creation days, sorted, to plan the slices of a capped search."""

    def ticket(self, ticket_id: int) -> dict[str, Any] | None:
        """One ticket with its stats, now; None when it no longer exists (deleted)."""

    def set_deadline(self, deadline: float | None) -> None:
        """No call may start after *deadline* (time.monotonic), nor run past it."""

    def agents(self) -> Names: ...

    def groups(self) -> Names: ...

    def statuses(self) -> Names: ...

    def requester(self, requester_id: int) -> str | None:
        """The name of one requester, None if the helpdesk does not know it."""

    def requesters(self) -> Iterator[Names]:
        """Every requester the helpdesk lists, a page (one call) at a time; nothing when it cannot."""

    def visible(self) -> int:
        """How many active tickets the key can see, from one search per scope (``watcher --check``)."""

    def owner(self) -> str | None:
        """Whose key this is, when the helpdesk says (``watcher --check``); None when it does not."""

    def close(self) -> None: ...

    checkpoint: str | None  # where an incremental export stopped, kept in the heartbeat across restarts

    def commit(self) -> None:
        """The cycle succeeded: what it listed may move the checkpoint on."""

    def hold(self, until: datetime) -> None:
        """No call before *until*: a 429 said so before a restart."""


class ClientSource:
    """What every source over an :class:`ApiClient` shares: its usage, deadline and shutdown."""

    checkpoint: str | None = None

    def __init__(self, client: ApiClient, link: str) -> None:
        self.client = client
        self.link = link

    @property
    def usage(self) -> Usage:
        return self.client.usage

    def set_deadline(self, deadline: float | None) -> None:
        self.client.deadline = deadline

    def commit(self) -> None:
        pass

    def hold(self, until: datetime) -> None:
        self.client.hold(until)

    def close(self) -> None:
        self.client.close()

    def requesters(self) -> Iterator[Names]:
        return iter(())


def total_of(body: dict[str, Any], key: str, path: str) -> int:
    """The match count a search answer carries under *key*."""
    total = body.get(key)
    if type(total) is not int or total < 0:
        raise ApiError(f"GET {path}: malformed response (no {key})")
    return total


def that_ticket(found: Any, ticket_id: int, path: str) -> dict[str, Any]:
    """The object a helpdesk answered for one ticket, when it is that ticket; ApiError otherwise."""
    if not isinstance(found, dict) or found.get("id") != ticket_id:
        raise ApiError(f"GET {path}: malformed response (not that ticket)")
    return found


def check_page(page: list[Any], number: int, seen: set[Any]) -> None:
    """A listing is believed only when coherent: every page after the first adds new tickets."""
    ids = {_key(t.get("id") if isinstance(t, dict) else t) for t in page}
    if number > 1 and not ids - seen:
        what = "is empty" if not page else "repeats tickets already listed"
        raise SourceError(f"the ticket listing is not coherent: page {number} {what}")
    seen |= ids


def counted(fetch: Callable[[int], dict[str, Any]], key: str, cap: int, max_pages: int,
            what: str) -> dict[int, dict[str, Any]] | None:
    """Every ticket of a query paged by number that tells its ``total``, by id; None when the total
    is more than the query pages to (*cap* results). SourceError when the pages do not add up."""
    found: dict[int, dict[str, Any]] = {}
    seen: set[Any] = set()
    total: Any = None
    for number in range(1, max_pages + 1):
        body = fetch(number)
        page, total = body.get(key), body.get("total")
        if not isinstance(page, list) or type(total) is not int or total < 0:
            raise ApiError(f"GET {what}: malformed response (no {key} list or total)")
        if total > cap:
            logger.info("%d active tickets: more than one %s query pages to", total, what)
            return None
        if not page and number == 1:
            break
        check_page(page, number, seen)
        found.update({t["id"]: t for t in page if isinstance(t, dict) and type(t.get("id")) is int})
        if len(seen) >= total:
            break
    if len(seen) != total:
        raise SourceError(f"the {what} listed {len(seen)} active tickets but said there are {total}")
    return found


def _planned(created: Sequence[date], per_slice: int, first: date, last: date) -> list[tuple[date, date]]:
    """Slices of [first, last] holding about *per_slice* of the *created* days each, latest first in
    the list (they are popped from its end, oldest first)."""
    if per_slice <= 0 or len(created) <= per_slice:
        return [(first, last)]
    cuts = sorted({created[i] for i in range(per_slice, len(created), per_slice)} - {first})
    starts = [first, *[c for c in cuts if first < c <= last]]
    slices = [(start, (following - timedelta(days=1))) for start, following in zip(starts, starts[1:])]
    slices.append((starts[-1], last))
    return list(reversed(slices))


def _key(value: Any) -> Any:
    return value if isinstance(value, (int, str)) else repr(value)[:80]


def person_name(person: dict[str, Any]) -> str:
    name = " ".join(str(person.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    name = name or str(person.get("name") or "").strip()
    return name or str(person.get("email") or person.get("primary_email") or person.get("id"))


def dated(terms: str, since: date | None, until: date | None) -> str:
    """A Freshworks query for *terms* created within [since, until]. Each day is widened by one: whether
    ``:>`` includes the day or not, the slice is covered (overlaps are de-duplicated by id)."""
    query = f"({terms})" if since or until else terms
    if since:
        query += f" AND created_at:>'{since - timedelta(days=1)}'"
    if until:
        query += f" AND created_at:<'{until + timedelta(days=1)}'"
    return query


Search = Callable[[date | None, date | None], dict[int, dict[str, Any]] | None]


def sliced(search: Search, first: date = FIRST_DAY, last: date | None = None, *, created: Sequence[date] = (),
           per_slice: int = 0) -> dict[int, dict[str, Any]] | None:
    """Every ticket a capped search finds, slicing the creation dates until no slice passes the cap.

    *search(since, until)* answers one slice (both days included; None: open-ended), or
    None when the slice holds more than the search can page to. A single day that is
    still too big cannot be sliced further: None, and the caller lists everything instead.
    *created*, the creation days of the tickets already known (sorted), plans the slices at
    about *per_slice* known tickets each, so that a large active set costs its pages and
    hardly a probe more; what they do not foresee is halved as it turns up.
    """
    last = last or date.today() + timedelta(days=1)
    todo = _planned(created, per_slice, first, last)
    if len(todo) == 1:
        found = search(None, None)
        if found is not None:
            return found
    result: dict[int, dict[str, Any]] = {}
    while todo:
        since, until = todo.pop()
        part = search(since, until)
        if part is not None:
            result.update(part)
        elif since >= until:
            return None
        else:
            middle = since + (until - since) // 2
            todo += [(middle + timedelta(days=1), until), (since, middle)]
    return result
