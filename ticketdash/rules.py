"""SLA rules: the state of a ticket and of the board. Pure: no I/O, the time is an argument.

The dashboard and the light both decide with these functions, so the wall and
the desk can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from ticketdash import timefmt
from ticketdash.settings import GuiSettings, RulesSettings
from ticketdash.statuses import StatusTable
from ticketdash.ticket import Ticket, from_record
from ticketdash.states import SEVERITY
PRIORITIES = {1: "low", 2: "medium", 3: "high", 4: "urgent"}


@dataclass(frozen=True)
class Policy:
    critical: timedelta
    warning: timedelta
    statuses: StatusTable
    update_after: Mapping[int, timedelta]
    no_first_response: frozenset[str] = frozenset({"service request"})  # ticket types without that target

    @classmethod
    def from_settings(cls, rules: RulesSettings, gui: GuiSettings | None = None) -> Policy:
        minutes = rules.update_minutes
        gui = gui or GuiSettings()
        return cls(
            critical=timedelta(hours=rules.critical_hours),
            warning=timedelta(hours=rules.warning_hours),
            statuses=StatusTable.of(rules.paused_statuses, gui.waiting_on_agent_statuses, gui.other_statuses),
            update_after={p: timedelta(minutes=minutes[name]) for p, name in PRIORITIES.items() if name in minutes},
            no_first_response=frozenset(t.casefold() for t in rules.no_first_response_types),
        )

    def paused(self, status_name: str) -> bool:
        return self.statuses.kind(status_name) == "paused"

    def first_response_applies(self, ticket: Ticket) -> bool:
        """A first-response target counts until the first response, unless the ticket's type has none."""
        return (ticket.first_response_due is not None and ticket.first_responded_at is None
                and (ticket.type or "").casefold() not in self.no_first_response)


DEFAULT_POLICY = Policy.from_settings(RulesSettings())


@dataclass(frozen=True, slots=True)
class Verdict:
    state: str
    due_at: datetime | None  # the deadline that applies, if any
    first_response: bool  # that deadline is the first response
    customer_replied: bool


def _deadline(ticket: Ticket, policy: Policy) -> tuple[datetime | None, bool]:
    """The due time that applies: the first response until there is one, else resolution."""
    if policy.first_response_applies(ticket):
        return ticket.first_response_due, True
    return ticket.due, False


def verdict(ticket: Ticket, status_name: str, now: datetime, policy: Policy = DEFAULT_POLICY) -> Verdict:
    """Decide one ticket's state at *now*."""
    replied = ticket.customer_replied
    if policy.paused(status_name):
        return Verdict("paused", None, False, replied)
    due, first = _deadline(ticket, policy)
    if due is not None:
        left = due - now
        if left <= timedelta(0):
            return Verdict("fr_overdue" if first else "overdue", due, first, replied)
        if left < policy.critical:
            return Verdict("critical", due, first, replied)
        if left < policy.warning:
            return Verdict("warning", due, first, replied)
    limit = policy.update_after.get(ticket.priority)  # type: ignore[arg-type]
    untouched = ticket.updated_at is not None and limit is not None and now - ticket.updated_at > limit
    return Verdict("attention" if replied or untouched else "ok", due, first, replied)


def ticket_verdict(record: Mapping[str, Any], status_name: str, now: datetime, policy: Policy = DEFAULT_POLICY) -> Verdict:
    """The state of a ticket given in the file's shape (tests and tools)."""
    return verdict(from_record(record), status_name, now, policy)


def next_change(ticket: Ticket, status_name: str, now: datetime, policy: Policy = DEFAULT_POLICY) -> datetime | None:
    """The next moment this ticket's state can change by time alone (None: never)."""
    if policy.paused(status_name):
        return None
    due, _ = _deadline(ticket, policy)
    if due is not None and due <= now:
        return None  # overdue stays overdue
    moments = []
    if due is not None:
        moments += [due - policy.warning, due - policy.critical, due]
    limit = policy.update_after.get(ticket.priority)  # type: ignore[arg-type]
    if ticket.updated_at is not None and limit is not None:
        moments.append(ticket.updated_at + limit)
    future = [m for m in moments if m > now]
    return min(future) if future else None


CLOCK_SKEW = timedelta(seconds=60)  # a heartbeat further in the future than this: the clock looks wrong


def data_health(heartbeat: Mapping[str, Any] | None, now: datetime,
                stale_after: float) -> tuple[str, str, datetime | None]:
    """("ok" | "stale" | "error", why, when that can change by time alone) for the watcher's heartbeat."""
    if heartbeat is None:
        return "stale", "no data from the watcher yet", None
    error = heartbeat.get("last_error")
    if error:
        return "error", f"last sync failed: {error if isinstance(error, str) else repr(error)[:300]}", None
    success = timefmt.parse(heartbeat.get("last_success_at"))
    if success is None:
        return "stale", "the watcher has not synced yet", None
    if success - now > CLOCK_SKEW:
        return ("stale", f"the data is dated {timefmt.format(success)}, in the future: the clock looks wrong",
                success - CLOCK_SKEW)
    age = (now - success).total_seconds()
    if age > stale_after:  # no age in the words: they are kept while they hold, and readers count the age live
        limit = f"{stale_after / 60:g} min" if stale_after >= 120 else f"{stale_after:g} s"
        return "stale", f"no good sync for more than {limit}", None
    return "ok", "", success + timedelta(seconds=stale_after)


def board_state(ticket_states: Iterable[str], health: str) -> str:
    """The worst of the data's health and every ticket; never ``clear`` on doubtful data."""
    if health == "error":
        return "error"
    if health != "ok":
        return "stale"
    worst = "clear"
    for state in ticket_states:
        board = "clear" if state in ("ok", "paused") else state
        if SEVERITY[board] < SEVERITY[worst]:
            worst = board
    return worst
