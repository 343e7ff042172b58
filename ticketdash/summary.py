"""The weekly summary's figures, from what the watcher already keeps: tickets/ and its archive.

Shared by the alerts daemon (which sends it) and the dashboard (``/summary``),
so both show the same numbers. Pure apart from reading the folder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Iterator, Sequence

from ticketdash import timefmt
from ticketdash.rules import DEFAULT_POLICY, Policy
from ticketdash.store import TicketStore
from ticketdash.ticket import Ticket

WEEK = timedelta(days=7)


@dataclass
class Summary:
    start: datetime
    end: datetime
    breaches: int = 0
    breaches_before: int = 0  # the week before
    first_response: tuple[float | None, float | None] = (None, None)  # median, 90th percentile (seconds)
    resolution: tuple[float | None, float | None] = (None, None)
    opened: int = 0
    closed: int = 0
    oldest: list[dict[str, Any]] = field(default_factory=list)  # the oldest open tickets
    daily_breaches: list[tuple[date, int]] = field(default_factory=list)  # the last 14 days


def weekly(stores: Sequence[TicketStore], now: datetime, policy: Policy = DEFAULT_POLICY) -> Summary:
    """The week that ends at *now*, compared with the week before, over every helpdesk's folder."""
    active = [t for store in stores for t in store.snapshot().tickets.values()]
    archived = [t for store in stores for t in _archived(store, (now - 2 * WEEK).date())]
    start, before = now - WEEK, now - 2 * WEEK
    result = Summary(start=start, end=now)
    moments = [m for t in active + archived for m in breach_moments(t, now, policy)]
    result.breaches = sum(start <= m < now for m in moments)
    result.breaches_before = sum(before <= m < start for m in moments)
    days = [(now - timedelta(days=n)).astimezone().date() for n in range(13, -1, -1)]
    per_day = {d: 0 for d in days}
    for moment in moments:
        local = moment.astimezone().date()
        if local in per_day:
            per_day[local] += 1
    result.daily_breaches = list(per_day.items())

    first, resolve = [], []
    for t in active + archived:
        created = t.created_at
        if created is None:
            continue
        if start <= created < now:
            result.opened += 1
        responded = t.first_responded_at
        if responded and start <= responded < now and responded >= created:
            first.append((responded - created).total_seconds())
        done = t.resolved_at
        if done and start <= done < now:
            result.closed += 1
            if done >= created:
                resolve.append((done - created).total_seconds())
    result.first_response = _median_p90(first)
    result.resolution = _median_p90(resolve)
    oldest = sorted((t for t in active if t.created_at), key=lambda t: (t.created_at, t.key))[:5]
    result.oldest = [{"id": t.id, "helpdesk": t.helpdesk or None, "subject": t.subject,
                      "created_at": timefmt.format(t.created_at),
                      "age_days": (now - t.created_at).days,  # type: ignore[operator]
                      "age": age((now - t.created_at).total_seconds())} for t in oldest]  # type: ignore[operator]
    return result


def breach_moments(ticket: Ticket, now: datetime, policy: Policy = DEFAULT_POLICY) -> list[datetime]:
    """When this ticket breached: its first-response deadline (where its type has one) and its resolution."""
    found = []
    fr_due = ticket.first_response_due
    if fr_due and (ticket.type or "").casefold() not in policy.no_first_response:
        if (ticket.first_responded_at or now) > fr_due and fr_due <= now:
            found.append(fr_due)
    due = ticket.due
    if due and due <= now and (ticket.resolved_at or now) > due:
        found.append(due)
    return found


def _median_p90(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    ordered, half = sorted(values), len(values) // 2
    median = ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2
    return median, ordered[math.ceil(0.9 * len(ordered)) - 1]


def _archived(store: TicketStore, since: date) -> Iterator[Ticket]:
    for day in sorted(store.archive_dir.glob("????-??-??")):
        try:
            if date.fromisoformat(day.name) < since:
                continue
        except ValueError:
            continue
        for path in day.glob("*.json"):
            try:
                yield store.read_ticket(path)
            except (OSError, ValueError):
                continue


def duration(seconds: float | None) -> str:
    """A duration as a person says it: 45 min, 3 h 20 min, 2 d 4 h."""
    if seconds is None:
        return "n/a"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def age(seconds: float) -> str:
    """How old a ticket is: in days from the first day on, else as a duration ("3 h 20 min", never "0 days")."""
    days = int(seconds // 86400)
    if days >= 1:
        return f"{days} day" if days == 1 else f"{days} days"
    return duration(seconds)


def text(summary: Summary, clean: Any = str) -> tuple[str, str]:
    """(title, body) of the weekly message, plain text."""
    change = summary.breaches - summary.breaches_before
    trend = "same as" if change == 0 else (f"{abs(change)} {'more' if change > 0 else 'fewer'} than")
    lines = [
        f"Breaches: {summary.breaches} ({trend} the week before: {summary.breaches_before})",
        f"First response: median {duration(summary.first_response[0])}, "
        f"90th percentile {duration(summary.first_response[1])}",
        f"Resolution: median {duration(summary.resolution[0])}, 90th percentile {duration(summary.resolution[1])}",
        f"Tickets opened: {summary.opened} · closed: {summary.closed}",
    ]
    if summary.oldest:
        lines.append("Oldest open tickets:")
        lines += [f"- {t['helpdesk'] + ' ' if t['helpdesk'] else ''}#{t['id']} ({t['age']}): "
                  f"{clean(t['subject'])}" for t in summary.oldest]
    week = f"{summary.start.astimezone():%d %b} - {summary.end.astimezone():%d %b}"
    return f"Weekly summary {week}", "\n".join(lines)


def as_json(summary: Summary) -> dict[str, Any]:
    return {
        "start": timefmt.format(summary.start), "end": timefmt.format(summary.end),
        "breaches": summary.breaches, "breaches_before": summary.breaches_before,
        "first_response_seconds": {"median": summary.first_response[0], "p90": summary.first_response[1]},
        "resolution_seconds": {"median": summary.resolution[0], "p90": summary.resolution[1]},
        "opened": summary.opened, "closed": summary.closed, "oldest": summary.oldest,
        "daily_breaches": [{"day": d.isoformat(), "breaches": n} for d, n in summary.daily_breaches],
    }


def bars(daily: Iterable[tuple[date, int]], width: int = 700, height: int = 160) -> list[dict[str, Any]]:
    """Geometry of a bar chart of breaches per day, for an SVG the template draws (no script)."""
    daily = list(daily)
    top = max([n for _, n in daily] + [1])
    step = width / max(1, len(daily))
    return [{"x": round(i * step + step * 0.15, 1), "w": round(step * 0.7, 1),
             "h": round((height - 20) * n / top, 1), "y": round(height - 20 - (height - 20) * n / top, 1),
             "n": n, "label": d.strftime("%a %d")} for i, (d, n) in enumerate(daily)]
