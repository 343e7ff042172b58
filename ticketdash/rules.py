"""SLA rules: the state of a ticket and of the board. Pure: no I/O, the time is an argument.

The dashboard and the light both decide with these functions, so the wall and
the desk can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from ticketdash import timefmt
from ticketdash.config import TICKET_STATES, RulesSettings

# Most severe first (the contract's order).
BOARD_STATES = ("error", "stale", "fr_overdue", "overdue", "critical", "warning", "attention", "clear")
SEVERITY = {state: rank for rank, state in enumerate(BOARD_STATES)}
SEVERITY_OF_TICKET = {state: rank for rank, state in enumerate(TICKET_STATES)}
PRIORITIES = {1: "low", 2: "medium", 3: "high", 4: "urgent"}


@dataclass(frozen=True)
class Policy:
    critical: timedelta
    warning: timedelta
    paused_statuses: frozenset[str]
    update_after: Mapping[int, timedelta]

    @classmethod
    def from_settings(cls, rules: RulesSettings) -> Policy:
        minutes = rules.update_minutes
        return cls(
            critical=timedelta(hours=rules.critical_hours),
            warning=timedelta(hours=rules.warning_hours),
            paused_statuses=frozenset(s.casefold() for s in rules.paused_statuses),
            update_after={p: timedelta(minutes=minutes[name]) for p, name in PRIORITIES.items() if name in minutes},
        )


DEFAULT_POLICY = Policy.from_settings(RulesSettings())


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules need of a ticket, parsed once when its file changes."""

    kind: str | None
    priority: int | None
    fr_due: datetime | None
    due: datetime | None
    first_responded: bool
    updated: datetime | None
    customer_replied: bool


@dataclass(frozen=True, slots=True)
class Verdict:
    state: str
    due_at: datetime | None  # the deadline that applies, if any
    first_response: bool  # that deadline is the first response
    customer_replied: bool


def customer_replied(stats: Mapping[str, Any]) -> bool:
    """The requester wrote after the last agent reply: the ticket waits on an agent."""
    requester = timefmt.parse(stats.get("requester_responded_at"))
    if requester is None:
        return False
    agent = timefmt.parse(stats.get("agent_responded_at"))
    return agent is None or requester > agent


def prepare(ticket: Mapping[str, Any]) -> Facts:
    stats = ticket.get("stats")
    stats = stats if isinstance(stats, Mapping) else {}
    priority = ticket.get("priority")
    return Facts(
        kind=ticket.get("type") if isinstance(ticket.get("type"), str) else None,
        priority=priority if isinstance(priority, int) else None,
        fr_due=timefmt.parse(ticket.get("fr_due_by")),
        due=timefmt.parse(ticket.get("due_by")),
        first_responded=bool(stats.get("first_responded_at")),
        updated=timefmt.parse(ticket.get("updated_at")),
        customer_replied=customer_replied(stats),
    )


def _deadline(facts: Facts) -> tuple[datetime | None, bool]:
    """The due time that applies: an Incident's first response until it has one, else resolution."""
    if facts.kind == "Incident" and not facts.first_responded and facts.fr_due is not None:
        return facts.fr_due, True
    return facts.due, False


def verdict(facts: Facts, status_name: str, now: datetime, policy: Policy = DEFAULT_POLICY) -> Verdict:
    """Decide one ticket's state at *now*."""
    replied = facts.customer_replied
    if status_name.casefold() in policy.paused_statuses:
        return Verdict("paused", None, False, replied)
    due, first = _deadline(facts)
    if due is not None:
        left = due - now
        if left <= timedelta(0):
            return Verdict("fr_overdue" if first else "overdue", due, first, replied)
        if left < policy.critical:
            return Verdict("critical", due, first, replied)
        if left < policy.warning:
            return Verdict("warning", due, first, replied)
    limit = policy.update_after.get(facts.priority)  # type: ignore[arg-type]
    untouched = facts.updated is not None and limit is not None and now - facts.updated > limit
    return Verdict("attention" if replied or untouched else "ok", due, first, replied)


def ticket_verdict(ticket: Mapping[str, Any], status_name: str, now: datetime, policy: Policy = DEFAULT_POLICY) -> Verdict:
    return verdict(prepare(ticket), status_name, now, policy)


def next_change(facts: Facts, status_name: str, now: datetime, policy: Policy = DEFAULT_POLICY) -> datetime | None:
    """The next moment this ticket's state can change by time alone (None: never)."""
    if status_name.casefold() in policy.paused_statuses:
        return None
    due, _ = _deadline(facts)
    if due is not None and due <= now:
        return None  # overdue stays overdue
    moments = []
    if due is not None:
        moments += [due - policy.warning, due - policy.critical, due]
    limit = policy.update_after.get(facts.priority)  # type: ignore[arg-type]
    if facts.updated is not None and limit is not None:
        moments.append(facts.updated + limit)
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
    if age > stale_after:
        minutes, seconds = divmod(int(age), 60)
        return "stale", f"the data is {minutes} min {seconds} s old", None
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
