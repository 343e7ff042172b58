"""The one ticket model: what every reader knows of a ticket, whichever helpdesk it came from.

The store turns each file of ``tickets/`` into a :class:`Ticket` once, when
the file changes (:func:`from_record`); the rules, the board verdict, the
summary, the alerts and ``/metrics`` read only this. A source writes its
helpdesk's tickets in the contract's file shape, so no reader ever knows
which product a ticket came from. What depends on the helpdesk's settings
rather than the file (the status's name and kind, the link) is added by the
board from :class:`Desk`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from ticketdash import timefmt
from ticketdash.text import without_overrides

EXCERPT = 160  # characters of the description a reader keeps


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    helpdesk: str  # the [helpdesks] label; "" with a single tickets folder
    subject: str
    excerpt: str  # the start of the description, plain text
    status: int  # the helpdesk's status id (its name comes from the names files)
    type: str | None
    priority: int | None  # 1 low ... 4 urgent; None when unknown
    first_response_due: datetime | None
    due: datetime | None  # resolution
    first_responded_at: datetime | None
    customer_replied: bool  # the requester wrote after the last agent reply
    agent_id: int | None
    requester_id: int | None
    group_id: int | None
    workspace_id: int | None
    created_at: datetime | None
    updated_at: datetime | None
    resolved_at: datetime | None  # set only on archived tickets that were resolved or closed

    @property
    def key(self) -> tuple[str, int]:
        """Unique on one wall: ids repeat across helpdesks."""
        return self.helpdesk, self.id


def from_record(record: Mapping[str, Any], helpdesk: str = "") -> Ticket:
    """A ticket from a file's object (checked by the store first); ValueError for a date that cannot be judged."""
    stats = record.get("stats")
    stats = stats if isinstance(stats, Mapping) else {}
    text = record.get("description_text")
    priority = record.get("priority")
    return Ticket(
        id=_id(record.get("id")) or 0,
        helpdesk=helpdesk,
        subject=without_overrides(_text(record.get("subject"))),
        excerpt=without_overrides(text[:EXCERPT]) if isinstance(text, str) else "",
        status=record.get("status") if type(record.get("status")) is int else 0,
        type=record.get("type") if isinstance(record.get("type"), str) else None,
        priority=priority if type(priority) is int and 1 <= priority <= 4 else None,
        first_response_due=timefmt.parse(record.get("fr_due_by")),
        due=timefmt.parse(record.get("due_by")),
        first_responded_at=timefmt.parse(stats.get("first_responded_at")),
        customer_replied=_customer_replied(stats),
        agent_id=_id(record.get("responder_id")),
        requester_id=_id(record.get("requester_id")),
        group_id=_id(record.get("group_id")),
        workspace_id=_id(record.get("workspace_id")),
        created_at=timefmt.parse(record.get("created_at")),
        updated_at=timefmt.parse(record.get("updated_at")),
        resolved_at=timefmt.parse(stats.get("resolved_at")) or timefmt.parse(stats.get("closed_at")),
    )


@dataclass(frozen=True)
class Desk:
    """What one helpdesk says of its tickets beyond their files: its label and its links."""

    name: str = ""  # "" with a single tickets folder
    link: str = ""  # the ticket link with "{id}" in it, e.g. https://acme.freshservice.com/a/tickets/{id}

    def url(self, ticket_id: int) -> str:
        if not self.link:
            return ""
        url = self.link.replace("{id}", str(ticket_id))
        if self.name and url.startswith("/"):  # the dashboard's own page must know which helpdesk
            url += ("&" if "?" in url else "?") + "helpdesk=" + self.name
        return url


def _customer_replied(stats: Mapping[str, Any]) -> bool:
    requester = timefmt.parse(stats.get("requester_responded_at"))
    if requester is None:
        return False
    agent = timefmt.parse(stats.get("agent_responded_at"))
    return agent is None or requester > agent


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _id(value: Any) -> int | None:
    return value if type(value) is int and 0 < value < 2**63 else None
