"""The demo helpdesk shows every ticket state and board state within 5 minutes."""

from __future__ import annotations

import json

from datetime import datetime, timedelta, timezone
from pathlib import Path

from ticketdash import config as configuration
from ticketdash import rules, states
from ticketdash.board import BoardRules, Judge
from ticketdash.live import LiveFolder
from ticketdash.store import TicketStore
from watcher.daemon import Watcher
from watcher.sources.demo import DemoSource

ROOT = Path(__file__).resolve().parent.parent


class SimulatedTime:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
        self.observers: list = []

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        for observe in self.observers:
            observe()


def board(store: TicketStore, now: datetime, stale_after: float) -> tuple[str, set[str]]:
    live = LiveFolder(store, store.folder)
    live.rescan()
    verdict = Judge(BoardRules(rules.DEFAULT_POLICY, stale_after)).verdict(live.view(), now)
    return verdict.worst, {row.state for row in verdict.rows()}


def test_every_state_appears_within_five_minutes(tmp_path: Path) -> None:
    config = configuration.load(ROOT / "config" / "demo.toml", environ={})
    clock = SimulatedTime()
    store = TicketStore(tmp_path)
    watcher = Watcher(config, store, DemoSource(clock=clock, sleep=clock.sleep), clock=clock)
    boards: dict[str, float] = {}
    tickets: dict[str, float] = {}

    def observe() -> None:
        elapsed = (clock.now - start).total_seconds()
        state, ticket_states = board(store, clock.now, config.stale_after)
        boards.setdefault(state, elapsed)
        for s in ticket_states:
            tickets.setdefault(s, elapsed)

    start = clock.now
    clock.observers.append(observe)
    while clock.now - start < timedelta(minutes=5):
        watcher.run_cycle()
        observe()
        clock.sleep(config.watcher.interval)

    assert set(tickets) == set(states.TICKET_STATES), tickets
    assert set(boards) == set(states.BOARD_STATES), boards
    assert max(boards.values()) < 300 and max(tickets.values()) < 300
    assert boards["clear"] < 15  # it starts calm


def test_the_demo_keeps_going_round_after_round(tmp_path: Path) -> None:
    clock = SimulatedTime()
    source = DemoSource(clock=clock, sleep=clock.sleep)
    seen = set()
    for _ in range(3 * 300 // 5):
        try:
            seen |= {t["id"] for t in source.tickets(None) if t["status"] not in (4, 5)}
        except Exception:
            pass
        clock.sleep(5)
    assert {101, 102, 103, 104} <= seen and {1001, 1011, 1021} <= seen  # three rounds of new tickets


def test_the_demo_reads_like_a_real_helpdesk_and_holds_fr_overdue_long_enough(tmp_path: Path) -> None:
    from watcher.sources.demo import AGENTS, REQUESTERS

    config = configuration.load(ROOT / "config" / "demo.toml", environ={})
    clock = SimulatedTime()
    store = TicketStore(tmp_path)
    watcher = Watcher(config, store, DemoSource(clock=clock, sleep=clock.sleep), clock=clock)
    start, fr_overdue, texts = clock.now, 0.0, set()
    while clock.now - start < timedelta(minutes=5):
        watcher.run_cycle()
        _, states = board(store, clock.now, config.stale_after)
        fr_overdue += config.watcher.interval if "fr_overdue" in states else 0
        records = [json.loads(data) for data in store.read_raw().values()]
        texts |= {t.get("subject", "") + t.get("description_text", "") for t in records}
        clock.sleep(config.watcher.interval)
    assert fr_overdue >= 60  # a visitor sees the worst state, not a 25-second flash
    for text in texts | set(AGENTS.values()) | set(REQUESTERS.values()):
        assert not set(text) & set("<>\u202a\u202b\u202c\u202d\u202e"), text


def test_the_demo_resolves_tickets_so_its_weekly_summary_has_figures(tmp_path: Path) -> None:
    from ticketdash import summary

    config = configuration.load(ROOT / "config" / "demo.toml", environ={})
    clock = SimulatedTime()
    store = TicketStore(tmp_path)
    watcher = Watcher(config, store, DemoSource(clock=clock, sleep=clock.sleep), clock=clock)
    start = clock.now
    while clock.now - start < timedelta(minutes=1):  # a visitor's first minute
        watcher.run_cycle()
        clock.sleep(config.watcher.interval)
    week = summary.weekly([store], clock.now)
    assert week.closed == 6 and week.first_response[0] is not None
    assert [round(s / 3600) for s in week.resolution] == [14, 30]  # median and 90th percentile, in hours
    assert week.breaches == 3 and sum(1 for _, n in week.daily_breaches if n) >= 2  # bars on several days
    while clock.now - start < timedelta(minutes=6):  # and the rounds add their own
        watcher.run_cycle()
        clock.sleep(config.watcher.interval)
    week = summary.weekly([store], clock.now)
    assert week.closed >= 9 and week.breaches >= 4
    assert not any(t["age"] == "0 days" for t in week.oldest)  # a new ticket is minutes old
    assert week.oldest[0]["age"] == "3 days"  # the printer ticket, the oldest open one
