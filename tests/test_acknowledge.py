"""Acknowledging ("on it"): operators, the write path and its defences, and what every reader makes of an ack."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from ticketdash import acks, timefmt
from ticketdash.acks import Ack
from tests.helpers import add_operator, iso_in, private, put_ticket, run_module, ticket

OVERDUE = {"due_by": iso_in(minutes=-30)}
WARNING = {"due_by": iso_in(hours=6)}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def rows(client) -> dict[int, dict]:
    board = client.get("/api/board").get_json()
    return {t["id"]: t for s in board["sections"] for t in s["tickets"]}


def test_operators_add_list_rotate_remove_and_only_a_hash_is_kept(desk) -> None:
    config = desk.config_file
    token = desk.token
    assert token.startswith("td_") and len(token) > 40
    database = desk.config().gui.database
    assert token.encode() not in database.read_bytes()
    assert (database.stat().st_mode & 0o777) == 0o600
    listed = run_module("gui", "operators", "list", "--config", str(config))
    assert "Ada Lovelace\tagent (agent id 1001)" in listed.stdout and "td_" not in listed.stdout
    again = run_module("gui", "operators", "add", "Ada Lovelace", "--config", str(config))
    assert again.returncode == 2 and "exists already" in again.stderr
    client = desk.client()
    assert client.post("/api/ack", json={"ticket": 42}, headers=bearer(token)).status_code == 200
    rotated = run_module("gui", "operators", "rotate", "Ada Lovelace", "--config", str(config))
    new = rotated.stdout.strip().splitlines()[-1]
    assert client.post("/api/ack", json={"ticket": 42}, headers=bearer(token)).status_code == 401
    assert client.post("/api/ack", json={"ticket": 42}, headers=bearer(new)).status_code == 200
    assert run_module("gui", "operators", "remove", "Ada Lovelace", "--config", str(config)).returncode == 0
    assert client.post("/api/ack", json={"ticket": 42}, headers=bearer(new)).status_code == 401
    bad = run_module("gui", "operators", "add", "Ada\nLovelace2", "--role", "boss", "--config", str(config))
    assert bad.returncode == 2


def test_an_ack_is_on_the_row_in_the_file_and_survives_a_restart(desk) -> None:
    client = desk.client()
    answer = client.post("/api/ack", json={"ticket": 42, "minutes": 30, "note": "<img src=x onerror=alert(1)>"},
                         headers=bearer(desk.token))
    assert answer.status_code == 200 and answer.get_json()["ok"] is True
    until = timefmt.parse(answer.get_json()["until"])
    assert timedelta(minutes=29) < until - timefmt.now() <= timedelta(minutes=30)
    row = rows(client)[42]
    assert row["state"] == "overdue"  # the truth is unchanged
    assert row["ack"]["by"] == "Ada Lovelace" and row["ack"]["until"] == answer.get_json()["until"]
    assert row["ack"]["note"] == "<img src=x onerror=alert(1)>"  # data for textContent, never markup
    assert rows(client)[43]["ack"] is None
    board = client.get("/api/board").get_json()
    assert board["worst"] == "overdue" and board["worst_acknowledged"] is True and board["handled"] == 1
    snapshot = acks.parse(__import__("json").loads(desk.config().gui.acks_file.read_text()))
    assert list(snapshot) == [("", 42)]
    assert not any(p.name.startswith("acks") for p in desk.tickets.iterdir())  # never in tickets/
    assert rows(desk.client())[42]["ack"]["by"] == "Ada Lovelace"  # a new app: a restart keeps it
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'ticketdash_acknowledged_tickets{state="overdue"} 1.0' in metrics


@pytest.mark.parametrize("body, status", [
    ({"ticket": "42"}, 400), ({"ticket": 42, "minutes": 0}, 400), ({"ticket": 42, "minutes": 10081}, 400),
    ({"ticket": 42, "minutes": True}, 400), ({"ticket": 42, "note": 5}, 400), ({"ticket": 42, "helpdesk": "acme"}, 400),
    ({"ticket": 99}, 404), ({"ticket": -1}, 400), ([42], 400), ({"ticket": 42, "minutes": 10080}, 200),
])
def test_bad_bodies_are_refused(desk, body, status: int) -> None:
    client = desk.client()
    assert client.post("/api/ack", json=body, headers=bearer(desk.token)).status_code == status


def test_who_may_not_write(desk) -> None:
    private(desk.config_dir / "access_key.txt", "kiosk-key-0123456789\n")
    client = desk.client(gui={"access_key_file": "access_key.txt"})
    assert client.post("/api/ack", json={"ticket": 42}).status_code == 401
    assert client.post("/api/ack", json={"ticket": 42}, headers=bearer("kiosk-key-0123456789")).status_code == 403
    client.get("/?key=kiosk-key-0123456789")  # the TV's cookie
    assert client.post("/api/ack", json={"ticket": 42}).status_code == 403
    assert client.post("/api/ack", data="ticket=42", headers=bearer(desk.token)).status_code == 400  # not JSON
    assert client.get("/api/ack?ticket=42").status_code == 405  # a GET never writes
    assert client.get("/api/board?ticket=42&ack=1").status_code == 200
    assert client.post("/api/board", json={"ticket": 42}).status_code == 405
    cross = client.post("/api/ack", json={"ticket": 42}, headers={**bearer(desk.token), "Origin": "https://evil.example"})
    assert cross.status_code == 403
    assert rows(client)[42]["ack"] is None


def test_a_signed_in_browser_needs_the_csrf_token(desk) -> None:
    client = desk.client()
    page = client.get("/signin")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    csrf = page.get_data(as_text=True).split('name="csrf" value="')[1].split('"')[0]
    wrong = client.post("/signin", data={"name": "Ada Lovelace", "token": "td_nope", "csrf": csrf})
    assert wrong.status_code == 401 and "do not match" in wrong.get_data(as_text=True)
    csrf = wrong.get_data(as_text=True).split('name="csrf" value="')[1].split('"')[0]
    forged = client.post("/signin", data={"name": "Ada Lovelace", "token": desk.token, "csrf": "forged"})
    assert forged.status_code == 403
    csrf = forged.get_data(as_text=True).split('name="csrf" value="')[1].split('"')[0]
    signed = client.post("/signin", data={"name": "ada lovelace", "token": desk.token, "csrf": csrf})
    assert signed.status_code == 303
    cookie = signed.headers["Set-Cookie"]
    assert "ticketdash_session=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    me = client.get("/api/me").get_json()
    assert me["name"] == "Ada Lovelace" and me["role"] == "agent"
    assert client.post("/api/ack", json={"ticket": 42}).status_code == 403  # no CSRF token
    assert client.post("/api/ack", json={"ticket": 42}, headers={"X-CSRF-Token": "x" + me["csrf"]}).status_code == 403
    assert client.post("/api/ack", json={"ticket": 42}, headers={"X-CSRF-Token": me["csrf"]}).status_code == 200
    assert client.get("/").status_code == 200  # a signed-in operator sees the wall
    client.set_cookie("ticketdash_session", "tampered" + "x" * 40)
    assert client.get("/api/me").status_code == 401


def test_an_expired_sign_in_is_refused(desk) -> None:
    app = desk.app()
    client = app.test_client()
    database = app.extensions["ticketdash"].database
    operator = database.by_token(desk.token)
    session_id, session = database.open_session(operator, 1, timefmt.now() - timedelta(hours=2))
    client.set_cookie("ticketdash_session", session_id)
    assert client.post("/api/ack", json={"ticket": 42}, headers={"X-CSRF-Token": session.csrf}).status_code == 401


def test_a_thousand_wrong_tokens_are_throttled_and_the_right_one_still_works(desk) -> None:
    app = desk.app()
    client = app.test_client()
    codes = [client.post("/api/ack", json={"ticket": 42}, headers=bearer(f"td_guess{n:04d}")).status_code
             for n in range(1000)]
    assert codes[:10] == [401] * 10 and set(codes[10:]) == {429}
    other = client.post("/api/ack", json={"ticket": 42}, headers=bearer(desk.token),
                        environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert other.status_code == 200  # another desk is not locked out
    throttle = app.extensions["ticketdash"].failures
    throttle.clock = lambda: 1e12  # the window has passed
    assert client.post("/api/ack", json={"ticket": 42}, headers=bearer(desk.token)).status_code == 200
    log = app.extensions["ticketdash"].database.audit_log(1000)
    assert sum(1 for e in log if e["result"] == "refused: unknown token") == 10  # throttled tries are not audited
    assert not any("td_guess" in str(e) for e in log)


def test_leads_clear_other_peoples_acks_and_read_the_audit(desk) -> None:
    lead = add_operator(desk.config_file, "Lee Lead", "--role", "lead")
    grace = add_operator(desk.config_file, "Grace Hopper")
    client = desk.client()
    assert client.post("/api/ack", json={"ticket": 42}, headers=bearer(desk.token)).status_code == 200
    assert client.delete("/api/ack", json={"ticket": 42}, headers=bearer(grace)).status_code == 403
    assert client.delete("/api/ack", json={"ticket": 42}, headers=bearer(lead)).status_code == 200
    assert rows(client)[42]["ack"] is None
    assert client.delete("/api/ack", json={"ticket": 42}, headers=bearer(lead)).status_code == 404
    assert client.get("/ack-log").status_code == 303  # not signed in
    database = desk.app().extensions["ticketdash"].database
    database.db.executemany("INSERT INTO audit (at, who, action, target, address, result) VALUES (?, ?, ?, ?, ?, ?)",
                            [(timefmt.format(timefmt.now()), "bench", "ack", f"#{n}", "127.0.0.1", "ok")
                             for n in range(10_000)])
    session_id, _ = database.open_session(database.by_token(lead), 1, timefmt.now())
    client.set_cookie("ticketdash_session", session_id)
    log = client.get("/ack-log").get_data(as_text=True)
    assert log.count("<tr>") == 201  # the head and the last 200
    session_id, _ = database.open_session(database.by_token(grace), 1, timefmt.now())
    client.set_cookie("ticketdash_session", session_id)
    assert client.get("/ack-log").status_code == 403


def test_an_ack_ends_when_the_ticket_gets_worse_and_at_its_time(desk) -> None:
    client = desk.client()
    assert client.post("/api/ack", json={"ticket": 43, "minutes": 1}, headers=bearer(desk.token)).status_code == 200
    assert rows(client)[43]["ack"] is not None and rows(client)[43]["state"] == "warning"
    put_ticket(desk.tickets, ticket(43, due_by=iso_in(hours=1)))  # critical now: more severe than warning
    fresh = desk.client()
    assert rows(fresh)[43]["state"] == "critical" and rows(fresh)[43]["ack"] is None
    at = timefmt.now()
    made = Ack("", 43, "Ada", at, at + timedelta(minutes=1), "warning")
    assert made.holds("warning", at) and made.holds("attention", at) and not made.holds("critical", at)
    assert not made.holds("warning", at + timedelta(minutes=1))


@pytest.mark.parametrize("content", [None, {"acks": "x"}, {"acks": [{"ticket": True}, {"ticket": 42, "by": "",
                                      "at": "2026", "until": "x", "state": "ok"}, 5]}])
def test_an_unreadable_acks_file_means_no_acks(content) -> None:
    assert acks.parse(content) == {}


def test_the_database_folder_and_its_files_stay_the_services(desk) -> None:
    database = desk.config().gui.database
    connection = sqlite3.connect(database)
    assert {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")} >= {
        "operators", "sessions", "acks", "audit"}
    connection.close()
    assert (database.parent.stat().st_mode & 0o777) == 0o750


STROBE_RED = bytes.fromhex("00 03 ff ff 00 00 14 00 00")
STEADY_RED = bytes.fromhex("00 01 ff ff 00 00 00 00 00")


@pytest.mark.xdist_group("light")  # one machine's lights: never two blinkies at once
def test_the_light_and_the_alerts_answer_an_ack_and_a_restart_keeps_it(tmp_path: Path, fake_lights, gui_server) -> None:
    """Real processes: the dashboard takes the ack, blinky stops strobing, the alerts say who is on it once."""
    import json
    import signal

    import requests

    from tests.helpers import start_module, wait_for, write_heartbeat
    from tests.receiver import Receiver

    receiver = Receiver()
    fake_lights.plug()
    server = gui_server(blinky={"device": "luxafor", "debounce_seconds": 0.05},
                        alerts={"channel_interval_seconds": 0, "retry_max_seconds": 1})
    with server.config.open("a") as f:
        f.write(f'\n[[alerts.routes]]\nurls = ["{receiver.url()}"]\nstates = ["fr_overdue", "overdue"]\n')
    write_heartbeat(server.tickets)
    put_ticket(server.tickets, ticket(42, subject="Printer on fire", **OVERDUE))
    server.start()
    token = add_operator(server.config, "Ada Lovelace")  # while the dashboard runs: it can act at once
    blinky = start_module("blinky", "--config", str(server.config), env=fake_lights.env())
    alerts = start_module("alerts", "--config", str(server.config))
    processes = [blinky, alerts]
    try:
        last = lambda: (fake_lights.writes() or [b""])[-1]  # noqa: E731
        wait_for(lambda: last() == STROBE_RED, what="the light strobing for the breach")
        wait_for(lambda: len(receiver.messages()) == 1, what="the breach alert")
        answer = requests.post(server.url + "/api/ack", json={"ticket": 42, "note": "@here <!channel> rebooting"},
                               headers=bearer(token), timeout=5)
        assert answer.status_code == 200, answer.text
        wait_for(lambda: last() == STEADY_RED, timeout=10, what="the light steady: someone is on it")
        status = server.tickets / "_light.json"  # written just after the light itself
        wait_for(lambda: json.loads(status.read_text())["strobe"] is False, what="the status file saying so")
        assert json.loads(status.read_text())["state"] == "overdue"
        wait_for(lambda: len(receiver.messages()) == 2, what="who is on it")
        on_it = receiver.messages()[1]
        assert on_it["title"] == "Ada Lovelace is on #42: Printer on fire"
        assert "@here" not in on_it["message"] and "Note: ＠here" in on_it["message"]

        put_ticket(server.tickets, ticket(44, subject="New breach", fr_due_by=iso_in(minutes=-5),
                                          stats={"first_responded_at": None, "agent_responded_at": None}))
        wait_for(lambda: last() == STROBE_RED, timeout=10, what="a new unacknowledged breach strobes again")

        assert server.stop() == 0
        alerts.send_signal(signal.SIGTERM)
        assert alerts.wait(timeout=10) == 0
        server.start()
        alerts = start_module("alerts", "--config", str(server.config))
        processes.append(alerts)
        board = requests.get(server.url + "/api/board", timeout=5).json()
        acked = {t["id"]: t["ack"] for s in board["sections"] for t in s["tickets"]}
        assert acked[42]["by"] == "Ada Lovelace" and acked[44] is None
        status = tmp_path / "site0" / "alerts-tickets" / "alerts.json"
        wait_for(lambda: json.loads(status.read_text()).get("pid") == alerts.pid, what="the alerts' first step again")
        wait_for(lambda: any(m["title"].startswith("#44") for m in receiver.messages()), what="the new breach")
        assert sum("is on #42" in m["title"] for m in receiver.messages()) == 1  # never twice, restart or not
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=10)
        receiver.close()


def signed_link(desk, ticket_id: int, signed_state: str, change: dict[str, str] | None = None) -> str:
    from ticketdash import links

    database = desk.config().gui.database
    links.make_secret(links.secret_file(database))
    secret = links.read_secret(links.secret_file(database))
    url = links.ack_link("https://wall.example.lan", secret, "", ticket_id, signed_state, timefmt.now())
    path = url.removeprefix("https://wall.example.lan")
    for key, value in (change or {}).items():
        path = re.sub(rf"{key}=[^&]*", f"{key}={value}", path)
    return path


def signed_in(client, desk) -> str:
    """Sign *client* in as Ada; the session's CSRF token."""
    page = client.get("/signin").get_data(as_text=True)
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/signin", data={"name": "Ada Lovelace", "token": desk.token, "csrf": csrf}).status_code == 303
    return client.get("/api/me").get_json()["csrf"]


