"""The board: tickets in sections, with states, counts and the next breach, as JSON.

A board depends on the folder's content and on the clock. It is built once
and kept until the folder changes or the next moment at which any ticket's
state (or the data's freshness) can change by time alone; until then every
request gets the same bytes and the same ETag, and a poller gets a 304.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from ticketdash import rules, timefmt
from ticketdash.config import Config, ViewSettings
from ticketdash.live import FolderView, LiveFolder

SECTIONS = (("open", "Open"), ("waiting", "Waiting on agent"), ("other", "Other active"))
PRIORITY_NAMES = {1: "Low", 2: "Medium", 3: "High", 4: "Urgent"}
ALL = ViewSettings(title="All tickets")


class UnknownView(KeyError):
    pass


@dataclass(frozen=True)
class Rendered:
    body: bytes
    etag: str
    valid_until: datetime | None
    version: int


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
        self.lock = threading.Lock()

    def view_list(self) -> list[dict[str, str]]:
        return [{"slug": slug, "title": view.title} for slug, view in self.views.items()]

    def rendered(self, view: str, agent: int | None) -> Rendered:
        """The current board's bytes and ETag, rebuilt only when something can have changed."""
        if view not in self.views:
            raise UnknownView(view)
        now = self.clock()
        key = (view, agent)
        cached = self.cache.get(key)
        if cached and cached.version == self.folder.version and (cached.valid_until is None or now < cached.valid_until):
            return cached
        with self.lock:  # one rebuild at a time; the others then find it cached
            cached = self.cache.get(key)
            if cached and cached.version == self.folder.version and (
                    cached.valid_until is None or now < cached.valid_until):
                return cached
            snapshot = self.folder.view()
            board, valid_until = self.build(snapshot, now, view, agent)
            content = json.dumps(board, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
            etag = 'W/"' + hashlib.sha1(content.encode()).hexdigest()[:20] + '"'
            board["generated_at"] = timefmt.format(now)
            body = json.dumps(board, ensure_ascii=False, separators=(",", ":")).encode()
            rendered = Rendered(body, etag, valid_until, snapshot.version)
            self.cache[key] = rendered
            if len(self.cache) > 64:  # agents' filters come and go
                self.cache = {key: rendered}
            return rendered

    def health(self, snapshot: FolderView, now: datetime) -> tuple[str, str]:
        if snapshot.heartbeat_error:
            return "error", f"the watcher's heartbeat is unreadable: {snapshot.heartbeat_error}"
        return rules.data_health(snapshot.heartbeat, now, self.config.stale_after)

    def section_of(self, status_name: str, replied: bool) -> str:
        name = status_name.casefold()
        if name in self.waiting:
            return "waiting"
        if name in self.other:
            return "other"
        return "waiting" if replied else "open"

    def _matches(self, ticket: dict[str, Any], view: ViewSettings, agent: int | None) -> bool:
        return ((not view.groups or ticket["group_id"] in view.groups)
                and (not view.workspaces or ticket["workspace_id"] in view.workspaces)
                and (not view.types or ticket["type"] in view.types)
                and (agent is None or ticket["responder_id"] == agent))

    def build(self, snapshot: FolderView, now: datetime, slug: str, agent: int | None) -> tuple[dict[str, Any], datetime | None]:
        view = self.views[slug]
        names = snapshot.names
        statuses, agents = names.get("statuses", {}), names.get("agents", {})
        requesters, groups = names.get("requesters", {}), names.get("groups", {})
        health, reason = self.health(snapshot, now)
        sections: dict[str, list[tuple[Any, ...]]] = {key: [] for key, _ in SECTIONS}
        counts = dict.fromkeys(rules.TICKET_STATES, 0)
        moments: list[datetime] = []
        next_breach: tuple[datetime, int] | None = None
        far = datetime.max.replace(tzinfo=now.tzinfo)
        for ticket_id, entry in snapshot.entries.items():
            t = entry.ticket
            if not self._matches(t, view, agent):
                continue
            status = t["status"]
            status_name = statuses.get(status, f"Status {status}")
            verdict = rules.verdict(entry.facts, status_name, now, self.policy)
            change = rules.next_change(entry.facts, status_name, now, self.policy)
            if change is not None:
                moments.append(change)
            counts[verdict.state] += 1
            due = verdict.due_at
            if due is not None and due > now and verdict.state != "paused":
                if next_breach is None or due < next_breach[0]:
                    next_breach = (due, ticket_id)
            priority = t["priority"] if isinstance(t["priority"], int) else 0
            row = {
                "id": ticket_id,
                "subject": t["subject"] if isinstance(t["subject"], str) else "",
                "excerpt": t["excerpt"],
                "status": status,
                "status_name": status_name,
                "priority": t["priority"],
                "priority_name": PRIORITY_NAMES.get(priority, ""),
                "type": t["type"],
                "agent": agents.get(t["responder_id"]) if t["responder_id"] is not None else None,
                "requester": _name(requesters, t["requester_id"]),
                "group": groups.get(t["group_id"]) if t["group_id"] is not None else None,
                "state": verdict.state,
                "due_at": timefmt.format(due) if due else None,
                "due_kind": ("first_response" if verdict.first_response else "resolution") if due else None,
                "customer_replied": verdict.customer_replied,
                "url": f"{self.url_base}{ticket_id}",
            }
            key = (rules.SEVERITY_OF_TICKET[verdict.state], due or far, -priority, ticket_id)
            sections[self.section_of(status_name, verdict.customer_replied)].append((key, row))

        if health == "ok" and snapshot.heartbeat:
            success = timefmt.parse(snapshot.heartbeat.get("last_success_at"))
            if success:
                moments.append(success + timedelta(seconds=self.config.stale_after))
        unreadable = sorted(snapshot.errors)
        worst = rules.board_state((s for s, n in counts.items() if n), health, bool(unreadable))
        heartbeat = snapshot.heartbeat or {}
        board = {
            "data_as_of": heartbeat.get("last_success_at"),
            "stale": health != "ok",
            "health": {"status": health, "reason": reason, "last_attempt_at": heartbeat.get("last_attempt_at"),
                       "last_error": heartbeat.get("last_error"), "source": heartbeat.get("source")},
            "worst": worst,
            "counts": counts,
            "total": sum(counts.values()),
            "view": {"slug": slug, "title": view.title},
            "agent": {"id": agent, "name": agents.get(agent)} if agent is not None else None,
            "next_breach": {"id": next_breach[1], "due_at": timefmt.format(next_breach[0])} if next_breach else None,
            "unreadable": unreadable,
            "light": snapshot.light,
            "sections": [
                {
                    "key": key,
                    "title": title,
                    "counts": _counts(rows),
                    "tickets": [row for _, row in sorted(rows, key=lambda r: r[0])],
                }
                for key, title in SECTIONS
                for rows in [sections[key]]
            ],
        }
        return board, min(moments) if moments else None


def _name(names: dict[int, str], person: Any) -> str | None:
    if not isinstance(person, int):
        return None
    return names.get(person, f"Requester {person}")


def _counts(rows: list[tuple[Any, dict[str, Any]]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, row in rows:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    return counts
