"""Watching the board and telling people: transitions -> routes -> outbox -> channels.

Each step judges the tickets/ folder with the same board module as the page
and the light, compares every ticket's state (and the board's health) with
what the database last saw, and queues a message per route and channel for
each transition a route asks for. Seeing and queueing happen in one SQLite
transaction, so a crash or a restart neither repeats nor loses one. The
outbox is then delivered; a failed delivery stays and is retried with backoff.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from ticketdash import board, links, summary, timefmt
from ticketdash.acks import ACKABLE
from ticketdash.board import LiveBoard, Row, Verdict
from ticketdash.config import Config
from ticketdash.settings import WEEKDAYS, ViewSettings
from ticketdash.daemon import WakeLoop, write_status
from ticketdash.timefmt import Window, quiet_hours_end
from alerts import messages
from alerts.channels import Bot, Channels, shown
from alerts.state import KEEP_SENT_DAYS, State


def button_for(dedupe: str) -> dict[str, Any] | None:
    """The "On it" button of a queued ticket message (its key: route|index|ticket:[helpdesk:]id|state|at);
    None for anything else (the board, a digest, a reminder) or a state nobody acknowledges."""
    parts = dedupe.rsplit("|", 3)
    if len(parts) != 4 or not parts[1].startswith("ticket:") or parts[2] not in ACKABLE:
        return None
    ref = parts[1].split(":")[1:]
    helpdesk, number = (ref[0], ref[1]) if len(ref) == 2 else ("", ref[0])
    return {"ticket": int(number), "helpdesk": helpdesk, "state": parts[2]} if number.isdigit() else None

logger = logging.getLogger(__name__)

BOARD = "board"
IDLE_WAKE_SECONDS = 60.0  # reminders, the summary and clock jumps are noticed at least this often


@dataclass(frozen=True)
class Route:
    name: str
    urls: tuple[str, ...]
    states: frozenset[str]
    priorities: frozenset[int]
    groups: frozenset[int]
    views: tuple[ViewSettings, ...]
    quiet: Window | None
    recovered: bool

    def matches(self, row: Row) -> bool:
        ticket = row.ticket
        return ((not self.priorities or row.priority in self.priorities)
                and (not self.groups or ticket.group_id in self.groups)
                and (not self.views or any(view.matches(ticket) for view in self.views)))


def seen_key(helpdesk: str, ticket_id: int) -> str:
    """What the database calls a ticket: ids repeat across helpdesks (one helpdesk keeps the old form)."""
    return f"ticket:{helpdesk}:{ticket_id}" if helpdesk else f"ticket:{ticket_id}"


def routes_of(config: Config) -> list[Route]:
    """The configured routes, as the daemon matches rows against them (the configuration checked them)."""
    return [Route(r.name, config.alert_urls[r.name], frozenset(r.states), frozenset(r.priorities), frozenset(r.groups),
                  tuple(config.all_views[v] for v in r.views), r.quiet_hours, r.recovered) for r in config.routes]


class Alerts(WakeLoop):
    def __init__(self, config: Config, state: State, clock: Callable[[], datetime] = timefmt.now,
                 bot: Bot | None = None) -> None:
        super().__init__(settle_seconds=0.1)
        self.config = config
        self.state = state
        self.routes = routes_of(config)
        self.by_name = {r.name: r for r in self.routes}
        self.agent_urls = config.agent_urls
        self.clock = clock
        self.board = LiveBoard(config, config.alerts.rescan_seconds)
        self.channels = Channels(config.alerts.channel_interval_seconds, wait=self.stopping.wait, bot=bot)
        self.recent: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self.status: dict[str, Any] = {}
        self.seen = state.seen()  # a copy of the table: this daemon is its only writer
        self.pruned_at = float("-inf")
        self.link_secret: bytes | None = None

    # -- life cycle ------------------------------------------------------

    def start(self, watch: bool = True) -> None:
        if watch:
            self.board.follow(self.wake)
        else:
            self.board.look()

    def close(self) -> None:
        self.board.stop()
        self.state.close()

    def turn(self) -> float:
        """A step on every change, at every time-driven change, and when a retry is due."""
        wake_at = self.step()
        timeout = max(0.05, (wake_at - self.clock()).total_seconds()) if wake_at else IDLE_WAKE_SECONDS
        return min(timeout, IDLE_WAKE_SECONDS)

    def step(self) -> datetime | None:
        """Judge, queue what is new, deliver what is due; the next moment a step is needed."""
        now = self.clock()
        try:
            verdict = self.board.verdict(now)
        except Exception as error:  # fail closed: judging failed is the board in error
            logger.exception("judging the board failed")
            verdict = board.failed(now, f"internal error while judging: {type(error).__name__}")
        self.observe(verdict, now)
        self.scheduled(verdict, now)
        self.deliver()
        self.write_status()
        moments = [m for m in (verdict.valid_until, self.state.next_due()) if m is not None]
        return min(moments) if moments else None

    # -- transitions -----------------------------------------------------

    def observe(self, verdict: Verdict, now: datetime) -> None:
        """Compare with what was last seen; queue a message for each transition a route wants."""
        seen = self.seen
        current: dict[str, tuple[str, Row | None]] = {seen_key(row.ticket.helpdesk, row.id): (row.state, row)
                                                      for row in verdict.rows()}
        current[BOARD] = (verdict.status, None)
        unreadable = {seen_key(u.helpdesk, u.id) for u in verdict.unreadable if u.id is not None}
        queued: dict[str, list[tuple[str, str, str]]] = collections.defaultdict(list)
        changed: dict[str, tuple[str, str]] = {}
        with self.state.transaction():
            for key, (state, row) in current.items():
                previous = seen.get(key, (None, ""))[0]
                if previous == state:
                    continue
                self.state.record(key, state, previous, now)
                self.state.set_seen(key, state, now)
                changed[key] = (state, timefmt.format(now))
                event = f"{key}|{state}|{timefmt.format(now)}"
                for route in self.routes:
                    message = self._message(route, key, state, previous, row, verdict)
                    if message:
                        queued[route.name].append((event, *message))
            for row in verdict.rows():  # someone is on it: said once, to the routes that alerted its state
                if row.ack is None:
                    continue
                key, mark = "ack:" + seen_key(row.ticket.helpdesk, row.id), f"{row.ack.by}|{timefmt.format(row.ack.at)}"
                if seen.get(key, (None, ""))[0] == mark:
                    continue
                self.state.set_seen(key, mark, now)
                changed[key] = (mark, timefmt.format(now))
                for route in self.routes:
                    if row.state in route.states and route.matches(row):
                        queued[route.name].append((f"{key}|{mark}", *messages.ack_message(row)))
            gone = [k for k in seen if (k.startswith("ticket:") and k not in current and k not in unreadable)
                    or (k.startswith("ack:") and k[4:] not in current and k[4:] not in unreadable)]
            self.state.forget(gone)
            for name, items in queued.items():
                self._queue(self.by_name[name], items, now)
        self.seen.update(changed)  # only once the transaction holds
        for key in gone:
            self.seen.pop(key, None)

    def _message(self, route: Route, key: str, state: str, previous: str | None, row: Row | None,
                 verdict: Verdict) -> tuple[str, str] | None:
        if row is None:  # the board: is the wall blind?
            if state in route.states:
                return messages.board_message(state, verdict.reason, age=verdict.data_age_seconds())
            if route.recovered and previous in route.states and state == "ok":
                return messages.board_message(state, "", recovered=True)
            return None
        if not route.matches(row):
            return None
        if state in route.states:
            return messages.ticket_message(row, state, link=self._ack_link(row, state))
        if route.recovered and previous in route.states and verdict.status == "ok":
            return messages.ticket_message(row, state, recovered_from=previous)
        return None

    def _ack_link(self, row: Row, state: str) -> str | None:
        """A signed link that acknowledges this ticket in this state, when [gui] public_url says where the
        dashboard is and its signing secret can be read (it makes one at its first start)."""
        public = self.config.gui.public_url
        if not public:
            return None
        if self.link_secret is None:
            self.link_secret = links.read_secret(links.secret_file(self.config.gui.database))
        if self.link_secret is None:
            return None
        return links.ack_link(public, self.link_secret, row.ticket.helpdesk, row.id, state, self.clock())

    def _queue(self, route: Route, items: list[tuple[str, str, str]], now: datetime) -> None:
        """Each message to each of the route's channels; a flood becomes one digest."""
        window = self.recent[route.name]
        moment = time.monotonic()
        while window and window[0] < moment - 60:
            window.popleft()
        if len(items) > 1 and len(window) + len(items) > self.config.alerts.burst:
            digest_key = hashlib.sha256("".join(e for e, _, _ in items).encode()).hexdigest()[:16]
            items = [(f"digest|{digest_key}", *messages.digest([(t, b) for _, t, b in items]))]
        window.extend([moment] * len(items))
        not_before = quiet_hours_end(route.quiet, now) or now
        for event, title, body in items:
            self._to_channels(route, event, title, body, now, not_before)

    def _to_channels(self, route: Route, event: str, title: str, body: str, now: datetime,
                     not_before: datetime) -> None:
        for index in range(len(route.urls)):
            self.state.enqueue(f"{route.name}|{index}|{event}", route.name, f"route:{route.name}:{index}", title, body,
                               now, not_before)

    # -- reminders and the weekly summary ---------------------------------

    def scheduled(self, verdict: Verdict, now: datetime) -> None:
        local = now.astimezone()
        r = self.config.reminders
        if (r.route or self.agent_urls) and self._due("reminders", r.time, r.days, local):
            self._remind(verdict, now)
        s = self.config.summary
        if s.route and self._due("summary", s.time, [s.day], local):
            title, body = summary.text(summary.weekly(self.board.folder.stores, now, self.board.judge.rules.policy), messages.clean)
            alerted = sum(1 for _, state, _, _ in self.state.events(now - summary.WEEK, now)
                          if state in board.BREACHED)
            body += f"\nBreaches alerted this week (this daemon's own history): {alerted}"
            self._send_to(self.by_name[s.route], f"summary|{local.date()}", title, body, now)

    def _due(self, name: str, at: str, days: list[str], local: datetime) -> bool:
        """Whether *name* is due now: a configured day, past its time, not yet sent today."""
        hour, _, minute = at.partition(":")
        if WEEKDAYS[local.weekday()] not in days or (local.hour, local.minute) < (int(hour), int(minute or 0)):
            return False
        last = self.state.mark(name)
        if last is not None and last.astimezone().date() == local.date():
            return False
        with self.state.transaction():
            self.state.set_mark(name, local)
        return True

    def _remind(self, verdict: Verdict, now: datetime) -> None:
        wanted = set(self.config.reminders.states)
        by_agent: dict[int | None, list[Row]] = collections.defaultdict(list)
        for row in verdict.rows():
            if row.state in wanted and row.ack is None:  # no reminder for what someone is on
                by_agent[row.ticket.agent_id].append(row)
        day = now.astimezone().date()
        shared = []
        for agent, rows in sorted(by_agent.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
            name = messages.clean(rows[0].agent, 60) or (f"Agent {agent}" if agent else "Unassigned")
            if agent in self.agent_urls:
                title, body = messages.reminder([(name, rows)])
                with self.state.transaction():
                    self.state.enqueue(f"reminder|{day}|agent {agent}", "reminders", f"agent:{agent}",
                                       title, body, now, now)
            else:
                shared.append((name, rows))
        route = self.by_name.get(self.config.reminders.route)
        if route is not None:
            self._send_to(route, f"reminder|{day}", *messages.reminder(shared), now)

    def _send_to(self, route: Route, event: str, title: str, body: str, now: datetime) -> None:
        with self.state.transaction():
            self._to_channels(route, event, title, body, now, now)

    # -- delivery --------------------------------------------------------

    def deliver(self) -> None:
        """Send what is due; a failure waits (with backoff) without holding up the other channels."""
        for message in self.state.due(self.clock()):
            if self.stopping.is_set():
                return
            url = self.channel_url(message.channel)
            if url is None:
                logger.warning("dropped a message to %s: its channel (%s) is no longer configured: %s",
                               message.route, message.channel, message.title)
                self.state.drop(message.id)
                continue
            error = self.channels.send(url, message.title, message.body, button_for(message.dedupe))
            now = self.clock()
            if error is None:
                self.state.sent(message.id, now)
                logger.info("sent to %s (%s): %s", message.route, shown(url), message.title)
                continue
            pause = min(self.config.alerts.retry_max_seconds, 2.0 ** message.attempts)
            self.state.failed(message.id, now, error, now + timedelta(seconds=pause))
            logger.warning("delivery to %s (%s) failed, retry in %.0f s: %s", message.route, shown(url),
                           pause, error)
        if time.monotonic() - self.pruned_at > 3600:
            self.pruned_at = time.monotonic()
            self.state.prune(self.clock() - timedelta(days=KEEP_SENT_DAYS))

    def channel_url(self, channel: str) -> str | None:
        """The URL a queued message's reference names in the configuration now; None when it is gone."""
        kind, _, rest = channel.partition(":")
        if kind == "route":
            name, _, index = rest.rpartition(":")
            route = self.by_name.get(name)
            return route.urls[int(index)] if route and index.isdigit() and int(index) < len(route.urls) else None
        if kind == "agent":
            return self.agent_urls.get(int(rest)) if rest.lstrip("-").isdigit() else None
        return channel if "://" in channel else None  # queued before references: its own URL

    def write_status(self) -> None:
        """What the wall shows of the alerts: the last message out, and deliveries that keep failing."""
        last = self.state.last_sent()
        status = {
            "pid": os.getpid(),
            "routes": len(self.routes),
            "last_sent_at": timefmt.format(last) if last else None,
            "failing": [{"route": route, "since": since, "error": error, "waiting": waiting}
                        for route, since, error, waiting in self.state.failing()],
        }
        if status != self.status:
            self.status = status
            write_status(self.config.alerts.status_file, status)
