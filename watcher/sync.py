"""One cycle of mirroring: fetch from a source, then change only what it is sure of.

A full reconcile (on start and every ``full_sync_minutes``) lists every
ticket; between reconciles an incremental cycle asks only for what changed
since the cursor, minus an overlap. Fetching finishes before anything is
written, so a failed cycle changes nothing. A ticket is archived only when
the source says it left the active set, or when a complete reconcile no
longer lists it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable

from ticketdash import names, timefmt
from ticketdash.config import WatcherSettings
from ticketdash.store import TicketStore, encode
from watcher.client import SourceError
from watcher.sources import Source

logger = logging.getLogger(__name__)

DONE_STATUSES = frozenset({4, 5})  # Resolved, Closed


@dataclass
class CycleResult:
    full: bool
    active: int
    written: int = 0
    archived: int = 0
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
        self.types = frozenset(settings.ticket_types)
        self.known: dict[int, bytes] = store.read_raw()
        self.requester_of: dict[int, int] = {}
        for ticket_id, data in self.known.items():
            self._note_requester(ticket_id, _loads(data))
        self.cursor: datetime | None = None
        self.last_full: datetime | None = None
        self.names_due: datetime | None = None
        self.no_such_requester: set[int] = set()

    def is_active(self, ticket: dict[str, Any]) -> bool:
        return (
            ticket.get("status") not in DONE_STATUSES
            and not ticket.get("deleted")
            and not ticket.get("spam")
            and ticket.get("type") in self.types
        )

    def cycle(self) -> CycleResult:
        """Run one cycle; raises SourceError (having changed nothing) when fetching fails."""
        start = self.clock()
        before = (self.source.usage.calls, self.source.usage.credits)
        full = self.cursor is None or self.last_full is None or (
            start - self.last_full >= timedelta(minutes=self.settings.full_sync_minutes)
        )
        overlap = timedelta(seconds=self.settings.overlap_seconds)
        fetched = _Fetched()
        if full:
            self._collect(fetched, self.source.tickets(None))
            # Pages can shift while a long sweep runs: whatever changed during it is read again.
            self._collect(fetched, self.source.tickets(start - overlap))
        else:
            assert self.cursor is not None
            self._collect(fetched, self.source.tickets(self.cursor - overlap))

        result = self._apply(fetched, full)
        if full:
            self.last_full = start
        if fetched.newest and (self.cursor is None or fetched.newest > self.cursor):
            self.cursor = fetched.newest
        elif self.cursor is None:
            self.cursor = start
        result.names_error = self._refresh_names(start)
        usage = self.source.usage
        result.calls, result.credits = usage.calls - before[0], usage.credits - before[1]
        return result

    def _collect(self, fetched: _Fetched, tickets: Iterable[dict[str, Any]]) -> None:
        for ticket in tickets:
            ticket_id = ticket.get("id")
            if not isinstance(ticket_id, int):
                raise SourceError(f"malformed ticket without an integer id: {str(ticket)[:80]}")
            updated = str(ticket.get("updated_at") or "")
            if fetched.updated.get(ticket_id, "") > updated:
                continue  # an older copy seen on a later page
            fetched.updated[ticket_id] = updated
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

    def _apply(self, fetched: _Fetched, full: bool) -> CycleResult:
        result = CycleResult(full=full, active=0)
        for ticket_id, ticket in fetched.active.items():
            data = encode(ticket)
            if self.known.get(ticket_id) != data:
                self.store.write_ticket(ticket_id, data)
                self.known[ticket_id] = data
                self._note_requester(ticket_id, ticket)
                result.written += 1
        leaving = {i: encode(t) for i, t in fetched.gone.items()}
        if full:  # a complete listing that no longer has a ticket: deleted, spam, moved away
            leaving.update({i: self.known[i] for i in self.known if i not in fetched.updated})
        today = self.clock().date()
        for ticket_id, data in leaving.items():
            self.store.archive(ticket_id, data, today)
            del self.known[ticket_id]
            self.requester_of.pop(ticket_id, None)
            result.archived += 1
        result.active = len(self.known)
        if result.written or result.archived:
            logger.info(
                "%s sync: %d active, %d written, %d archived",
                "full" if full else "incremental", result.active, result.written, result.archived,
            )
        return result

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
        budget = wanted[: self.settings.requester_lookups_per_cycle]
        added = False
        try:
            for requester_id in budget:
                found = self.source.requester(requester_id)
                if found is None:
                    self.no_such_requester.add(requester_id)
                else:
                    cached[requester_id] = found
                    added = True
        finally:
            if added:
                names.write_discovered(folder, "requesters", cached)
        if len(wanted) > len(budget):
            logger.info("%d requester names still to look up", len(wanted) - len(budget))

    def _note_requester(self, ticket_id: int, ticket: dict[str, Any]) -> None:
        requester_id = ticket.get("requester_id")
        if isinstance(requester_id, int):
            self.requester_of[ticket_id] = requester_id


def _loads(data: bytes) -> dict[str, Any]:
    try:
        ticket = json.loads(data)
    except ValueError:
        return {}
    return ticket if isinstance(ticket, dict) else {}
