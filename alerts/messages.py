"""Alert texts: plain text only, ticket text defused, the same words as the wall.

Ticket subjects are written by customers. Apprise is always given plain
text (it escapes for the services that read markup, such as Slack), and
before that every control and bidirectional-override character is removed,
whitespace collapsed, Markdown link syntax broken and mentions defused, so
a subject can neither fake lines, reverse what a reader sees, become a link
in a Teams card, nor notify a whole channel or a person (``@everyone``, ``<@U1>``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Iterable

from ticketdash.board import PRIORITY_NAMES, Row
from ticketdash.states import WORDS
from ticketdash.summary import duration
from ticketdash.text import one_line

_MENTION = re.compile(r"(?<![\w.+-])@(?=\w)")  # @everyone, @here, @channel, @all, @name; not a@b.example
# <@U1> (Slack, Discord), <@&1> (a Discord role), <at> (Teams); Slack's <!channel> Apprise escapes itself
_TAG = re.compile(r"<(?=[@!#]|at>)", re.IGNORECASE)  # <@U1> <!channel> <#C1> (Slack), <at> (Teams)


def clean(text: Any, limit: int = 160) -> str:
    """Customer text made safe to show as one plain line in any chat: no line breaks, no reversed text,
    no link, and no mention (the "@" of a mention becomes a full-width "＠", which notifies nobody)."""
    text = one_line(text)
    text = text.replace("](", "] (")  # no Markdown link where a service renders Markdown (Teams' cards)
    text = _MENTION.sub("\uff20", _TAG.sub("\u2039", text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def name(row: Row) -> str:
    """How a message names a ticket: its number, after its helpdesk's label on a wall of several."""
    helpdesk = row.ticket.helpdesk
    return f"{clean(helpdesk, 20)} #{row.id}" if helpdesk else f"#{row.id}"


def when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%a %d %b %H:%M") if moment else "no deadline"


def ticket_message(row: Row, state: str, recovered_from: str | None = None, link: str | None = None) -> tuple[str, str]:
    """(title, body) for one ticket entering *state* (or leaving *recovered_from*), with the signed
    *link* that acknowledges it, when the dashboard's address is known."""
    subject = clean(row.ticket.subject) or "(no subject)"
    if recovered_from:
        title = f"{name(row)} recovered: no longer {WORDS[recovered_from]} (now {WORDS.get(state, state)})"
    else:
        title = f"{name(row)} {WORDS.get(state, state)}: {subject}"
    due = f"{'first response' if row.first_response else 'resolution'} due {when(row.due_at)}" \
        if row.due_at else "no deadline"
    lines = [
        f"Ticket {name(row)}: {subject}",
        f"State: {WORDS.get(state, state)} ({due})",
        f"Priority: {PRIORITY_NAMES.get(row.priority, 'none')} · Agent: {clean(row.agent, 60) or 'unassigned'}"
        + (f" · Group: {clean(row.group, 60)}" if row.group else ""),
        row.url,
    ]
    if link:
        lines.append(f"Acknowledge (on it): {link}")
    return title, "\n".join(lines)


def ack_message(row: Row) -> tuple[str, str]:
    """Someone is on a ticket that was alerted: the channel can stop worrying about it."""
    ack = row.ack
    assert ack is not None
    who, subject = clean(ack.by, 60), clean(row.ticket.subject) or "(no subject)"
    lines = [f"{who} is on {name(row)}: {subject}",
             f"State: {WORDS.get(row.state, row.state)} (unchanged: an ack is not a response)",
             f"Until {when(ack.until)}, or sooner if it gets worse"]
    if ack.note:
        lines.append(f"Note: {clean(ack.note, 300)}")
    lines.append(row.url)
    return f"{who} is on {name(row)}: {subject}", "\n".join(lines)


def board_message(state: str, reason: str, recovered: bool = False, age: float | None = None) -> tuple[str, str]:
    """The wall going blind (or seeing again); *age*: how old the last good data is, in seconds."""
    if recovered:
        return "The wall sees again", "The ticket data is current again: the wall and the light are truthful."
    title = f"The wall is blind: {WORDS.get(state, state)}"
    last = f" The last good data is {duration(age)} old." if age is not None else ""
    body = (f"The wall cannot show current ticket data ({state}): {clean(reason, 300)}.{last}\n"
            "Until this is fixed, breaches may go unseen on the wall and the desk light.")
    return title, body


def digest(items: list[tuple[str, str]]) -> tuple[str, str]:
    """Many transitions at once (say, after an outage) as one message."""
    shown = [f"- {title}" for title, _ in items[:25]]
    if len(items) > 25:
        shown.append(f"- … and {len(items) - 25} more")
    return f"{len(items)} alerts at once", "\n".join(shown)


def reminder(sections: Iterable[tuple[str, list[Row]]]) -> tuple[str, str]:
    """The daily reminder: per agent, the tickets that need action."""
    lines, total = [], 0
    for agent, rows in sections:
        lines.append(f"{agent} ({len(rows)}):")
        for row in rows:
            lines.append(f"- {name(row)} {WORDS[row.state]}: {clean(row.ticket.subject, 100)} "
                         f"({'due ' + when(row.due_at) if row.due_at else 'no deadline'}) {row.url}")
        total += len(rows)
        lines.append("")
    title = f"Reminder: {total} ticket(s) need action" if total else "Reminder: no ticket needs action"
    return title, "\n".join(lines).strip() or "Nothing breached, critical or waiting on an agent."
