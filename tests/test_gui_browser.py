"""The wall page in Debian's Chromium (Playwright) against a real waitress server."""

from __future__ import annotations

import json

import pytest

from ticketdash.text import without_overrides
from tests.helpers import iso_in, put_ticket, ticket, write_heartbeat

pytestmark = pytest.mark.slow

HOSTILE = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 2">',
    '"><svg onload="window.__pwned=3">',
    "javascript:window.__pwned=4",
    "\u202eevil right-to-left override \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "long " * 400,
]


def test_sections_render_and_countdowns_tick(gui_server, page) -> None:
    server = gui_server().start()
    put_ticket(server.tickets, ticket(1, due_by=iso_in(hours=2)))
    put_ticket(server.tickets, ticket(2, status=3))
    put_ticket(server.tickets, ticket(3, stats={"requester_responded_at": iso_in(minutes=-2)}))
    put_ticket(server.tickets, ticket(4, due_by=iso_in(minutes=30)))
    page.goto(server.url)
    page.wait_for_selector("tr[data-id='4']")
    titles = page.locator(".section-title").all_text_contents()
    assert titles == ["Open", "Waiting on agent", "Other active"]
    assert page.locator("[data-section=open] tr[data-id='1'] .state-word").inner_text().endswith("Critical")
    assert page.locator("#light").get_attribute("data-state") == "critical"
    due = page.locator("tr[data-id='4'] td.due")
    first = due.inner_text()  # "in 29 min 58 s": seconds tick in the last hour
    page.wait_for_function("t => document.querySelector(\"tr[data-id='4'] td.due\").textContent !== t", arg=first)
    assert page.locator("#next-breach").inner_text().startswith("29 min")
    assert page.locator("tr[data-id='1'] td.due").inner_text() in ("in 1 h 59 min", "in 2 h 0 min")  # no seconds
    assert page.errors == []


def test_theme_toggle_is_remembered(gui_server, page) -> None:
    server = gui_server().start()
    page.goto(server.url)
    assert page.locator("html").get_attribute("data-theme") == "dark"
    page.click("#theme-toggle")
    assert page.locator("html").get_attribute("data-theme") == "light"
    page.reload()
    page.wait_for_function("() => document.documentElement.dataset.theme === 'light'")
    page.goto(server.url + "/?theme=dark&density=desk")  # a TV's autostart line says so, whatever was chosen
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    assert page.locator("html").get_attribute("data-density") == "desk"
    page.goto(server.url + "/?theme=%3Cscript%3E&density=huge")  # anything else is ignored
    page.wait_for_function("() => document.documentElement.dataset.theme === 'light'")
    assert page.locator("html").get_attribute("data-density") == "wall"


def test_a_file_change_shows_without_reload(gui_server, page) -> None:
    server = gui_server().start()
    put_ticket(server.tickets, ticket(1))
    page.goto(server.url)
    page.wait_for_selector("tr[data-id='1']")
    page.evaluate("window.__same_page = true")
    put_ticket(server.tickets, ticket(2, subject="Arrived while watching"))
    page.wait_for_selector("tr[data-id='2']", timeout=5000)
    (server.tickets / "1.json").unlink()
    page.wait_for_selector("tr[data-id='1']", state="detached", timeout=5000)
    assert page.evaluate("window.__same_page") is True


def test_hostile_ticket_text_shows_as_text_and_runs_nothing(gui_server, page) -> None:
    server = gui_server().start()
    (server.tickets / "_names").mkdir()
    (server.tickets / "_names" / "agents.txt").write_text("21000000001:<img src=x onerror=\"window.__pwned=5\">\n")
    (server.tickets / "_names" / "requesters.txt").write_text("29000000001:<script>window.__pwned=6</script>\n")
    for n, text in enumerate(HOSTILE, 1):
        put_ticket(server.tickets, ticket(n, subject=text, description_text=text))
    page.goto(server.url)
    page.wait_for_selector(f"tr[data-id='{len(HOSTILE)}']")
    page.mouse.move(900, 300)
    for n, text in enumerate(HOSTILE, 1):
        cell = page.locator(f"tr[data-id='{n}'] td.subject")
        assert cell.text_content() == without_overrides(text)  # an override would reverse its neighbours
        assert cell.get_attribute("title").startswith(without_overrides(text))
    agent = page.locator("tr[data-id='1'] td.agent")
    assert agent.get_attribute("title") == '<img src=x onerror="window.__pwned=5">'
    assert agent.text_content() == "<img"  # shortened at a word, as text
    assert page.locator("#sections img, #sections svg, #sections script").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == [] and page.errors == []
    for link in page.locator("#sections a").all():
        assert link.get_attribute("href").startswith("https://acme.freshservice.com/a/tickets/")


def one_ticket_wall(gui_server, page):
    """A dashboard with one ticket, open in the browser."""
    server = gui_server().start()
    put_ticket(server.tickets, ticket(1))
    page.goto(server.url)
    page.wait_for_selector("tr[data-id='1']")
    return server