def test_an_alerts_signed_link_asks_then_acknowledges(desk) -> None:
    client = desk.client()
    link = signed_link(desk, 42, "overdue")
    first = client.get(link)  # a chat client fetching the link: it only shows, it never acts
    assert first.status_code == 200 and "Sign in" in first.get_data(as_text=True)
    assert rows(client)[42]["ack"] is None
    csrf = signed_in(client, desk)
    page = client.get(link).get_data(as_text=True)
    assert "I am on it" in page and rows(client)[42]["ack"] is None
    assert client.post(link, data={"csrf": "forged"}).status_code == 403
    done = client.post(link, data={"csrf": csrf})
    assert done.status_code == 200 and "you are on #42" in done.get_data(as_text=True)
    assert rows(client)[42]["ack"]["by"] == "Ada Lovelace"
    log = desk.app().extensions["ticketdash"].database.audit_log()
    assert log[0]["action"] == "ack" and log[0]["who"] == "Ada Lovelace"


@pytest.mark.parametrize("change, status", [
    ({"sig": "0" * 64}, 403), ({"state": "warning"}, 403), ({"exp": "1000"}, 403), ({"helpdesk": "acme"}, 403),
])
def test_a_tampered_or_expired_link_is_refused(desk, change: dict, status: int) -> None:
    client = desk.client()
    signed_in(client, desk)
    assert client.get(signed_link(desk, 42, "overdue", change)).status_code == status
    assert client.get(signed_link(desk, 42, "overdue").replace("/ack/42", "/ack/43")).status_code == 403


