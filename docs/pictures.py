"""The README's pictures of the wall: ``.venv/bin/python docs/pictures.py [--out DIR]``.

Rerun it whenever the page changes. It prepares a tickets folder (a busy
queue of a made-up helpdesk), runs the real dashboard (``python -m gui``) on
it, and photographs it with Debian's Chromium at 1920×1080: dark and light,
one fresh breach, an outage (the wall gone blind), and the desk light's states.
"""

from __future__ import annotations

import argparse
import html
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ticketdash import names, timefmt  # noqa: E402
from ticketdash.lights import DEFAULT_EFFECTS, parse_effect  # noqa: E402
from ticketdash.states import BOARD_STATES, WORDS  # noqa: E402
from ticketdash.store import TicketStore, encode  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PICTURES = ("wall-dark.png", "wall-light.png", "wall-breach.png", "wall-outage.png", "light-states.png")
AGENTS = {11: "Ada Lovelace", 12: "Grace Hopper", 13: "Linus Torvalds", 14: "Margaret Hamilton",
          15: "Alan Turing"}
REQUESTERS = {21: "Carol Jones", 22: "Dave Okafor", 23: "Erin Nakamura", 24: "Frank Müller", 25: "Priya Patel",
              26: "Tom Baker", 27: "Sofia Rossi", 28: "Kenji Sato"}
SUBJECTS = (
    "Outlook keeps asking for my password", "VPN drops every 10 minutes", "New starter: laptop for Monday",
    "Printer on 3rd floor jams on every job", "Cannot open the shared drive", "Teams camera not detected",
    "Reset MFA after phone replacement", "Payroll app shows error 500", "Wi-Fi slow in meeting room B",
    "Request: Adobe Acrobat licence", "Website contact form not sending", "Laptop battery swollen",
    "Access to the finance folder", "Phone system: voicemail not working", "Monitor flickers after docking",
    "Backup job failed overnight", "Mailbox full", "Install Python on build server", "SSL certificate expires Friday",
    "Warehouse scanner will not sync", "Guest Wi-Fi password for visitors", "Excel crashes opening budget.xlsx",
    "CRM login loop", "Move desk phone to room 4.12",
)
# (how many, what makes the state): a queue as a busy Monday morning has it
SPREAD = (("fr_overdue", 2), ("overdue", 2), ("critical", 3), ("warning", 4), ("attention", 3), ("ok", 8),
          ("paused", 2))


def ticket(number: int, state: str, now: datetime) -> dict[str, Any]:
    """A Freshservice-shaped ticket that the rules judge to be in *state* at *now*."""
    hours = {"fr_overdue": -1.5, "overdue": -3, "critical": 2.5, "warning": 8, "attention": 30, "ok": 50 + number,
             "paused": 40}[state]
    created = now - timedelta(hours=26 - number % 7)
    answered = None if state == "fr_overdue" else now - timedelta(hours=5)
    stamp = timefmt.format
    return {
        "id": 4100 + number, "subject": SUBJECTS[number % len(SUBJECTS)], "type": "Incident",
        "status": 3 if state == "paused" else 2, "priority": (4, 3, 2, 2, 1)[number % 5],
        "requester_id": list(REQUESTERS)[number % len(REQUESTERS)],
        "responder_id": list(AGENTS)[number % len(AGENTS)], "group_id": 1, "workspace_id": 2, "source": 1,
        "deleted": False, "spam": False, "created_at": stamp(created), "updated_at": stamp(now - timedelta(minutes=20)),
        "fr_due_by": stamp(now + timedelta(hours=hours) if state == "fr_overdue" else created + timedelta(hours=4)),
        "due_by": stamp(now + timedelta(hours=hours)), "fr_escalated": False, "is_escalated": False,
        "stats": {"first_responded_at": stamp(answered) if answered else None,
                  "agent_responded_at": stamp(answered) if answered else None,
                  "requester_responded_at": stamp(now - timedelta(minutes=12)) if state == "attention" else None,
                  "resolved_at": None, "closed_at": None},
    }


def queue(spread: tuple[tuple[str, int], ...]) -> Iterator[tuple[int, str]]:
    number = 0
    for state, count in spread:
        for _ in range(count):
            number += 1
            yield number, state


