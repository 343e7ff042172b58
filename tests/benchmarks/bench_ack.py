"""Acknowledging: ack -> light change, ack -> the page's board, and the board after a change with 10,000 audit entries.

Real processes: ``python -m gui`` (waitress) and ``python -m blinky`` with
the fake hid module, on 1,000 tickets with one breach; the acks go through
``POST /api/ack`` and ``DELETE /api/ack`` with an operator's bearer token,
as a program would send them. "ack -> page" is until ``/api/board`` (what
the page polls) carries the ack; the page itself asks every ``refresh_seconds``.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import requests

from tests.benchmarks.common import latency, median, quiet_helpdesk, stop_and_peak_rss_mb, table
from tests.helpers import FakeLights, GuiServer, iso_in, put_ticket, run_module, start_module, ticket, wait_for

TICKETS = 1_000
ACKS = 40
AUDIT = 10_000
STROBE_RED = bytes.fromhex("00 03 ff ff 00 00 14 00 00")
STEADY_RED = bytes.fromhex("00 01 ff ff 00 00 00 00 00")


def main() -> str:
    root = Path(tempfile.mkdtemp(prefix="bench-ack-"))
    server = GuiServer(root / "site", blinky={"device": "luxafor"}, gui={"refresh_seconds": 2})
    folder = server.tickets
    folder.rmdir()
    quiet_helpdesk(server.tickets.parent, TICKETS)
    put_ticket(folder, ticket(TICKETS + 1, subject="The breach", due_by=iso_in(minutes=-10)))
    token = run_module("gui", "operators", "add", "Ada Lovelace", "--config", str(server.config)).stdout.split()[-1]
    lights = FakeLights(root / "hid")
    lights.plug()
    log = lights.root / "writes.jsonl"
    server.start()
    blinky = start_module("blinky", "--config", str(server.config), env=lights.env())
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    body = {"ticket": TICKETS + 1}
    try:
        wait_for(lambda: lights.writes() and lights.writes()[-1] == STROBE_RED, 60, "the breach strobing")
        to_light, to_page = [], []
        for i in range(ACKS):
            acking = i % 2 == 0
            before = log.stat().st_size
            expected = STEADY_RED if acking else STROBE_RED
            page: list[float] = []
            began = time.perf_counter()
            answer = (session.post if acking else session.delete)(server.url + "/api/ack", json=body, timeout=5)
            assert answer.status_code == 200, answer.text
            watcher = threading.Thread(target=_watch_page, args=(server.url, token, acking, began, page))
            watcher.start()
            wait_for(lambda b=before, e=expected: log.stat().st_size > b and lights.writes()[-1] == e, 10, "the light")
            to_light.append(time.perf_counter() - began)
            watcher.join(timeout=10)
            to_page.append(page[0])
            time.sleep(0.05)
        on_screen = _page_in_chromium(server.url, session, body)
        database = server.config.parent.parent / "dashboard-tickets" / "dashboard.sqlite3"
        board_ms = _board_after_change(server.config, folder)
        with sqlite3.connect(database) as db:
            db.executemany("INSERT INTO audit (at, who, action, target, address, result) VALUES (?, ?, ?, ?, ?, ?)",
                           [("2026-12-03T00:00:00Z", "bench", "ack", f"#{n}", "127.0.0.1", "ok") for n in range(AUDIT)])
        board_ms_audit = _board_after_change(server.config, folder)
    finally:
        status, peak = stop_and_peak_rss_mb(blinky, signal.SIGTERM)
        server.stop()
    rows = [
        [f"ack or clear -> light write ({ACKS}, {TICKETS:,} tickets)", latency(to_light), "median <= 300 ms"],
        ["ack or clear -> /api/board shows it", latency(to_page), ""],
        [f"ack or clear -> the wall page in Chromium ({len(on_screen)}, refresh 2 s)", latency(on_screen), "median <= 2 s"],
        [f"board rebuilt after a change, {TICKETS:,} tickets", f"median {board_ms:.1f} ms", "<= 50 ms"],
        [f"the same with {AUDIT:,} audit entries", f"median {board_ms_audit:.1f} ms", "<= 50 ms"],
        [f"blinky peak RSS (exit {status})", f"{peak:.1f} MB", ""],
    ]
    return table("Acknowledging (python -m gui and python -m blinky, fake hid)", ["what", "measured", "target"], rows)


def _watch_page(url: str, token: str, acked: bool, began: float, out: list[float]) -> None:
    """Poll /api/board as fast as it answers until it shows the ack (or its end)."""
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        while time.perf_counter() - began < 10:
            board = session.get(url + "/api/board", timeout=5).json()
            if any(t["ack"] for s in board["sections"] for t in s["tickets"]) == acked:
                out.append(time.perf_counter() - began)
                return


def _page_in_chromium(url: str, session: requests.Session, body: dict[str, int], rounds: int = 12) -> list[float]:
    """Ack and clear while Debian's Chromium shows the wall: until the row says so (or stops saying so)."""
    from playwright.sync_api import sync_playwright

    from tests.helpers import CHROMIUM_ARGS

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(url)
        row = f"tr[data-id='{body['ticket']}']"
        page.wait_for_selector(row)
        for i in range(rounds):
            acking = i % 2 == 0
            began = time.perf_counter()
            (session.post if acking else session.delete)(url + "/api/ack", json=body, timeout=5)
            page.wait_for_selector(f"{row}.acked" if acking else f"{row}:not(.acked)", timeout=10_000)
            times.append(time.perf_counter() - began)
            time.sleep(0.2 + random.random() * 2)  # at any moment of the page's 2 s poll, not always the same
        browser.close()
    return times


def _board_after_change(config_file: Path, folder: Path, rounds: int = 20) -> float:
    """Median ms to rebuild the board (verdict and JSON) after one ticket changed, in this process."""
    from ticketdash import config
    from gui import create_app

    app = create_app(config.load(config_file))
    site = app.extensions["ticketdash"]
    times = []
    try:
        site.board.rendered()
        for n in range(rounds):
            put_ticket(folder, ticket(1, subject=f"changed {n}", due_by=iso_in(days=3)))
            site.folder.rescan()
            began = time.perf_counter()
            site.board.rendered()
            times.append((time.perf_counter() - began) * 1000)
    finally:
        site.folder.stop()
    return median(times)


if __name__ == "__main__":
    print(main())
