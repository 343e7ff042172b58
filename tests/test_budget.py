"""The account's budget across cycles and restarts: a 429's Retry-After holds every call until it passes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ticketdash import config as configuration
from ticketdash.store import TicketStore
from tests.helpers import run_module
from tests.fakefs import FakeFreshservice
from watcher.daemon import Watcher, make_source


def beat_of(config: Path) -> dict:
    return json.loads((config.parent.parent / "tickets" / "_watcher.json").read_text())


def held_for(beat: dict) -> timedelta:
    until = datetime.fromisoformat(beat["rate_limited_until"].replace("Z", "+00:00"))
    return until - datetime.now(timezone.utc)


@pytest.mark.parametrize("retry_after, hold", [(3600, 3600), (99_999_999, 3600)])
def test_a_long_retry_after_holds_every_call_across_restarts(fake: FakeFreshservice, make_config, retry_after: int,
                                                             hold: int) -> None:
    fake.add_ticket(id=1)
    fake.fault("status", "tickets", status=429, retry_after=retry_after)
    config = make_config()
    first = run_module("watcher", "--config", str(config), "--once")
    beat = beat_of(config)
    assert first.returncode == 1
    assert beat["last_error"].startswith("rate limited by Freshservice until ") and beat["last_success_at"] is None
    assert timedelta(seconds=hold - 60) < held_for(beat) <= timedelta(seconds=hold)
    calls = len(fake.requests)
    again = run_module("watcher", "--config", str(config), "--once")  # a restart: still held, no call made
    assert again.returncode == 1 and len(fake.requests) == calls
    assert beat_of(config)["last_error"] == beat["last_error"]


def test_a_hold_outlasting_the_cycle_spends_no_call_in_the_next_cycles(fake: FakeFreshservice, make_config) -> None:
    fake.add_ticket(id=1)
    fake.fault("status", "tickets", status=429, retry_after=3000)
    config = configuration.load(make_config(), environ={})
    store = TicketStore(config.paths.tickets)
    store.folder.mkdir(parents=True)
    watcher = Watcher(config, store, make_source(config, lambda s: None))
    assert [watcher.run_cycle() for _ in range(5)] == [False] * 5
    assert len(fake.requests) == 1
    assert "rate limited by Freshservice until" in watcher.heartbeat["last_error"]


def test_a_429_without_retry_after_waits_a_minute_and_says_so_from_the_first_cycle(fake: FakeFreshservice,
                                                                                   make_config) -> None:
    fake.add_ticket(id=1)
    fake.fault("status", "tickets", status=429, retry_after=None)
    config = make_config(watcher={"cycle_timeout_seconds": 10})
    result = run_module("watcher", "--config", str(config), "--once")
    beat = beat_of(config)
    assert result.returncode == 1 and beat["last_error"].startswith("rate limited by Freshservice until ")
    assert timedelta(seconds=50) < held_for(beat) <= timedelta(seconds=60)


def test_a_hold_that_passed_is_forgotten(fake: FakeFreshservice, make_config) -> None:
    fake.add_ticket(id=1)
    config = make_config()
    folder = config.parent.parent / "tickets"
    folder.mkdir()
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (folder / "_watcher.json").write_text(json.dumps({"rate_limited_until": past, "account": fake.base_url + "/api/v2"}))
    assert run_module("watcher", "--config", str(config), "--once").returncode == 0
    assert beat_of(config)["rate_limited_until"] is None and (folder / "1.json").exists()


def test_an_empty_active_set_while_tickets_are_known_keeps_them_and_fails_the_cycle(fake: FakeFreshservice,
                                                                                    make_config) -> None:
    def ago(hours: int) -> str:
        return (datetime.now(timezone.utc) - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")

    for n in range(1, 31):
        fake.add_ticket(id=n, created_at=ago(3))  # unchanged since: only the reconcile lists them
    fake.add_ticket(id=31, created_at=ago(2))  # the newest change: the cursor
    config = make_config()
    assert run_module("watcher", "--config", str(config), "--once").returncode == 0

    def nonsense(path: str, query: dict, answer: tuple) -> tuple:
        if path.endswith("/tickets/filter"):
            return 200, {"tickets": [], "total": 0}, {}, 1
        return answer

    fake.twist = nonsense  # a restart reconciles: the filter says nothing is active
    result = run_module("watcher", "--config", str(config), "--once")
    beat = beat_of(config)
    folder = config.parent.parent / "tickets"
    assert result.returncode == 1
    assert beat["last_error"].startswith("the active-set listing is not coherent: it left out 30 of 31 known")
    assert {int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit()} == set(range(1, 32))
    assert not (folder / "archive").exists() or not list((folder / "archive").rglob("*.json"))


def _restart_calls(fake: FakeFreshservice, tmp_path: Path) -> tuple[int, Path]:
    """Calls to the ticket endpoints of a restart's reconcile, after a first sync."""
    from tests.test_sync import make_syncer, on_disk

    first = make_syncer(fake, tmp_path)
    first.cycle()
    fake.requests.clear()
    again = make_syncer(fake, tmp_path)  # a new process on the same folder
    again.cursor = first.cursor
    result = again.cycle()
    assert result.full and on_disk(again) == {i for i, t in fake.tickets.items() if t["status"] in (2, 3, 6)}
    assert not again.unconfirmed
    return len(fake.calls_to("tickets")), tmp_path


@pytest.mark.parametrize("cap", [40, 10])
def test_a_big_helpdesk_reconciles_at_the_cost_of_its_active_set(fake: FakeFreshservice, tmp_path: Path,
                                                                  cap: int) -> None:
    """More active tickets than one filter query pages to (its cap learned from the pages it refuses):
    the filter is sliced by creation date, and the history is never listed. The benchmark measures
    1,500 among 30,000 and 5,000 among 100,000."""
    fake.populate(4_000, 1_300, requesters=20)  # 1,300 > 40 pages of 30 > 10 pages of 30
    fake.filter_max_pages = cap
    calls, _ = _restart_calls(fake, tmp_path)
    assert not [q for q in fake.calls_to("tickets") if q.get("updated_since", "").startswith("2000")]
    assert calls <= 1_300 // 30 + (20 if cap == 40 else 40), calls
    refused = [q for q in fake.calls_to("tickets/filter") if int(q["page"]) > cap]
    assert len(refused) <= 1  # the one page that taught the source the cap
