"""The one board verdict: what the page, the light, /healthz, /metrics and the alerts all show.

From a snapshot of the tickets/ folder and the time, :meth:`Judge.verdict`
builds everything a reader needs: rows in sections, counts, the worst state,
the next and the oldest breach, the data's health and what cannot be read.
No reader decides anything on its own, so the wall, the desk light, the
monitors and the alerts can never disagree.

It fails closed: a ticket that cannot be judged is listed as unreadable, by
id and reason, and the board is ``error``; the other tickets are still shown.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from ticketdash import acks as acknowledgements
from ticketdash import rules, timefmt
from ticketdash.acks import Ack
from ticketdash.config import Config
from ticketdash.live import Folders, FolderView
from ticketdash.names import written
from ticketdash.states import BREACHED, SEVERITY_OF_TICKET, TICKET_STATES
from ticketdash.store import is_id
from ticketdash.ticket import Desk, Ticket

SECTIONS = (("open", "Open"), ("waiting", "Waiting on agent"), ("other", "Other active"))
PRIORITY_NAMES = {1: "Low", 2: "Medium", 3: "High", 4: "Urgent"}
FAR = datetime.max.replace(tzinfo=timezone.utc)

Keep = Callable[[Ticket], bool]


def everything(ticket: Ticket) -> bool:
    return True


@dataclass(frozen=True)
class BoardRules:
    """The settings a verdict depends on, taken from the configuration once."""

    policy: rules.Policy
    stale_after: float
    link: str = ""  # the ticket link when the watcher's heartbeat names none (a watcher from before links)

    @classmethod
    def from_config(cls, config: Config) -> BoardRules:
        return cls(
            policy=rules.Policy.from_settings(config.rules, config.gui),
            stale_after=config.stale_after,
            link=config.freshservice.ticket_link,
        )

    def desk(self, name: str, heartbeat: Mapping[str, Any] | None) -> Desk:
        """The helpdesk's label and link, as its watcher announces them (the same object while they
        stay the same, so that a remembered row is recognised by identity)."""
        link = (heartbeat or {}).get("ticket_link")
        return _desk(name, link if is_link(link) else self.link)


@dataclass(frozen=True, slots=True)
class Row:
    """One ticket's place on the board."""

    id: int
    state: str
    section: str
    due_at: datetime | None
    priority: int  # 0 when unknown
    fields: dict[str, Any]  # the row as /api/board shows it
    key: tuple[Any, ...]  # sort order: severity, due time, priority, id
    valid_until: datetime | None  # when time alone can change it
    ticket: Ticket
    names: Any
    desk: Desk
    ref: tuple[str, int]  # (helpdesk, id): unique on the wall
    first_response: bool  # the deadline that applies is the first response
    agent: str | None  # names, as the names files give them
    group: str | None
    url: str
    ack: Ack | None = None  # someone is on it: calms the noise, never the state or the place


@dataclass(frozen=True, slots=True)
class Unreadable:
    file: str
    id: int | None
    reason: str
    helpdesk: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "id": self.id, "reason": self.reason, "helpdesk": self.helpdesk or None}

    @property
    def label(self) -> str:
        shown = str(self.id) if self.id is not None else self.file
        return f"{self.helpdesk} {shown}" if self.helpdesk else shown


@dataclass(frozen=True)
class Verdict:
    """The whole board at one moment, for one view (or all tickets)."""

    at: datetime
    status: str  # "ok" | "stale" | "error": is this data fit to be shown as current?
    reason: str
    worst: str  # the board state
    counts: dict[str, int]
    sections: dict[str, list[Row]]  # each sorted, most urgent first
    unreadable: list[Unreadable]
    heartbeat: dict[str, Any]
    valid_until: datetime | None  # the next moment time alone can change this verdict
    light: dict[str, Any] | None = None  # what the desk light says it shows
    alerts: dict[str, Any] | None = None  # what the alerts daemon says of itself
    next_breach: Row | None = None  # the soonest deadline not yet passed
    oldest_breach: Row | None = None  # the breach that has lasted longest
    breached: int = 0
    helpdesks: list[dict[str, Any]] = field(default_factory=list)  # each helpdesk's health, with [helpdesks]
    demo: bool = False  # some of this data comes from the built-in demo helpdesk, not a real one
    acknowledged: dict[str, int] = field(default_factory=dict)  # tickets someone is on, by state
    worst_acknowledged: bool = False  # every ticket in the worst state is acknowledged: no strobe, no nagging

    def rows(self) -> Iterator[Row]:
        for key, _ in SECTIONS:
            yield from self.sections[key]

    def section_counts(self, key: str) -> dict[str, int]:
        """How many of a section's tickets are in each state (the states it has, most severe first)."""
        counts: dict[str, int] = {}
        for row in self.sections[key]:
            counts[row.state] = counts.get(row.state, 0) + 1
        return counts

    @property
    def data_as_of(self) -> str | None:
        value = self.heartbeat.get("last_success_at")
        return value if isinstance(value, str) else None

    @property
    def next_breach_seconds(self) -> float | None:
        if self.next_breach is None or self.next_breach.due_at is None:
            return None
        return (self.next_breach.due_at - self.at).total_seconds()

    def data_age_seconds(self) -> float | None:
        success = timefmt.parse(self.data_as_of)
        return (self.at - success).total_seconds() if success else None


