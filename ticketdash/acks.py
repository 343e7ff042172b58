"""Acknowledgements ("on it"): the snapshot the dashboard writes and every reader judges with.

The dashboard owns the acks (its database, beside the tickets folder, never
in it) and after each change writes the current ones to one JSON file,
atomically. The board verdict reads that file like the other daemons'
status files, so the wall, the light, the alerts and ``/metrics`` agree on
who is on what. An ack calms the noise, never the truth: it never changes a
ticket's state or place, and it ends at its time, or when the ticket gets
more severe than it was when acknowledged.

A snapshot that cannot be read means no acks: the noise comes back, the
truth was never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from ticketdash import timefmt
from ticketdash.states import SEVERITY_OF_TICKET
from ticketdash.store import is_id
from ticketdash.text import one_line

VERSION = 1
MAX_ACKS = 10_000
ACKABLE = frozenset({"fr_overdue", "overdue", "critical", "warning", "attention"})


@dataclass(frozen=True)
class Ack:
    helpdesk: str
    ticket: int
    by: str
    at: datetime
    until: datetime
    state: str  # the ticket's state when acknowledged: a more severe one ends the ack
    note: str = ""

    @property
    def ref(self) -> tuple[str, int]:
        return self.helpdesk, self.ticket

    def holds(self, state: str, now: datetime) -> bool:
        """Whether this ack still calms a ticket now in *state*."""
        return (self.at <= now < self.until and state in SEVERITY_OF_TICKET
                and SEVERITY_OF_TICKET[state] >= SEVERITY_OF_TICKET[self.state])

    def shown(self) -> dict[str, Any]:
        """What a board row carries (the contract's ``ack``)."""
        return {"by": self.by, "at": timefmt.format(self.at), "until": timefmt.format(self.until),
                "note": self.note or None}

    def as_dict(self) -> dict[str, Any]:
        return {"helpdesk": self.helpdesk, "ticket": self.ticket, "by": self.by, "at": timefmt.format(self.at),
                "until": timefmt.format(self.until), "state": self.state, "note": self.note}


def snapshot(acks: list[Ack], now: datetime) -> dict[str, Any]:
    """The file's content: the acks that are still running."""
    return {"version": VERSION, "written_at": timefmt.format(now),
            "acks": [a.as_dict() for a in acks if a.until > now][:MAX_ACKS]}


def parse(content: Mapping[str, Any] | None) -> dict[tuple[str, int], Ack]:
    """The acks of a snapshot, by (helpdesk, ticket); what is malformed is left out."""
    found: dict[tuple[str, int], Ack] = {}
    items = content.get("acks") if isinstance(content, Mapping) else None
    if not isinstance(items, list):
        return found
    for item in items[:MAX_ACKS]:
        ack = _ack(item)
        if ack is not None:
            found[ack.ref] = ack
    return found


def _ack(item: Any) -> Ack | None:
    if not isinstance(item, dict) or not is_id(item.get("ticket")):
        return None
    helpdesk, by, state, note = item.get("helpdesk", ""), item.get("by"), item.get("state"), item.get("note", "")
    at, until = timefmt.parse(item.get("at")), timefmt.parse(item.get("until"))
    if not (isinstance(helpdesk, str) and isinstance(by, str) and by and state in SEVERITY_OF_TICKET
            and isinstance(note, str) and at and until):
        return None
    return Ack(helpdesk[:40], item["ticket"], one_line(by)[:80], at, until, state, one_line(note)[:500])