def fill(folder: Path, spread: tuple[tuple[str, int], ...], *, blind: bool = False) -> None:
    """The folder as a watcher leaves it: tickets, names and a heartbeat (20 minutes old and failing if *blind*)."""
    for old in folder.glob("*.json"):
        old.unlink()
    store = TicketStore(folder)
    now = datetime.now(timezone.utc)
    for number, state in queue(spread):
        store.write_ticket(4100 + number, encode(ticket(number, state, now)))
    store.names_dir.mkdir(exist_ok=True)
    names.write_discovered(store.names_dir, "agents", AGENTS)
    names.write_discovered(store.names_dir, "requesters", REQUESTERS)
    names.write_discovered(store.names_dir, "groups", {1: "Service Desk"})
    last = now - timedelta(minutes=20) if blind else now
    store.write_heartbeat({"source": "freshservice", "last_success_at": timefmt.format(last),
                           "last_attempt_at": timefmt.format(now),
                           "last_error": "cannot reach acme.freshservice.com (timed out)" if blind else None,
                           "poll_seconds": 60})


def light_states() -> str:
    """A page of the desk light's colours, one per board state, worst first."""
    cells = []
    for state in BOARD_STATES:
        effect = parse_effect(DEFAULT_EFFECTS.get(state, "green"))
        colour = "#%02x%02x%02x" % effect.rgb
        how = "strobes" if effect.strobe else "steady"
        cells.append(f'<figure><div class="bulb{" strobe" if effect.strobe else ""}" style="background:{colour};'
                     f'box-shadow:0 0 60px {colour}"></div><figcaption>{html.escape(WORDS[state])}'
                     f'<small>{html.escape(state)} · {how}</small></figcaption></figure>')
    return ("<!doctype html><meta charset=utf-8><style>body{margin:0;background:#111;color:#eee;font:28px system-ui;"
            "display:flex;flex-wrap:wrap;gap:40px 20px;padding:60px 40px;justify-content:center}"
            "figure{margin:0;width:190px;text-align:center}.bulb{width:120px;height:120px;border-radius:50%;"
            "margin:0 auto 18px}.strobe{outline:8px dashed #fff4;outline-offset:8px}"
            "small{display:block;color:#999;font-size:20px}</style><body>" + "".join(cells))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def render(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ticketdash-pictures-"))
    folder = work / "tickets"
    folder.mkdir()
    port = free_port()
    config = work / "ticketdash.toml"
    config.write_text(f'[paths]\ntickets = "tickets"\n\n[gui]\nhost = "127.0.0.1"\nport = {port}\n'
                      f'title = "Acme IT Service Desk"\n')
    fill(folder, SPREAD)
    env = {k: v for k, v in os.environ.items() if k != "TICKETDASH_CONFIG"}
    env["PYTHONPATH"] = str(ROOT)
    dashboard = subprocess.Popen([sys.executable, "-m", "gui", "--config", str(config)], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    written = []
    try:
        _wait_until_up(url + "healthz", dashboard)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            try:
                for name, theme, spread, blind in (("wall-dark.png", "dark", SPREAD, False),
                                                   ("wall-light.png", "light", SPREAD, False),
                                                   ("wall-breach.png", "dark", (("fr_overdue", 1), ("warning", 1),
                                                                                ("ok", 4), ("paused", 1)), False),
                                                   ("wall-outage.png", "dark", SPREAD, True)):
                    fill(folder, spread, blind=blind)
                    context = browser.new_context(viewport={"width": 1920, "height": 1080}, device_scale_factor=0.5)
                    context.add_init_script(f"localStorage.setItem('ticketdash-theme', '{theme}')")
                    page = context.new_page()
                    page.goto(url)
                    page.wait_for_selector("#loading", state="detached")
                    page.wait_for_function("document.getElementById('light-label').textContent !== '…'")
                    written.append(_shot(page, out / name))
                    context.close()
                context = browser.new_context(viewport={"width": 1920, "height": 400}, device_scale_factor=0.5)
                page = context.new_page()
                page.set_content(light_states())
                written.append(_shot(page, out / "light-states.png"))
                context.close()
            finally:
                browser.close()
    finally:
        dashboard.terminate()
        dashboard.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)
    return written


def _shot(page: Any, path: Path) -> Path:
    page.screenshot(path=str(path), animations="disabled")
    return path


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the dashboard exited with status {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit(f"the dashboard did not answer {url} within {timeout:g} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="folder for the pictures")
    args = parser.parse_args(argv)
    for path in render(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