def failed(now: datetime, reason: str) -> Verdict:
    """The verdict when the board itself could not be judged: ``error``, never the last colour."""
    return Verdict(at=now, status="error", reason=reason, worst="error", counts=dict.fromkeys(TICKET_STATES, 0),
                   sections={key: [] for key, _ in SECTIONS}, unreadable=[], heartbeat={}, valid_until=None)


def data_health(snapshot: FolderView, now: datetime, stale_after: float) -> tuple[str, str, datetime | None]:
    """("ok" | "stale" | "error", why, when that can change by time alone) for the watcher's heartbeat,
    with what the watcher is waiting for, when it says so."""
    if snapshot.heartbeat_error:
        return "error", f"the watcher's heartbeat is unreadable: {snapshot.heartbeat_error}", None
    status, reason, changes = rules.data_health(snapshot.heartbeat, now, stale_after)
    waiting = (snapshot.heartbeat or {}).get("waiting")
    if status != "ok" and isinstance(waiting, dict) and isinstance(waiting.get("why"), str):
        until = timefmt.parse(waiting.get("until"))
        if until is not None and until > now:
            reason = f"{reason}; the watcher is waiting: {_text(waiting['why'])}"
            changes = until if changes is None else min(changes, until)
    return status, reason, changes


class Judge:
    """Builds verdicts, remembering each ticket's row until its file, the names or the time can change it."""

    def __init__(self, board_rules: BoardRules) -> None:
        self.rules = board_rules
        self.rows: dict[int, Row] = {}
        self.lock = threading.Lock()
        self.acks: tuple[Any, dict[tuple[str, int], Ack]] = (None, {})  # the acks file's content, parsed once

    def verdict(self, snapshot: FolderView | Sequence[FolderView], now: datetime, keep: Keep = everything,
                agent: int | None = None) -> Verdict:
        """The board of one folder, or of several helpdesks' folders as one, for the tickets *keep*
        lets through (*agent*'s, when given). Never raises for one odd ticket. An agent id that no
        helpdesk names is an error, never an all-clear board: it is most likely a typo."""
        views = [snapshot] if isinstance(snapshot, FolderView) else list(snapshot)
        with self.lock:
            verdict = self._verdict(views, now, keep)
        if agent is not None and not any(agent in v.names.get("agents", {}) for v in views):
            reason = f"unknown agent {agent}: no helpdesk names an agent with this id (see tickets/_names/agents.txt)"
            verdict = dataclasses.replace(verdict, status="error", worst="error", reason=reason, worst_acknowledged=False)
        return verdict

    def _verdict(self, views: list[FolderView], now: datetime, keep: Keep) -> Verdict:
        unreadable: list[Unreadable] = []
        sections: dict[str, list[Row]] = {key: [] for key, _ in SECTIONS}
        counts = dict.fromkeys(TICKET_STATES, 0)
        moments: list[datetime] = []
        present: set[tuple[str, int]] = set()
        healths = []
        acks = self._acks(views[0].statuses.get("acks") if views else None)
        acknowledged: dict[str, int] = {}
        for view in views:
            name = view.helpdesk
            unreadable += [Unreadable(file, _id_of(file), reason, name) for file, reason in sorted(view.errors.items())]
            unreadable += _skipped(view.heartbeat, name)
            desk = self.rules.desk(name, view.heartbeat)
            for ticket_id, ticket in view.entries.items():
                ref = (name, ticket_id)
                present.add(ref)
                try:
                    if not keep(ticket):
                        continue
                    row = self._row(ref, ticket, view.names, desk, now)
                except Exception as error:  # fail closed: this ticket is unreadable, the rest still count
                    unreadable.append(Unreadable(f"{ticket_id}.json", ticket_id, _reason(error), name))
                    continue
                if row.valid_until is not None:
                    moments.append(row.valid_until)
                ack = acks.get(ref)
                if ack is not None and ack.holds(row.state, now):
                    row = dataclasses.replace(row, ack=ack, fields={**row.fields, "ack": ack.shown()})
                    moments.append(ack.until)
                    acknowledged[row.state] = acknowledged.get(row.state, 0) + 1
                counts[row.state] += 1
                sections[row.section].append(row)
            healths.append((view, *data_health(view, now, self.rules.stale_after)))
        if len(self.rows) > len(present):
            for gone in set(self.rows) - present:
                del self.rows[gone]

        status, reason, heartbeat, health_changes = _combined(healths)
        if unreadable and status != "error":
            shown = ", ".join(u.label for u in unreadable[:5])
            status, reason = "error", f"{len(unreadable)} ticket(s) cannot be read: {shown}"
        moments += [c for *_, c in healths if c is not None]
        for rows in sections.values():
            rows.sort(key=lambda r: r.key)
        breached = [r for rows in sections.values() for r in rows if r.state in BREACHED]
        waiting = [r for rows in sections.values() for r in rows
                   if r.due_at is not None and r.due_at > now and r.state != "paused"]
        future = [m for m in moments if m > now]
        first = views[0]
        worst = rules.board_state((s for s, n in counts.items() if n), status)
        return Verdict(
            at=now, status=status, reason=reason, worst=worst,
            counts=counts, sections=sections, unreadable=unreadable,
            heartbeat=heartbeat, light=first.light, alerts=first.statuses.get("alerts"),
            valid_until=min(future) if future else None,
            next_breach=min(waiting, key=lambda r: (r.due_at, r.key)) if waiting else None,
            oldest_breach=min(breached, key=lambda r: (r.due_at or FAR, r.key)) if breached else None,
            breached=len(breached),
            helpdesks=[{"name": v.helpdesk, "status": st, "reason": why,
                        "data_as_of": (v.heartbeat or {}).get("last_success_at")}
                       for v, st, why, _ in healths if v.helpdesk],
            demo=any((v.heartbeat or {}).get("source") == "demo" for v in views),
            acknowledged=acknowledged,
            worst_acknowledged=counts.get(worst, 0) > 0 and acknowledged.get(worst, 0) == counts[worst],
        )

    def _acks(self, content: Any) -> dict[tuple[str, int], Ack]:
        """The acks, parsed again only when the live folder read a new acks file (a new object)."""
        if content is not self.acks[0]:
            self.acks = (content, acknowledgements.parse(content))
        return self.acks[1]

    def _row(self, ref: tuple[str, int], t: Ticket, names: Mapping[str, Any], desk: Desk, now: datetime) -> Row:
        ticket_id = t.id
        row = self.rows.get(ref)
        if (row and row.ticket is t and row.names is names and row.desk is desk
                and (row.valid_until is None or now < row.valid_until)):
            return row
        policy = self.rules.policy
        status_name = names.get("statuses", {}).get(t.status, f"Status {t.status}")
        verdict = rules.verdict(t, status_name, now, policy)
        due = verdict.due_at
        priority = t.priority or 0
        fields = {
            "id": ticket_id,
            "subject": t.subject,
            "excerpt": t.excerpt,
            "status": t.status,
            "status_name": status_name,
            "status_kind": policy.statuses.kind(status_name),
            "priority": t.priority,
            "priority_name": PRIORITY_NAMES.get(priority, ""),
            "type": t.type,
            "agent": _person(names.get("agents", {}), t.agent_id, None),
            "agent_id": t.agent_id,
            "agent_as_written": t.agent_id in names.get(written("agents"), {}),
            "requester": _person(names.get("requesters", {}), t.requester_id, "Requester"),
            "requester_as_written": t.requester_id in names.get(written("requesters"), {}),
            "group": _person(names.get("groups", {}), t.group_id, None),
            "group_id": t.group_id,
            "state": verdict.state,
            "due_at": _iso(due) if due else None,
            "due_kind": ("first_response" if verdict.first_response else "resolution") if due else None,
            "customer_replied": verdict.customer_replied,
            "url": desk.url(ticket_id),
            "ack": None,
        }
        if desk.name:  # on a wall of several helpdesks: ids repeat, the label tells them apart
            fields["helpdesk"] = desk.name
        row = Row(
            id=ticket_id, state=verdict.state,
            section=policy.statuses.section(status_name, verdict.customer_replied),
            due_at=due, priority=priority, fields=fields,
            key=(SEVERITY_OF_TICKET[verdict.state], due or FAR, -priority, desk.name, ticket_id),
            valid_until=rules.next_change(t, status_name, now, policy),
            ticket=t, names=names, desk=desk, ref=ref, first_response=verdict.first_response,
            agent=fields["agent"], group=fields["group"], url=fields["url"],
        )
        self.rows[ref] = row
        return row


