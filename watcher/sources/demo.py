"""A simulated helpdesk, with no network, for the demo and for trying the wall out.

It plays a five-minute round, over and over: tickets arrive, get answered,
wait on customers, breach and close, and the API has an outage and then a
hang, so that the board walks through every state of the contract:
clear, attention, warning, critical, overdue, fr_overdue, error, stale.
Its subjects and names are what a manager would see on a real wall; hostile
text is the test suite's business, not the demo's.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterator, Sequence

from ticketdash import timefmt
from ticketdash.names import DEFAULT_STATUSES, Names
from watcher.transport import SourceError, Usage

ROUND = 300.0
OUTAGE = (170.0, 190.0)  # calls fail: the board shows "error"
HANG_AT = 200.0  # one call hangs this long: the board shows "stale"
HANG_SECONDS = 30.0

AGENTS = {1001: "Ada Lovelace", 1002: "Grace Hopper", 1003: "Linus Torvalds"}
REQUESTERS = {
    2001: "Carol from Accounts",
    2002: "Dave (Warehouse)",
    2003: "Erin Nakamura",
    2004: "Mallory Okafor",
    2005: "\u0633\u0627\u0631\u0627 \u0627\u0644\u0639\u0644\u064a",
}
GROUPS = {3001: "Service Desk", 3002: "Infrastructure"}
# Last week's work, resolved as the demo starts, so that its weekly summary has figures from the first
# minute: (id, subject, days since created, hours it took, hours late when resolved: 0 = in time).
HISTORY = [
    (91, "Monitor flickers after docking", 6, 5, 0),
    (92, "Shared mailbox for Facilities", 5, 30, 6),
    (93, "Reset MFA for a returning starter", 4, 2, 0),
    (94, "Teams calls drop in meeting room B", 3, 26, 3),
    (95, "Replace a swollen laptop battery", 2, 8, 0),
    (96, "Wi-Fi slow on the 2nd floor", 1, 20, 4),
]
STATUSES = {**DEFAULT_STATUSES, 6: "Waiting on Customer", 7: "Waiting on Third Party", 8: "On Hold"}


class DemoSource:
    name = "demo"
    label = "the demo helpdesk"
    done = frozenset({4, 5})
    usual_active = frozenset({2, 3})
    types = ("Incident", "Service Request")
    link = "/ticket/{id}"  # no helpdesk to link to: the dashboard's own ticket page
    checkpoint = None

    def __init__(self, clock: Callable[[], datetime] = timefmt.now, sleep: Callable[[float], None] = time.sleep) -> None:
        self.clock = clock
        self.sleep = sleep
        self.usage = Usage()
        self.start = clock()
        self.round = -1
        self.fired: set[float] = set()
        self.hung = False
        self.store: dict[int, dict[str, Any]] = {}

    # -- the Source interface --------------------------------------------

    def tickets(self, since: datetime | None) -> Iterator[dict[str, Any]]:
        self.usage.calls += 1
        self.usage.credits += 3
        at = self._advance()
        if OUTAGE[0] <= at < OUTAGE[1]:
            raise SourceError("demo: simulated helpdesk outage (503)")
        if at >= HANG_AT and not self.hung:
            self.hung = True
            for _ in range(int(HANG_SECONDS)):
                self.sleep(1.0)
        cut = timefmt.format(since) if since else ""
        return iter([dict(t) for t in self.store.values() if t["updated_at"] >= cut])

    def agents(self) -> Names:
        return dict(AGENTS)

    def groups(self) -> Names:
        return dict(GROUPS)

    def statuses(self) -> Names:
        return dict(STATUSES)

    def requester(self, requester_id: int) -> str | None:
        return REQUESTERS.get(requester_id)

    def requesters(self) -> Iterator[Names]:
        return iter(())

    def active(self, statuses: set[int], created: Sequence[date] = ()) -> dict[int, dict[str, Any]]:
        self.usage.calls += 1
        return {i: dict(t) for i, t in self.store.items() if t["status"] in statuses}

    def visible(self) -> int:
        return sum(1 for t in self.store.values() if t["status"] not in self.done)

    def owner(self) -> str | None:
        return None

    def ticket(self, ticket_id: int) -> dict[str, Any] | None:
        self.usage.calls += 1
        found = self.store.get(ticket_id)
        return dict(found) if found else None

    def set_deadline(self, deadline: float | None) -> None:
        pass

    def close(self) -> None:
        pass

    def commit(self) -> None:
        pass

    def hold(self, until: datetime) -> None:
        pass

    # -- the simulation --------------------------------------------------

    def _advance(self) -> float:
        now = self.clock()
        elapsed = (now - self.start).total_seconds()
        number, at = int(elapsed // ROUND), elapsed % ROUND
        if number != self.round:
            self._new_round(number, now)
        for when, event in self._events():
            if when <= at and when not in self.fired:
                self.fired.add(when)
                event(now)
        return at

    def _new_round(self, number: int, now: datetime) -> None:
        for ticket_id, ticket in self.store.items():
            if ticket_id >= 1000 and ticket["status"] not in (4, 5):
                self._set(ticket_id, now, status=5)
        self.round, self.fired, self.hung = number, set(), False
        day = timedelta(days=1)
        self._put(101, "Laptop fan is very loud", now, kind="Service Request", requester=2001, agent=1001,
                  due=now + 3 * day, responded=now - timedelta(hours=1), age=day)
        self._put(102, "Printer on the 3rd floor jams on every job", now, requester=2004,
                  agent=1002, status=3, due=now + 2 * day, responded=now - timedelta(hours=2), age=3 * day)
        self._put(103, "VPN drops every 10 minutes", now, requester=2003,
                  agent=1003, status=6, due=now + 4 * day, responded=now - timedelta(hours=5), age=2 * day)
        if number == 0:  # on track while they wait for the first sync; resolved in the round's first seconds
            for ticket_id, subject, days, _, _ in HISTORY:
                self._put(ticket_id, subject, now, requester=2001 + ticket_id % 4, agent=1001 + ticket_id % 3,
                          due=now + 3 * day, responded=now - timedelta(days=days) + timedelta(hours=1),
                          age=timedelta(days=days))
        self._put(104, "New starter on Monday: laptop, e-mail and building pass for \u0633\u0627\u0631\u0627 Haddad", now,
                  kind="Service Request", priority=1, requester=2005, agent=None, due=now + 5 * day,
                  responded=now - timedelta(minutes=30), age=timedelta(hours=3))

    def _events(self) -> list[tuple[float, Callable[[datetime], None]]]:
        base = 1000 + 10 * self.round
        s = timedelta(seconds=1)
        hours = timedelta(hours=1)
        return [
            (4.0, self._resolve_history),
            (15.0, lambda now: self._reply(102, now)),
            (35.0, lambda now: self._put(base + 1, "Outlook keeps asking for my password", now,
                                         requester=2002, agent=None, fr_due=now + 10 * hours, due=now + 30 * hours)),
            (55.0, lambda now: self._put(base + 2, "Shared drive is slow", now, priority=3, requester=2001,
                                         agent=1001, fr_due=now + 3 * hours, due=now + 20 * hours)),
            (75.0, lambda now: self._put(base + 3, "Install Visio for the planning team", now,
                                         kind="Service Request", requester=2003, agent=1002, due=now + 20 * s,
                                         responded=now - 2 * hours)),
            (110.0, lambda now: self._put(base + 4, "Website is down!", now, priority=4, requester=2002,
                                          agent=None, group=3002, fr_due=now + 15 * s, due=now + 4 * hours)),
            (235.0, lambda now: self._answer(base + 4, now)),  # FR overdue for almost two minutes
            (152.0, lambda now: self._set(base + 3, now, status=4)),
            (154.0, lambda now: self._answer(base + 2, now)),
            (240.0, lambda now: [self._set(base + k, now, status=4) for k in (1, 2, 4)]),
            (245.0, lambda now: self._answer(102, now, status=3)),
        ]

    def _put(self, ticket_id: int, subject: str, now: datetime, *, kind: str = "Incident", status: int = 2,
             priority: int = 2, requester: int, agent: int | None, group: int = 3001,
             fr_due: datetime | None = None, due: datetime, responded: datetime | None = None,
             age: timedelta = timedelta()) -> None:
        stamp = timefmt.format(now)
        self.store[ticket_id] = {
            "id": ticket_id, "subject": subject, "type": kind, "status": status, "priority": priority,
            "description_text": f"{subject}\n\nSent from the demo helpdesk.",
            "requester_id": requester, "responder_id": agent, "group_id": group, "workspace_id": 2,
            "source": 1, "deleted": False, "spam": False, "created_at": timefmt.format(now - age), "updated_at": stamp,
            "fr_due_by": timefmt.format(fr_due or now + timedelta(hours=1)), "due_by": timefmt.format(due),
            "fr_escalated": False, "is_escalated": False,
            "stats": {
                "first_responded_at": timefmt.format(responded) if responded else None,
                "agent_responded_at": timefmt.format(responded) if responded else None,
                "requester_responded_at": None, "resolved_at": None, "closed_at": None,
            },
        }

    def _set(self, ticket_id: int, now: datetime, **fields: Any) -> None:
        if ticket_id in self.store:
            ticket = self.store[ticket_id]
            ticket.update(fields, updated_at=timefmt.format(now))
            if ticket["status"] in self.done:  # resolved: the weekly summary counts it and its time
                ticket["stats"]["resolved_at"] = ticket["stats"]["resolved_at"] or timefmt.format(now)
                if ticket["status"] == 5:
                    ticket["stats"]["closed_at"] = timefmt.format(now)

    def _resolve_history(self, now: datetime) -> None:
        """Last week's tickets close, each when it really did: some in time, some late."""
        for ticket_id, _, days, took, late in HISTORY:
            ticket = self.store.get(ticket_id)
            if ticket is None or ticket["status"] in self.done:
                continue
            resolved = now - timedelta(days=days) + timedelta(hours=took)
            ticket["stats"]["resolved_at"] = timefmt.format(resolved)
            ticket["due_by"] = timefmt.format(resolved - timedelta(hours=late) if late else resolved + timedelta(hours=4))
            self._set(ticket_id, now, status=4)

    def _reply(self, ticket_id: int, now: datetime) -> None:
        """The customer writes back: the ticket waits on an agent again."""
        self.store[ticket_id]["stats"]["requester_responded_at"] = timefmt.format(now)
        self._set(ticket_id, now, status=2)

    def _answer(self, ticket_id: int, now: datetime, status: int = 2) -> None:
        stats = self.store[ticket_id]["stats"]
        stats["first_responded_at"] = stats["first_responded_at"] or timefmt.format(now)
        stats["agent_responded_at"] = timefmt.format(now)
        self._set(ticket_id, now, status=status)