def test_stale_and_error_banners(gui_server, page) -> None:
    server = one_ticket_wall(gui_server, page)
    assert page.locator("#stale-banner").is_hidden()
    assert "doubt" not in (page.locator("body").get_attribute("class") or "")
    write_heartbeat(server.tickets, last_success_at=iso_in(minutes=-20))
    banner = page.locator("#stale-banner")
    banner.wait_for(state="visible", timeout=5000)
    assert "out of date" in banner.inner_text() and "20 min" in banner.inner_text()
    page.wait_for_function("() => document.body.classList.contains('doubt')")  # the rows dim
    assert float(page.evaluate("getComputedStyle(document.getElementById('sections')).opacity")) < 0.6
    assert page.locator("#light").get_attribute("data-state") == "stale"
    write_heartbeat(server.tickets, last_error="Freshservice rejected the API key (401)")
    page.wait_for_function("() => document.querySelector('#stale-banner').textContent.includes('(401)')",
                           timeout=5000)
    assert page.locator("#light").get_attribute("data-state") == "error"


def test_no_data_yet_is_never_a_calm_zero(gui_server, page) -> None:
    server = gui_server().start()
    (server.tickets / "_watcher.json").unlink(missing_ok=True)  # no watcher has synced yet
    page.goto(server.url)
    page.wait_for_function("() => document.getElementById('breached-count').textContent === '\u2014'")
    assert page.locator("#breached-label").inner_text() == "No data yet"
    assert "doubt" in page.locator("body").get_attribute("class")


def test_offline_banner_and_recovery(gui_server, page) -> None:
    server = gui_server().start()
    put_ticket(server.tickets, ticket(1))
    page.goto(server.url)
    page.wait_for_selector("tr[data-id='1']")
    assert server.stop() == 0
    offline = page.locator("#offline-banner")
    offline.wait_for(state="visible", timeout=5000)
    assert "Cannot reach the dashboard server" in offline.inner_text()
    assert page.locator("tr[data-id='1']").count() == 1  # the last board stays up
    assert page.locator("#light").get_attribute("data-state") == "offline"  # never the last colour
    assert page.locator("#light-label").inner_text() == "Offline"
    assert page.locator("#breached-label").inner_text().startswith("Offline")
    server.start()
    offline.wait_for(state="hidden", timeout=5000)
    page.wait_for_function("() => document.querySelector('#light').dataset.state === 'clear'", timeout=5000)


def test_virtual_light_follows_blinky(gui_server, page) -> None:
    server = gui_server().start()
    put_ticket(server.tickets, ticket(1, due_by=iso_in(hours=6)))
    page.goto(server.url)
    page.wait_for_selector("tr[data-id='1']")
    (server.tickets / "_light.json").write_text(json.dumps({"state": "stale"}))
    page.wait_for_function("() => document.querySelector('#light-label').textContent.includes('desk light: stale')",
                           timeout=5000)
    assert page.locator("#light").get_attribute("data-state") == "warning"


def test_the_demo_ribbon_follows_the_data(gui_server, page) -> None:
    server = one_ticket_wall(gui_server, page)
    assert page.locator("#demo-ribbon").is_hidden()
    write_heartbeat(server.tickets, source="demo")
    page.wait_for_selector("#demo-ribbon", state="visible", timeout=10_000)
    assert page.locator("#demo-ribbon").inner_text().lower() == "demo data — not your helpdesk"
    write_heartbeat(server.tickets, source="freshservice")
    page.wait_for_selector("#demo-ribbon", state="hidden", timeout=10_000)
    assert page.errors == []


def test_an_agent_signs_in_and_says_on_it_and_hostile_notes_stay_text(gui_server, page) -> None:
    from tests.helpers import run_module

    server = gui_server().start()
    put_ticket(server.tickets, ticket(42, subject="Printer on fire", due_by=iso_in(minutes=-10)))
    put_ticket(server.tickets, ticket(43, due_by=iso_in(days=3)))
    added = run_module("gui", "operators", "add", "Ada Lovelace", "--config", str(server.config))
    token = added.stdout.strip().splitlines()[-1]
    page.goto(server.url)
    page.wait_for_selector("tr[data-id='42']")
    assert page.locator("button[data-act]").count() == 0  # the wall itself only reads
    page.click("#operator a")
    page.fill("input[name=name]", "Ada Lovelace")
    page.fill("input[name=token]", token)
    page.click("form.signin button")
    page.wait_for_selector("tr[data-id='42'] button[data-act=ack]")
    assert page.locator("tr[data-id='43'] button[data-act]").count() == 0  # on track: nothing to answer
    assert "Signed in as Ada Lovelace" in page.locator("#operator").inner_text()
    page.click("tr[data-id='42'] button[data-act=ack]")
    page.wait_for_selector("tr[data-id='42'].acked .ack")
    assert page.locator("tr[data-id='42'] .ack").inner_text().startswith("on it: Ada Lovelace since")  # as written
    assert page.locator("tr[data-id='42'] .state-word").inner_text().endswith("Overdue")  # the truth stays
    assert "1 being handled" in page.locator("#breached-label").inner_text()
    # A note with markup, sent by a program, is shown as text.
    requests_note = {"ticket": 42, "note": HOSTILE[1]}
    import requests

    assert requests.post(server.url + "/api/ack", json=requests_note, timeout=5,
                         headers={"Authorization": f"Bearer {token}"}).status_code == 200
    page.wait_for_function("() => (document.querySelector(\"tr[data-id='42'] .ack\")?.title || '').includes('onerror')")
    assert page.evaluate("window.__pwned") is None and page.locator("tr[data-id='42'] img").count() == 0
    page.click("tr[data-id='42'] button[data-act=clear]")
    page.wait_for_selector("tr[data-id='42'] button[data-act=ack]")
    assert page.errors == []
