"""Timestamps as Freshservice writes them: UTC, ``YYYY-MM-DDTHH:MM:SSZ``."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone

Window = tuple[time, time]


def parse(value: object) -> datetime | None:
    """An aware UTC datetime from an ISO-8601 string; None for anything else, or beyond what UTC can hold."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError):
        return None


def format(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> datetime:
    return datetime.now(timezone.utc)


def parse_quiet_hours(text: str) -> Window | None:
    """``HH:MM-HH:MM`` (local time, may cross midnight); None for an empty text; ValueError otherwise."""
    if not text:
        return None
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not match or int(match[1]) > 23 or int(match[3]) > 23 or int(match[2]) > 59 or int(match[4]) > 59:
        raise ValueError(f"expected HH:MM-HH:MM, got {text!r}")
    return time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4]))


def format_quiet_hours(window: Window | None) -> str:
    """``HH:MM-HH:MM`` again (for the page, which keeps its own clock); "" for none."""
    return f"{window[0]:%H:%M}-{window[1]:%H:%M}" if window else ""


def in_quiet_hours(window: Window | None, local: time) -> bool:
    if window is None:
        return False
    start, end = window
    return start <= local < end if start <= end else (local >= start or local < end)


def quiet_hours_end(window: Window | None, moment: datetime) -> datetime | None:
    """When the quiet hours that hold *moment* end (None: *moment* is not in them)."""
    local = moment.astimezone()
    if not in_quiet_hours(window, local.time()):
        return None
    assert window is not None
    end = local.replace(hour=window[1].hour, minute=window[1].minute, second=0, microsecond=0)
    return end if end > local else end + timedelta(days=1)
