"""One cycle of mirroring: fetch from a source, then change only what it is sure of.

Each cycle asks for what changed since the cursor, minus an overlap. A
reconcile (on start and every ``full_sync_minutes``) also asks for the
active set (the filter endpoint: it costs the active tickets, not the
account's history), or, where the source cannot list that, for every ticket.

A ticket leaves ``tickets/`` only on evidence that it left the active set:
the source shows it resolved, closed, spam, deleted or of another type, or
``GET /tickets/<id>`` answers 404. A ticket that a listing merely left out is
confirmed that way, one by one; never archived in bulk. A ticket that cannot
be mirrored safely is skipped, named in the heartbeat, and never stops the rest.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ticketdash import names, timefmt
from ticketdash.names import Names
from ticketdash.settings import WatcherSettings
from ticketdash.store import MAX_TICKET_BYTES, TicketStore, encode, is_id, problem
from watcher.transport import SourceError
from watcher.sources import Source

logger = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(seconds=60)  # how far past the server's clock the cursor may go
MAX_DEPTH = 32  # nesting deeper than this in a ticket is not something a wall needs
BULK_NAMES = 100  # more requesters than this to name: read the helpdesk's list of requesters first
BULK_HITS = 10  # ... for as long as each page (100 people) names at least this many of them


@dataclass
class CycleResult:
    full: bool
    active: int
    written: int = 0
    archived: int = 0
    confirmed: int = 0
    calls: int = 0
    credits: int = 0
    names_error: str | None = None


@dataclass
class _Fetched:
    """A sweep's findings, de-duplicated by id, the newest ``updated_at`` winning."""

    active: dict[int, dict[str, Any]] = field(default_factory=dict)
    gone: dict[int, dict[str, Any]] = field(default_factory=dict)
    updated: dict[int, str] = field(default_factory=dict)
    newest: datetime | None = None


