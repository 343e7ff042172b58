"""One verdict: the page's JSON, /healthz, /metrics and the light agree on every kind of folder.

Each case is a tickets/ folder (clean, each ticket state, stale, error, each
kind of unreadable file) run through all four readers.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Callable

import pytest

from ticketdash import rules, timefmt
from ticketdash.board import BoardRules, Judge
from ticketdash.live import LiveFolder
from ticketdash.store import TicketStore
from blinky.daemon import FolderSource
from tests.helpers import iso_in, put_ticket, ticket, write_heartbeat

NOT_RESPONDED = {"first_responded_at": None, "agent_responded_at": None}


def deep(levels: int) -> bytes:
    return b'{"id": 5, "status": 2, "x": ' + b"[" * levels + b"]" * levels + b"}"


def raw(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(data)


def fifo(name: str) -> Callable[[Path], None]:
    return lambda folder: os.mkfifo(folder / name)


def odd(**fields: Any) -> Callable[[Path], None]:
    """Ticket 5 with odd field values, written as the bytes a broken writer would leave."""
    data = ticket(5, **fields)
    return raw("5.json", json.dumps(data).encode())


def beat(**fields: Any) -> Callable[[Path], None]:
    return lambda folder: write_heartbeat(folder, **fields)


# (case, tickets, damage, worst, health status)
CASES = [
    ("clean", [ticket(1)], None, "clear", "ok"),
    ("empty", [], None, "clear", "ok"),
    ("fr_overdue", [ticket(1, fr_due_by=iso_in(minutes=-5), stats=NOT_RESPONDED)], None, "fr_overdue", "ok"),
    ("overdue", [ticket(1, due_by=iso_in(minutes=-5))], None, "overdue", "ok"),
    ("critical", [ticket(1, due_by=iso_in(hours=2))], None, "critical", "ok"),
    ("warning", [ticket(1, due_by=iso_in(hours=8))], None, "warning", "ok"),
    ("attention", [ticket(1, stats={"requester_responded_at": iso_in(minutes=-1)})], None, "attention", "ok"),
    ("paused", [ticket(1, status=3, due_by=iso_in(minutes=-5))], None, "clear", "ok"),
    ("stale", [ticket(1, due_by=iso_in(minutes=-5))], beat(last_success_at=iso_in(minutes=-10)), "stale", "stale"),
    ("sync failed", [ticket(1)], beat(last_error="HTTP 500"), "error", "error"),
    ("no heartbeat", [ticket(1)], lambda f: (f / "_watcher.json").unlink(), "stale", "stale"),
    ("heartbeat in the future", [ticket(1)], beat(last_success_at=iso_in(hours=2)), "stale", "stale"),
    ("heartbeat garbage", [ticket(1)], raw("_watcher.json", b"{not json"), "error", "error"),
    ("heartbeat nested 100,000 deep", [ticket(1)], raw("_watcher.json", deep(100_000)), "error", "error"),
    ("heartbeat is a FIFO", [ticket(1)], lambda f: ((f / "_watcher.json").unlink(), os.mkfifo(f / "_watcher.json")),
     "error", "error"),
    ("half a file", [ticket(1)], raw("5.json", b'{"id": 5, "subj'), "error", "error"),
    ("invalid UTF-8", [ticket(1)], raw("5.json", b'{"id": 5, "subject": "\xff\xfe"}'), "error", "error"),
    ("nested 100,000 deep", [ticket(1)], raw("5.json", deep(100_000)), "error", "error"),
    ("a FIFO", [ticket(1)], fifo("7110.json"), "error", "error"),
    ("a folder", [ticket(1)], lambda f: (f / "7111.json").mkdir(), "error", "error"),
    ("another ticket's id", [ticket(1)], raw("6.json", json.dumps(ticket(5)).encode()), "error", "error"),
    ("status a list", [ticket(1)], odd(status=[2]), "error", "error"),
    ("status a bool", [ticket(1)], odd(status=True), "error", "error"),
    ("responder a list", [ticket(1)], odd(responder_id=[1]), "error", "error"),
    ("group an object", [ticket(1)], odd(group_id={"id": 1}), "error", "error"),
    ("due beyond 9999 in UTC", [ticket(1)], odd(due_by="9999-12-31T23:00:00-05:00"), "error", "error"),
    ("due not a date", [ticket(1)], odd(due_by="next tuesday"), "error", "error"),
    ("first response garbage", [ticket(1)], odd(stats={"first_responded_at": "garbage"}), "error", "error"),
    ("updated 9999-12-31", [ticket(1)], odd(updated_at="9999-12-31T23:59:59Z"), "error", "error"),
    ("skipped by the watcher", [ticket(1)], beat(skipped=[{"id": 77, "reason": "nested too deep"}]), "error", "error"),
]


@pytest.fixture
def judged(board_env):
    """Judge a folder with every reader: (board JSON, /healthz, /metrics, the light's decision)."""
    def run(tickets: list[dict[str, Any]], damage: Callable[[Path], None] | None) -> tuple[Any, ...]:
        folder = board_env.tickets
        for t in tickets:
            put_ticket(folder, t)
        if damage:
            damage(folder)
        client = board_env.client()
        page = client.get("/api/board").get_json()
        health = client.get("/healthz")
        metrics = client.get("/metrics").get_data(as_text=True)
        config = board_env.config()
        source = FolderSource(config, config.all_views["all"], None)
        source.start(None)
        light = source.decide(timefmt.now())
        return page, health, metrics, light

    return run


@pytest.mark.parametrize("case, tickets, damage, worst, status", CASES, ids=[c[0] for c in CASES])
def test_every_reader_agrees(judged, case: str, tickets, damage, worst: str, status: str) -> None:
    page, health, metrics, light = judged(tickets, damage)
    assert page["worst"] == worst
    assert page["health"]["status"] == status and page["stale"] is (status != "ok")
    assert health.get_json()["status"] == status and health.get_json()["worst"] == worst
    assert health.status_code == (200 if status == "ok" else 503)
    assert re.search(rf'^ticketdash_board_state{{state="{worst}"}} 1\.0$', metrics, re.M)
    assert re.search(rf'^ticketdash_data_status{{state="{status}"}} 1\.0$', metrics, re.M)
    assert light.state == worst
    shown = [t["id"] for s in page["sections"] for t in s["tickets"]]
    assert shown == [t["id"] for t in tickets]  # what can be read is still shown
    if status != "ok":
        assert page["health"]["reason"] and light.reason


UNREADABLE = [c for c in CASES if c[0] in (
    "half a file", "invalid UTF-8", "nested 100,000 deep", "a FIFO", "status a list", "responder a list",
    "group an object", "due beyond 9999 in UTC", "first response garbage", "updated 9999-12-31",
    "skipped by the watcher")]


@pytest.mark.parametrize("case, tickets, damage, worst, status", UNREADABLE, ids=[c[0] for c in UNREADABLE])
def test_an_unreadable_ticket_is_named_by_id_with_its_reason(judged, case, tickets, damage, worst, status) -> None:
    page, health, metrics, _ = judged(tickets, damage)
    (listed,) = page["unreadable"]
    assert listed["id"] in (5, 7110, 77) and listed["reason"]
    assert str(listed["id"]) in page["health"]["reason"]
    assert health.get_json()["unreadable"] == 1
    assert "ticketdash_unreadable_tickets 1.0" in metrics


def test_overdue_beside_an_odd_ticket_is_still_counted(judged) -> None:
    page, _, metrics, light = judged([ticket(1, due_by=iso_in(minutes=-5))], odd(status=[2]))
    assert page["counts"]["overdue"] == 1 and page["breached"] == 1 and page["worst"] == "error"
    assert 'ticketdash_tickets{state="overdue"} 1.0' in metrics
    assert light.state == "error"


def test_a_heartbeat_in_the_future_says_the_clock_looks_wrong(judged) -> None:
    page, *_ = judged([ticket(1)], beat(last_success_at=iso_in(hours=2)))
    assert "clock" in page["health"]["reason"]


def test_an_exception_while_judging_the_board_is_an_error_board_not_a_500(board_env, monkeypatch) -> None:
    put_ticket(board_env.tickets, ticket(1))
    client = board_env.client()
    assert client.get("/api/board").get_json()["worst"] == "clear"
    put_ticket(board_env.tickets, ticket(1, subject="changed"))

    def broken(*args: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Judge, "_verdict", broken)
    from tests.helpers import wait_for

    data = wait_for(lambda: (d := client.get("/api/board").get_json())["worst"] == "error" and d,
                    what="the error board")
    assert data["health"]["status"] == "error" and data["sections"][0]["tickets"] == []
    assert client.get("/healthz").status_code == 503


def test_judge_keeps_rows_until_they_can_change(tmp_path: Path) -> None:
    folder = tmp_path / "tickets"
    folder.mkdir()
    write_heartbeat(folder)
    put_ticket(folder, ticket(1, due_by=iso_in(hours=30)))
    live = LiveFolder(TicketStore(folder), tmp_path)
    live.rescan()
    judge = Judge(BoardRules(rules.DEFAULT_POLICY, stale_after=180))
    now = timefmt.now()
    first = judge.verdict(live.view(), now)
    again = judge.verdict(live.view(), now)
    assert next(first.rows()) is next(again.rows())
    assert first.valid_until is not None and first.valid_until > now


@pytest.mark.parametrize("where", ["_names/agents.txt", "../config/agents.txt"])
def test_a_fifo_for_a_names_file_blocks_no_reader(judged, where: str, board_env) -> None:
    target = board_env.tickets / where
    target.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(target)
    page, health, metrics, light = judged([ticket(1, due_by=iso_in(minutes=-5))], None)
    assert page["worst"] == light.state == "overdue" and health.status_code == 200
    assert page["sections"][0]["tickets"][0]["agent"] is None