@lru_cache(maxsize=256)
def _desk(name: str, link: str) -> Desk:
    return Desk(name, link)


def is_link(value: Any) -> bool:
    """A ticket link template a watcher may announce: on the web or on the dashboard, with the id in it."""
    return (isinstance(value, str) and len(value) < 500 and "{id}" in value
            and (value.startswith(("https://", "http://")) or (value.startswith("/") and not value.startswith("//"))))


def _combined(healths: list[tuple[FolderView, str, str, datetime | None]]
              ) -> tuple[str, str, dict[str, Any], datetime | None]:
    """The board's health from each helpdesk's: the worst, saying which helpdesk when there are
    several, with that helpdesk's heartbeat (the oldest data among equals)."""
    rank = {"error": 0, "stale": 1, "ok": 2}
    worst = min(healths, key=lambda h: (rank[h[1]], (h[0].heartbeat or {}).get("last_success_at") or ""))
    view, status, reason, _ = worst
    if len(healths) > 1 and status != "ok":
        reason = "; ".join(f"{v.helpdesk}: {why}" for v, st, why, _ in healths if st == status)
    changes = [c for *_, c in healths if c is not None]
    return status, reason, view.heartbeat or {}, min(changes) if changes else None


def _skipped(heartbeat: Mapping[str, Any] | None, helpdesk: str = "") -> list[Unreadable]:
    """The tickets the watcher could not mirror safely: unreadable data, by id."""
    listed = (heartbeat or {}).get("skipped")
    if not listed:
        return []
    if not isinstance(listed, list):
        return [Unreadable("_watcher.json", None, "its list of skipped tickets is malformed", helpdesk)]
    found = []
    for item in listed[:1000]:
        item = item if isinstance(item, dict) else {}
        ticket_id = item.get("id")
        ticket_id = ticket_id if is_id(ticket_id) else None
        reason = "skipped by the watcher: " + _text(item.get("reason") or "unknown reason")
        found.append(Unreadable(f"{ticket_id}.json" if ticket_id is not None else "_watcher.json", ticket_id, reason,
                                helpdesk))
    return found


