"""The board: tickets in sections, with states, counts and the next breach, as JSON.

A board depends on the folder's content and on the clock. It is built once
and kept until the folder changes or the next moment at which any ticket's
state (or the data's freshness) can change by time alone; until then every
request gets the same bytes and the same ETag, and a poller gets a 304.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from ticketdash import rules, timefmt
from ticketdash.config import Config, ViewSettings
from ticketdash.live import Entry, FolderView, LiveFolder

SECTIONS = (("open", "Open"), ("waiting", "Waiting on agent"), ("other", "Other active"))
PRIORITY_NAMES = {1: "Low", 2: "Medium", 3: "High", 4: "Urgent"}
ALL = ViewSettings(title="All tickets")


class UnknownView(KeyError):
    pass


@dataclass
class Rendered:
    body: bytes
    etag: str
    valid_until: datetime | None
    version: int
    _gzipped: bytes | None = None

    def gzipped(self) -> bytes:
        """The body compressed, made once, when a client first asks for it."""
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=5, mtime=0)
        return self._gzipped


class Board:
    def __init__(self, config: Config, folder: LiveFolder, clock: Callable[[], datetime] = timefmt.now) -> None:
        self.config = config
        self.folder = folder
        self.clock = clock
        self.policy = rules.Policy.from_settings(config.rules)
        self.waiting = frozenset(s.casefold() for s in config.gui.waiting_on_agent_statuses)
        self.other = frozenset(s.casefold() for s in config.gui.other_statuses)
        self.views = {"all": ALL, **config.views}
        self.url_base = config.freshservice.ticket_url_base
        self.cache: dict[tuple[str, int | None], Rendered] = {}
        self.rows: dict[int, _Row] = {}
        self.lock = threading.Lock()

    def view_list(self) -> list[dict[str, str]]:
        return [{"slug": slug, "title": view.title} for slug, view in self.views.items()]

    def rendered(self, view: str, agent: int | None) -> Rendered:
        """The current board's bytes and ETag, rebuilt only when something can have changed."""
        if view not in self.views:
            raise UnknownView(view)
        key = (view, agent)
        cached = self._fresh(key, self.clock())
        if cached:
            return cached
        with self.lock:  # one rebuild at a time; the others then find it cached
            now = self.clock()
            cached = self._fresh(key, now)
            if cached:
                return cached
            snapshot = self.folder.view()
            content, valid_until = self.build(snapshot, now, view, agent)
            etag = 'W/"' + hashlib.sha1(content).hexdigest()[:20] + '"'
            body = content[:-1] + b',"generated_at":"' + timefmt.format(now).encode() + b'"}'
            rendered = Rendered(body, etag, valid_until, snapshot.version)
            if len(self.cache) > 64:  # agents' filters come and go
                self.cache.clear()
            self.cache[key] = rendered
            return rendered

    def _fresh(self, key: tuple[str, int | None], now: datetime) -> Rendered | None:
        cached = self.cache.get(key)
        if cached and cached.version == self.folder.version and (cached.valid_until is None or now < cached.valid_until):
            return cached
        return None

    def section_of(self, status_name: str, replied: bool) -> str:
        name = status_name.casefold()
        if name in self.waiting:
            return "waiting"
        if name in self.other:
            return "other"
        return "waiting" if replied else "open"

    def _row(self, entry: Entry, names: dict[str, Any], now: datetime) -> _Row:
        """A ticket's place on the board, kept until its file, the names or its state can change."""
        t = entry.ticket
        ticket_id = t["id"]
        row = self.rows.get(ticket_id)
        if row and row.entry is entry and row.names is names and (row.valid_until is None or now < row.valid_until):
            return row
        status = t["status"]
        status_name = names.get("statuses", {}).get(status, f"Status {status}")
        verdict = rules.verdict(entry.facts, status_name, now, self.policy)
        due = verdict.due_at
        priority = t["priority"] if isinstance(t["priority"], int) else 0
        fields = {
            "id": ticket_id,
            "subject": t["subject"] if isinstance(t["subject"], str) else "",
            "excerpt": t["excerpt"],
            "status": status,
            "status_name": status_name,
            "priority": t["priority"],
            "priority_name": PRIORITY_NAMES.get(priority, ""),
            "type": t["type"],
            "agent": names.get("agents", {}).get(t["responder_id"]) if t["responder_id"] is not None else None,
            "requester": _name(names.get("requesters", {}), t["requester_id"]),
            "group": names.get("groups", {}).get(t["group_id"]) if t["group_id"] is not None else None,
            "state": verdict.state,
            "due_at": _iso(due) if due else None,
            "due_kind": ("first_response" if verdict.first_response else "resolution") if due else None,
            "customer_replied": verdict.customer_replied,
            "url": f"{self.url_base}{ticket_id}",
        }
        row = _Row(
            entry=entry, names=names, verdict=verdict,
            valid_until=rules.next_change(entry.facts, status_name, now, self.policy),
            section=self.section_of(status_name, verdict.customer_replied),
            key=(rules.SEVERITY_OF_TICKET[verdict.state], due or FAR, -priority, ticket_id),
            json=json.dumps(fields, ensure_ascii=False, separators=(",", ":")),
        )
        self.rows[ticket_id] = row
        return row

    def build(self, snapshot: FolderView, now: datetime, slug: str, agent: int | None) -> tuple[bytes, datetime | None]:
        """The board as JSON bytes (without generated_at), and until when it holds."""
        view = self.views[slug]
        names = snapshot.names
        health, reason = snapshot.health(now, self.config.stale_after)
        sections: dict[str, list[_Row]] = {key: [] for key, _ in SECTIONS}
        counts = dict.fromkeys(rules.TICKET_STATES, 0)
        valid_until: datetime | None = None
        next_breach: tuple[datetime, int] | None = None
        for ticket_id, entry in snapshot.entries.items():
            if not view.matches(entry.ticket, agent):
                continue
            row = self._row(entry, names, now)
            if row.valid_until is not None and (valid_until is None or row.valid_until < valid_until):
                valid_until = row.valid_until
            counts[row.verdict.state] += 1
            due = row.verdict.due_at
            if due is not None and due > now and row.verdict.state != "paused":
                if next_breach is None or due < next_breach[0]:
                    next_breach = (due, ticket_id)
            sections[row.section].append(row)
        for gone in set(self.rows) - set(snapshot.entries):
            del self.rows[gone]

        stale_at = snapshot.stale_at(self.config.stale_after) if health == "ok" else None
        if stale_at is not None:
            valid_until = stale_at if valid_until is None else min(valid_until, stale_at)
        unreadable = sorted(snapshot.errors)
        worst = rules.board_state((s for s, n in counts.items() if n), health, bool(unreadable))
        heartbeat = snapshot.heartbeat or {}
        head = {
            "data_as_of": heartbeat.get("last_success_at"),
            "stale": health != "ok",
            "health": {"status": health, "reason": reason, "last_attempt_at": heartbeat.get("last_attempt_at"),
                       "last_error": heartbeat.get("last_error"), "source": heartbeat.get("source")},
            "worst": worst,
            "counts": counts,
            "total": sum(counts.values()),
            "view": {"slug": slug, "title": view.title},
            "agent": {"id": agent, "name": names.get("agents", {}).get(agent)} if agent is not None else None,
            "next_breach": {"id": next_breach[1], "due_at": _iso(next_breach[0])} if next_breach else None,
            "unreadable": unreadable,
            "light": snapshot.light,
        }
        parts = []
        for key, title in SECTIONS:
            rows = sorted(sections[key], key=lambda r: r.key)
            section_counts: dict[str, int] = {}
            for row in rows:
                section_counts[row.verdict.state] = section_counts.get(row.verdict.state, 0) + 1
            meta = _dumps({"key": key, "title": title, "counts": section_counts})
            parts.append(meta[:-1] + ',"tickets":[' + ",".join(r.json for r in rows) + "]}")
        content = _dumps(head)[:-1] + ',"sections":[' + ",".join(parts) + "]}"
        return content.encode(), valid_until


@dataclass(frozen=True, slots=True)
class _Row:
    entry: Entry
    names: dict[str, Any]
    verdict: rules.Verdict
    valid_until: datetime | None
    section: str
    key: tuple[Any, ...]
    json: str  # this ticket's object on the board, ready to join


FAR = datetime.max.replace(tzinfo=timezone.utc)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@functools.lru_cache(maxsize=20_000)
def _iso(moment: datetime) -> str:
    return timefmt.format(moment)


def _name(names: dict[int, str], person: Any) -> str | None:
    if not isinstance(person, int):
        return None
    return names.get(person, f"Requester {person}")