def test_a_link_ends_when_the_ticket_leaves_its_state(desk) -> None:
    client = desk.client()
    link = signed_link(desk, 43, "critical")  # #43 is only warning
    answer = client.get(link)
    assert answer.status_code == 410 and "it is now Warning" in answer.get_data(as_text=True)


def test_alert_messages_carry_the_signed_link(tmp_path: Path) -> None:
    from ticketdash import config as configuration
    from ticketdash import links
    from alerts.daemon import Alerts
    from alerts.state import State
    from tests.helpers import site_config, write_heartbeat
    from tests.receiver import Receiver

    receiver = Receiver()
    try:
        tickets = tmp_path / "tickets"
        tickets.mkdir()
        write_heartbeat(tickets)
        put_ticket(tickets, ticket(42, **OVERDUE))
        path = site_config(tmp_path / "config", gui={"public_url": "https://wall.example.lan"},
                           alerts={"channel_interval_seconds": 0})
        with path.open("a") as f:
            f.write(f'\n[[alerts.routes]]\nurls = ["{receiver.url()}"]\nstates = ["overdue"]\n')
        config = configuration.load(path, environ={})
        links.make_secret(links.secret_file(config.gui.database))
        daemon = Alerts(config, State(config.alerts.database))
        daemon.start(watch=False)
        daemon.step()
        daemon.close()
        (message,) = receiver.messages()
        link = re.search(r"Acknowledge \(on it\): (\S+)", message["message"]).group(1)
        assert link.startswith("https://wall.example.lan/ack/42?helpdesk=&state=overdue&exp=")
        secret = links.read_secret(links.secret_file(config.gui.database))
        query = dict(part.split("=") for part in link.split("?")[1].split("&"))
        assert links.valid(secret, "", 42, "overdue", query["exp"], query["sig"], timefmt.now())
    finally:
        receiver.close()