class Syncer:
    def __init__(
        self,
        source: Source,
        store: TicketStore,
        settings: WatcherSettings,
        person_names: Path,
        clock: Callable[[], datetime] = timefmt.now,
    ) -> None:
        self.source = source
        self.store = store
        self.settings = settings
        self.person_names = person_names  # folder of the person-edited name files
        self.clock = clock
        types = settings.ticket_types or source.types
        self.types = None if types is None else frozenset(t.casefold() for t in types)
        self.known: dict[int, bytes] = store.read_raw()
        self.requester_of: dict[int, int] = {}
        self.status_of: dict[int, int] = {}
        self.created_of: dict[int, date] = {}  # plans the slices of the active set's capped query
        for ticket_id, data in self.known.items():
            self._note(ticket_id, _loads(data))
        self.cursor: datetime | None = None
        self.last_full: datetime | None = None
        self.names_due: datetime | None = None
        self.no_such_requester: set[int] = set()
        self.requester_pages: Iterator[Names] | None = None  # the helpdesk's requester list, while it pays
        self.unconfirmed: set[int] = set()  # known tickets a listing left out, still to confirm
        self.skipped: dict[Any, str] = {}  # tickets that cannot be mirrored safely, and why
        self.told_future: set[int] = set()

    def is_active(self, ticket: dict[str, Any]) -> bool:
        kind = ticket.get("type")
        return (
            ticket.get("status") not in self.source.done
            and not ticket.get("deleted")
            and not ticket.get("spam")
            and (self.types is None or (isinstance(kind, str) and kind.casefold() in self.types))
        )

    def cycle(self) -> CycleResult:
        """Run one cycle; raises SourceError (having changed nothing) when fetching fails."""
        start = self.clock()
        before = (self.source.usage.calls, self.source.usage.credits)
        full = self.cursor is None or self.last_full is None or (
            start - self.last_full >= timedelta(minutes=self.settings.full_sync_minutes)
        )
        fetched = _Fetched()
        members: dict[int, dict[str, Any]] | None = None
        if self.cursor is None:  # nothing to go by: every ticket, once
            self._collect(fetched, self.source.tickets(None))
        else:
            since = self.cursor - timedelta(seconds=self.settings.overlap_seconds)
            self._collect(fetched, self.source.tickets(since))
            if full:
                members = self.source.active(self._active_statuses(), sorted(self.created_of.values()))
                if members is None:  # the source cannot list its active set: every ticket instead
                    self._collect(fetched, self.source.tickets(None))
        listed: set[int] | None = None
        if full:
            listed = set(fetched.updated) | set(members or {}) | {i for i in self.skipped if isinstance(i, int)}
        result = self._apply(fetched, full)
        left_out: set[int] = set()
        if listed is not None:
            left_out = set(self.known) - listed
            self._suspect(left_out)
        unknown = [i for i, t in (members or {}).items() if i not in self.known and self.is_active(t)]
        alive = self._confirm(result, unknown) & left_out
        result.active = len(self.known)
        if full:
            self.last_full = start
        self._advance_cursor(fetched, start)
        result.names_error = self._refresh_names(start)
        usage = self.source.usage
        result.calls, result.credits = usage.calls - before[0], usage.credits - before[1]
        if result.written or result.archived:
            logger.info(
                "%s sync: %d active, %d written, %d archived",
                "full" if full else "incremental", result.active, result.written, result.archived,
            )
        if alive and len(left_out) > self._confirm_budget():
            # Every ticket stays (the ones asked about are alive); but the helpdesk answered nonsense.
            shown = ", ".join(map(str, sorted(alive)[:5]))
            raise SourceError(f"the active-set listing is not coherent: it left out {len(left_out)} of "
                              f"{len(self.known)} known tickets, and those asked about are still active "
                              f"({shown}); every ticket was kept")
        return result

    def _active_statuses(self) -> set[int]:
        """Every status a ticket can be active in: the account's, and any seen on a known ticket."""
        statuses = set(names.read_file(self.store.names_dir / "statuses.txt")) | set(self.status_of.values())
        return (statuses | self.source.usual_active) - self.source.done

    def _collect(self, fetched: _Fetched, tickets: Iterable[dict[str, Any]]) -> None:
        for ticket in tickets:
            why = _unsafe(ticket)
            if why is not None:
                self._skip(ticket, why)
                continue
            ticket_id = ticket["id"]
            updated = ticket.get("updated_at") or ""
            if fetched.updated.get(ticket_id, "") > updated:
                continue  # an older copy seen on a later page
            fetched.updated[ticket_id] = updated
            self.skipped.pop(ticket_id, None)
            moment = timefmt.parse(updated)
            if moment and (fetched.newest is None or moment > fetched.newest):
                fetched.newest = moment
            if self.is_active(ticket):
                fetched.active[ticket_id] = ticket
                fetched.gone.pop(ticket_id, None)
            else:
                fetched.active.pop(ticket_id, None)
                if ticket_id in self.known:  # only a ticket on disk needs its leaving content
                    fetched.gone[ticket_id] = ticket

    def _skip(self, ticket: Any, why: str) -> None:
        raw_id = ticket.get("id") if isinstance(ticket, dict) else None
        key = raw_id if is_id(raw_id) else f"id {str(raw_id)[:40]!r}"
        if self.skipped.get(key) != why:
            logger.warning("ticket %s skipped: %s", key, why)
        self.skipped[key] = why

    def _apply(self, fetched: _Fetched, full: bool) -> CycleResult:
        result = CycleResult(full=full, active=0)
        for ticket_id, ticket in fetched.active.items():
            self._keep(result, ticket_id, ticket)
        for ticket_id, ticket in fetched.gone.items():
            self._archive(result, ticket_id, encode(ticket))
        return result

    def _keep(self, result: CycleResult, ticket_id: int, ticket: dict[str, Any]) -> None:
        data = encode(ticket)
        self.unconfirmed.discard(ticket_id)
        if self.known.get(ticket_id) != data:
            self.store.write_ticket(ticket_id, data)
            self.known[ticket_id] = data
            self._note(ticket_id, ticket)
            result.written += 1

    def _archive(self, result: CycleResult, ticket_id: int, data: bytes) -> None:
        self.store.archive(ticket_id, data, self.clock().date())
        self.known.pop(ticket_id, None)
        self.requester_of.pop(ticket_id, None)
        self.status_of.pop(ticket_id, None)
        self.created_of.pop(ticket_id, None)
        self.unconfirmed.discard(ticket_id)
        self.skipped.pop(ticket_id, None)
        result.archived += 1

    def _suspect(self, missing: set[int]) -> None:
        """Known tickets a reconcile did not list: each must be confirmed before it may leave."""
        if len(missing) > self._confirm_budget():
            logger.warning("the listing left out %d of %d known tickets: confirming each one (%d per cycle) "
                           "before any leaves the wall", len(missing), len(self.known), self._confirm_budget())
        self.unconfirmed |= missing

    def _confirm_budget(self) -> int:
        return max(5, math.ceil(self.settings.max_archive_share * len(self.known)))

    def _confirm(self, result: CycleResult, unknown: list[int]) -> set[int]:
        """Ask the helpdesk about each ticket in doubt, within this cycle's budget of calls; which are alive."""
        budget = self._confirm_budget()
        alive: set[int] = set()
        for ticket_id in sorted(self.unconfirmed)[:budget] + sorted(unknown)[:budget]:
            try:
                ticket = self.source.ticket(ticket_id)
            except SourceError as error:
                logger.warning("confirming ticket %d failed (%s); trying again next cycle", ticket_id, error)
                return alive
            result.confirmed += 1
            if self._settle(result, ticket_id, ticket):
                alive.add(ticket_id)
        return alive

    def refresh(self, ticket_ids: list[int]) -> tuple[CycleResult, list[int]]:
        """Fetch the tickets a push named, one call each, and mirror what the helpdesk says of them now;
        the ids not reached (the call failed: they wait for the next push or poll)."""
        result = CycleResult(full=False, active=0)
        for number, ticket_id in enumerate(ticket_ids):
            try:
                ticket = self.source.ticket(ticket_id)
            except SourceError as error:
                logger.warning("fetching pushed ticket %d failed (%s); it waits", ticket_id, error)
                return result, ticket_ids[number:]
            result.confirmed += 1
            self._settle(result, ticket_id, ticket)
        result.active = len(self.known)
        return result, []

    def _settle(self, result: CycleResult, ticket_id: int, ticket: dict[str, Any] | None) -> bool:
        """Mirror one ticket as the helpdesk answered for it alone (None: 404); whether it is active."""
        why = _unsafe(ticket) if ticket is not None else None
        if why is not None:
            self._skip(ticket, why)
            self.unconfirmed.discard(ticket_id)
        elif ticket is not None and self.is_active(ticket):
            self._keep(result, ticket_id, ticket)
            return True
        elif ticket_id in self.known:  # deleted (404), resolved, closed, spam, moved: it left, on evidence
            self._archive(result, ticket_id, encode(ticket) if ticket is not None else self.known[ticket_id])
        return False

    def _advance_cursor(self, fetched: _Fetched, start: datetime) -> None:
        """The newest ``updated_at`` seen, but never past the server's clock: a ticket dated in
        the future must not make every later cycle ask for changes after it."""
        ceiling = (self.source.usage.server_time or start) + CLOCK_SKEW
        newest = fetched.newest
        if newest is not None and newest > ceiling:
            for ticket_id, updated in fetched.updated.items():
                moment = timefmt.parse(updated)
                if moment and moment > ceiling and ticket_id not in self.told_future:
                    self.told_future.add(ticket_id)
                    logger.warning("ticket %d is dated %s, in the future; the cursor stays at the server's clock",
                                   ticket_id, updated)
            newest = ceiling
        if newest and (self.cursor is None or newest > self.cursor):
            self.cursor = newest
        elif self.cursor is None:
            self.cursor = min(start, ceiling)

    def skipped_list(self) -> list[dict[str, Any]]:
        """The heartbeat's ``skipped``: each ticket that cannot be shown, and why."""
        return [{"id": key if isinstance(key, int) else None, "reason": why if isinstance(key, int) else f"{key}: {why}"}
                for key, why in sorted(self.skipped.items(), key=lambda kv: str(kv[0]))][:200]

    def _refresh_names(self, now: datetime) -> str | None:
        """Agents, statuses and groups on a schedule; new requesters a few per cycle."""
        folder = self.store.names_dir
        try:
            if self.names_due is None or now >= self.names_due:
                names.write_discovered(folder, "agents", self.source.agents())
                names.write_discovered(folder, "statuses", self.source.statuses())
                names.write_discovered(folder, "groups", self.source.groups())
                self.names_due = now + timedelta(minutes=self.settings.names_refresh_minutes)
            self._look_up_requesters(folder)
        except SourceError as error:
            logger.warning("names not refreshed: %s", error)
            return str(error)
        return None

    def _look_up_requesters(self, folder: Path) -> None:
        cached = names.read_file(folder / "requesters.txt")
        known = set(cached) | set(names.read_file(self.person_names / "requesters.txt")) | self.no_such_requester
        known |= set(names.read_file(folder / "agents.txt"))
        wanted = sorted(set(self.requester_of.values()) - known)
        # The setting, or whatever the tickets left of this minute's calls (keeping two for the next cycle).
        calls = max(self.settings.requester_lookups_per_cycle, self.source.usage.spare - 2)
        before = dict(cached)
        try:
            calls = self._list_requesters(wanted, cached, calls)
            wanted = [i for i in wanted if i not in cached]
            budget = wanted[: max(0, calls)]
            for requester_id in budget:
                found = self.source.requester(requester_id)
                if found is None:
                    self.no_such_requester.add(requester_id)
                else:
                    cached[requester_id] = found
        finally:
            if cached != before:  # what was found stays found, even when a call then failed
                names.write_discovered(folder, "requesters", cached)
        if len(wanted) > len(budget):
            logger.info("%d requester names still to look up", len(wanted) - len(budget))

    def _list_requesters(self, wanted: list[int], cached: Names, calls: int) -> int:
        """Many to name at once (a first sync): the helpdesk's list of requesters names 100 a call, for as
        long as its pages keep naming ours (across cycles); a directory far larger than the helpdesk stops
        after a page, and the rest are looked up one by one. The calls left."""
        if self.requester_pages is None and len(wanted) > BULK_NAMES:
            self.requester_pages = self.source.requesters()
        if self.requester_pages is None or not wanted:
            return calls
        looking = set(wanted)
        for page in self.requester_pages:  # resumes where the last cycle stopped
            calls -= 1
            hits = {i: name for i, name in page.items() if i in looking}
            cached.update(hits)
            if len(hits) < BULK_HITS:
                self.requester_pages = iter(())
                break
            if calls <= 0:
                break
        return calls

    def _note(self, ticket_id: int, ticket: dict[str, Any]) -> None:
        requester_id, status = ticket.get("requester_id"), ticket.get("status")
        if type(requester_id) is int:
            self.requester_of[ticket_id] = requester_id
        if type(status) is int:
            self.status_of[ticket_id] = status
        created = timefmt.parse(ticket.get("created_at"))
        if created is not None:
            self.created_of[ticket_id] = created.date()


def _unsafe(ticket: Any) -> str | None:
    """Why *ticket* cannot be mirrored safely, or None."""
    if isinstance(ticket, dict) and "_unparsed" in ticket:
        return str(ticket["_unparsed"])
    why = problem(ticket)
    if why is not None:
        return why
    if _depth(ticket) > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    try:
        size = len(encode(ticket))
    except UnicodeEncodeError:
        return "text that cannot be encoded (a lone surrogate)"
    except (ValueError, RecursionError) as error:
        return f"cannot be encoded: {type(error).__name__}"
    if size > MAX_TICKET_BYTES:
        return f"larger than {MAX_TICKET_BYTES} bytes"
    return None


def _depth(value: Any) -> int:
    """How deeply *value* nests, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _loads(data: bytes) -> dict[str, Any]:
    try:
        ticket = json.loads(data)
    except (ValueError, RecursionError):
        return {}
    return ticket if isinstance(ticket, dict) else {}