def _id_of(name: str) -> int | None:
    stem = name.partition(".")[0]
    return int(stem) if stem.isdigit() and len(stem) < 20 else None


def _reason(error: BaseException) -> str:
    if isinstance(error, OverflowError):
        return "a date is out of range"
    return _text(f"{type(error).__name__}: {error}")


def _text(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else repr(value)[:limit]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _person(names: Mapping[int, str], key: Any, fallback: str | None) -> str | None:
    if key is None:
        return None
    name = names.get(key)
    if name is None and fallback:
        return f"{fallback} {key}"
    return name


@lru_cache(maxsize=20_000)
def _iso(moment: datetime) -> str:
    return timefmt.format(moment)


class LiveBoard:
    """The board as a reader follows it: every helpdesk folder kept live, judged as one.

    The dashboard, the light and the alerts each hold one; each decides for itself what a
    verdict that raises means to it (always: ``error``).
    """

    def __init__(self, config: Config, rescan_seconds: float, status_files: dict[str, Path] | None = None) -> None:
        # Every reader judges with the dashboard's acks.
        self.folder = Folders(config, rescan_seconds, {"acks": config.gui.acks_file, **(status_files or {})})
        self.judge = Judge(BoardRules.from_config(config))

    def follow(self, on_change: Callable[[], None] | None = None) -> None:
        """Keep the folders current from now on (until `stop`), calling *on_change* after each change."""
        self.folder.on_change = on_change
        self.folder.start()

    def look(self) -> None:
        """Read the folders once, without following them (a ``--once`` run)."""
        self.folder.rescan()

    def stop(self) -> None:
        self.folder.stop()

    def verdict(self, now: datetime, keep: Keep = everything, agent: int | None = None) -> Verdict:
        return self.judge.verdict(self.folder.view(), now, keep, agent)