def test_clearing_and_signing_in_refuse_the_kiosk_key_and_forgeries(desk) -> None:
    private(desk.config_dir / "access_key.txt", "kiosk-key-0123456789\n")
    client = desk.client(gui={"access_key_file": "access_key.txt"})
    assert client.post("/api/ack", json={"ticket": 42}, headers=bearer(desk.token)).status_code == 200
    kiosk = bearer("kiosk-key-0123456789")
    assert client.delete("/api/ack", json={"ticket": 42}, headers=kiosk).status_code == 403
    client.get("/?key=kiosk-key-0123456789")  # the TV's cookie
    assert client.delete("/api/ack", json={"ticket": 42}).status_code == 403
    assert client.delete("/api/ack", json={"ticket": 42},
                         headers={**bearer(desk.token), "Origin": "https://evil.example"}).status_code == 403
    csrf = signed_in(client, desk)
    assert client.delete("/api/ack", json={"ticket": 42}, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert rows(client)[42]["ack"]["by"] == "Ada Lovelace"  # nothing refused changed anything
    page = desk.client().get("/signin").get_data(as_text=True)
    form_csrf = page.split('name="csrf" value="')[1].split('"')[0]
    other = desk.client()
    other.get("/signin")
    as_kiosk = other.post("/signin", data={"name": "kiosk", "token": "kiosk-key-0123456789", "csrf": form_csrf})
    assert as_kiosk.status_code == 403  # a form from another page: its CSRF token is not this browser's
    fresh = other.get("/signin").get_data(as_text=True).split('name="csrf" value="')[1].split('"')[0]
    refused = other.post("/signin", data={"name": "kiosk", "token": "kiosk-key-0123456789", "csrf": fresh})
    assert refused.status_code == 401 and "ticketdash_session" not in refused.headers.get("Set-Cookie", "")
    assert client.delete("/api/ack", json={"ticket": 42}, headers={"X-CSRF-Token": csrf}).status_code == 200


@pytest.mark.xdist_group("light")
def test_a_mute_touch_acknowledges_what_its_light_shows(tmp_path: Path, fake_lights, gui_server) -> None:
    """The real dashboard and blinky: a touch on a Luxafor Mute is "on it" for the overdue tickets its
    light shows, as the operator whose token blinky holds; the strobe stops; a new breach strobes again."""
    import json
    import signal

    import requests

    from tests.helpers import private, start_module, wait_for, write_heartbeat

    fake_lights.plug("1-2:1.0", product="LUXAFOR MUTE")
    server = gui_server(blinky={"device": "luxafor", "debounce_seconds": 0.05, "touch_token_file": "touch.key"})
    write_heartbeat(server.tickets)
    put_ticket(server.tickets, ticket(42, subject="Printer on fire", **OVERDUE))
    put_ticket(server.tickets, ticket(43, **WARNING))
    private(server.config.parent / "touch.key", "not-yet\n")  # one config for every daemon: it must read
    server.start()
    private(server.config.parent / "touch.key", add_operator(server.config, "Ada Lovelace") + "\n")
    blinky = start_module("blinky", "--config", str(server.config), env=fake_lights.env())
    try:
        last = lambda: (fake_lights.writes() or [b""])[-1]  # noqa: E731
        wait_for(lambda: last() == STROBE_RED, what="the light strobing for the breach")
        fake_lights.touch("1-2:1.0")
        wait_for(lambda: last() == STEADY_RED, timeout=10, what="the light steady after the touch")
        board = requests.get(server.url + "/api/board", timeout=5).json()
        acks = {t["id"]: t["ack"] for s in board["sections"] for t in s["tickets"]}
        assert acks[42]["by"] == "Ada Lovelace" and acks[43] is None  # what the light showed, and only that
        status = lambda: json.loads((server.tickets / "_light.json").read_text())  # noqa: E731
        wait_for(lambda: "acknowledged #42" in status().get("touch", ""), what="the status saying so")
    finally:
        blinky.send_signal(signal.SIGTERM)
        assert blinky.wait(timeout=10) == 0
    token = (server.config.parent / "touch.key").read_text().strip()
    assert token not in blinky.log.read_text()


@pytest.mark.xdist_group("light")
def test_a_touch_without_a_token_only_calms_this_light_and_says_so(tmp_path: Path, fake_lights) -> None:
    import json
    import signal

    from tests.helpers import site_config, start_module, wait_for, write_heartbeat

    fake_lights.plug("1-2:1.0", product="LUXAFOR MUTE")
    folder = tmp_path / "tickets"
    folder.mkdir()
    write_heartbeat(folder)
    put_ticket(folder, ticket(42, **OVERDUE))
    config = site_config(tmp_path / "config", blinky={"device": "luxafor", "debounce_seconds": 0.05})
    blinky = start_module("blinky", "--config", str(config), env=fake_lights.env())
    try:
        last = lambda: (fake_lights.writes() or [b""])[-1]  # noqa: E731
        wait_for(lambda: last() == STROBE_RED, what="the strobe")
        fake_lights.touch("1-2:1.0")
        wait_for(lambda: last() == STEADY_RED, timeout=10, what="steady here")
        status = lambda: json.loads((folder / "_light.json").read_text())  # noqa: E731 (written just after the light)
        wait_for(lambda: "the wall and the alerts do not know" in status().get("touch", ""), what="the status saying so")
        assert status()["state"] == "overdue"
        put_ticket(folder, ticket(44, fr_due_by=iso_in(minutes=-5),
                                  stats={"first_responded_at": None, "agent_responded_at": None}))
        wait_for(lambda: last() == STROBE_RED, timeout=10, what="a worse state strobes again")
    finally:
        blinky.send_signal(signal.SIGTERM)
        assert blinky.wait(timeout=10) == 0


def test_a_touch_that_the_dashboard_refuses_says_why(gui_server) -> None:
    from ticketdash import config as configuration
    from blinky.daemon import acknowledge
    from tests.helpers import write_heartbeat

    server = gui_server(blinky={"touch_token_file": "touch.key"})
    private(server.config.parent / "touch.key", "a-token-nobody-was-given-0123456789\n")
    write_heartbeat(server.tickets)
    put_ticket(server.tickets, ticket(42, **OVERDUE))
    server.start()
    loaded = configuration.load(server.config, environ={})
    said = acknowledge(loaded, (("", 42),))
    assert said.startswith("could not acknowledge #42 (HTTP 401") and "a-token-nobody" not in said
    private(server.config.parent / "touch.key", add_operator(server.config, "Ada Lovelace") + "\n")
    loaded = configuration.load(server.config, environ={})
    said = acknowledge(loaded, (("", 42), ("", 999)))
    assert said.startswith("acknowledged #42; could not acknowledge #999 (HTTP 404: no ticket") and "999 on the wall" in said
    assert server.stop() == 0
    assert "cannot reach the dashboard" in acknowledge(loaded, (("", 42),))


def test_a_touch_token_never_crosses_the_network_in_clear(tmp_path: Path) -> None:
    from ticketdash import config as configuration
    from tests.helpers import write_config

    private(tmp_path / "touch.key", "t0ken-0123456789abcdef\n")
    for url, ok in [("http://wall.example.lan/", False), ("https://wall.example.lan/", True),
                    ("http://127.0.0.1:5001/", True), ("ftp://wall/", False)]:
        path = write_config(tmp_path, {"blinky": {"touch_token_file": "touch.key", "dashboard_url": url}}, token=None)
        if ok:
            assert configuration.load(path, environ={}).touch_token is not None
        else:
            with pytest.raises(configuration.ConfigError, match=r"\[blinky\] dashboard_url"):
                configuration.load(path, environ={})
    (tmp_path / "touch.key").chmod(0o644)
    path = write_config(tmp_path, {"blinky": {"touch_token_file": "touch.key"}}, token=None)
    with pytest.raises(configuration.ConfigError, match="touch_token_file"):
        configuration.load(path, environ={})  # others can read it: refused
