"""The alerts daemon against a real local receiver behind Apprise's json:// URL."""

from __future__ import annotations

import json
import signal
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from ticketdash import config as configuration
from ticketdash.store import TicketStore, encode
from alerts.daemon import Alerts
from alerts.state import State
from tests.helpers import iso_in, private, put_ticket, run_module, site_config, start_module, ticket, wait_for, write_heartbeat
from tests.receiver import Receiver

OVERDUE = {"due_by": iso_in(minutes=-5)}


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


class Site:
    """A tickets folder, a config with routes to the receiver, and alerts daemons on it."""

    def __init__(self, root: Path, receiver: Receiver) -> None:
        self.root = root
        self.tickets = root / "tickets"
        self.tickets.mkdir(parents=True)
        write_heartbeat(self.tickets)
        self.receiver = receiver
        self.running: list[Alerts] = []

    def config_file(self, routes: list[dict[str, Any]] | None = None, **alerts: Any) -> Path:
        routes = routes if routes is not None else [{"urls": [self.receiver.url()], "states": ["fr_overdue", "overdue"]}]
        path = site_config(self.root / "config", alerts={
            "database": "../state/alerts.sqlite3", "status_file": "../state/alerts.json",
            "channel_interval_seconds": 0, "retry_max_seconds": 1, **alerts})
        with path.open("a") as f:
            for route in routes:
                f.write("\n[[alerts.routes]]\n")
                for key, value in route.items():
                    f.write(f"{key} = {json.dumps(value)}\n")
        return path

    def alerts(self, routes: list[dict[str, Any]] | None = None, clock: Any = None, **settings: Any) -> Alerts:
        config = configuration.load(self.config_file(routes, **settings), environ={})
        options = {"clock": clock} if clock else {}
        daemon = Alerts(config, State(config.alerts.database), **options)
        daemon.start(watch=False)
        self.running.append(daemon)
        return daemon

    def status(self) -> dict[str, Any]:
        return json.loads((self.root / "state" / "alerts.json").read_text())

    def close(self) -> None:
        for daemon in self.running:
            daemon.close()


@pytest.fixture
def site(tmp_path: Path, receiver: Receiver):
    made = Site(tmp_path, receiver)
    yield made
    made.close()


def step(daemon: Alerts) -> None:
    daemon.board.folder.rescan()
    daemon.step()


def test_a_breach_sends_one_message_with_the_ticket(site: Site, receiver: Receiver) -> None:
    put_ticket(site.tickets, ticket(42, subject="Printer on fire", priority=3, **OVERDUE))
    put_ticket(site.tickets, ticket(43))
    daemon = site.alerts()
    step(daemon)
    (message,) = receiver.messages()
    assert message["title"] == "#42 Overdue: Printer on fire"
    for text in ("Ticket #42: Printer on fire", "Priority: High", "https://acme.freshservice.com/a/tickets/42"):
        assert text in message["message"]
    step(daemon)
    step(daemon)
    assert len(receiver.messages()) == 1


def test_the_outbox_keeps_a_reference_to_the_channel_never_its_url(site: Site, receiver: Receiver) -> None:
    secret_url = receiver.url("T0KEN-in-the-url-123456")
    receiver.statuses = [500]  # one message stays queued, unsent
    put_ticket(site.tickets, ticket(42, **OVERDUE))
    daemon = site.alerts([{"name": "pager", "urls": [secret_url], "states": ["overdue"]}])
    step(daemon)
    database = site.root / "state" / "alerts.sqlite3"
    stored = b"".join(p.read_bytes() for p in database.parent.glob("alerts.sqlite3*"))
    assert b"T0KEN-in-the-url" not in stored and b"route:pager:0" in stored
    assert (database.stat().st_mode & 0o777) == 0o600
    daemon.state.db.execute("UPDATE outbox SET not_before = '2000-01-01T00:00:00Z'")
    step(daemon)  # the retry finds the URL in the configuration
    assert len(receiver.messages()) == 1
    gone = site.alerts([{"name": "other", "urls": [receiver.url()], "states": ["fr_overdue"]}])
    gone.state.enqueue("x", "pager", "route:pager:0", "t", "b", daemon.clock(), daemon.clock())
    step(gone)  # a channel no longer configured: dropped, said so, never sent anywhere else
    assert len(receiver.messages()) == 1 and gone.state.due(gone.clock()) == []


def test_a_subject_cannot_notify_a_channel_or_anyone(site: Site, receiver: Receiver) -> None:
    subject = "@everyone @here @channel @all <@U024BE7LH> <@&1234> <at>Ada</at> write ada@example.com"
    put_ticket(site.tickets, ticket(7, subject=subject, **OVERDUE))
    step(site.alerts())
    (message,) = receiver.messages()
    for text in (message["title"], message["message"]):
        for mention in ("@everyone", "@here", "@channel", "@all", "<@U024BE7LH>", "<@&", "<at>"):
            assert mention not in text, mention
        assert "ada@example.com" in text  # an address is no mention and stays as written
    assert message["title"].startswith("#7 Overdue: \uff20everyone \uff20here")


def test_a_priority_the_route_excludes_sends_nothing(site: Site, receiver: Receiver) -> None:
    put_ticket(site.tickets, ticket(1, priority=1, **OVERDUE))
    step(site.alerts([{"urls": [receiver.url()], "states": ["overdue"], "priorities": [3, 4]}]))
    assert receiver.messages() == []


def test_several_routes_can_match_one_transition(site: Site, receiver: Receiver) -> None:
    put_ticket(site.tickets, ticket(1, priority=4, **OVERDUE))
    step(site.alerts([{"name": "all", "urls": [receiver.url("a")], "states": ["overdue"]},
                      {"name": "urgent", "urls": [receiver.url("b")], "states": ["overdue"], "priorities": [4]}]))
    assert len(receiver.messages("a")) == 1 and len(receiver.messages("b")) == 1


def test_a_restart_sends_nothing_again_but_catches_what_happened_while_down(site: Site, receiver: Receiver) -> None:
    put_ticket(site.tickets, ticket(1, **OVERDUE))
    put_ticket(site.tickets, ticket(2))
    first = site.alerts()
    step(first)
    first.close()
    put_ticket(site.tickets, ticket(2, subject="breached while we were down", **OVERDUE))
    second = site.alerts()
    step(second)
    titles = [m["title"] for m in receiver.messages()]
    assert titles == ["#1 Overdue: Ticket 1", "#2 Overdue: breached while we were down"]


def test_a_receiver_failing_three_times_gets_the_message_exactly_once(site: Site, receiver: Receiver) -> None:
    receiver.statuses = [500, 500, 500]
    put_ticket(site.tickets, ticket(1, **OVERDUE))
    daemon = site.alerts()
    step(daemon)
    assert receiver.messages() == []
    wait_for(lambda: (step(daemon), receiver.messages())[1], timeout=20, what="the retried delivery")
    for _ in range(3):
        step(daemon)
    assert len(receiver.messages()) == 1 and receiver.refused == 3


def test_failed_deliveries_survive_a_restart(site: Site, receiver: Receiver) -> None:
    receiver.statuses = [500]
    put_ticket(site.tickets, ticket(1, **OVERDUE))
    first = site.alerts()
    step(first)
    first.close()
    second = site.alerts()
    wait_for(lambda: (step(second), receiver.messages())[1], timeout=10, what="the outbox after a restart")
    assert len(receiver.messages()) == 1


def test_a_burst_becomes_one_digest(site: Site, receiver: Receiver) -> None:
    for n in range(1, 51):
        put_ticket(site.tickets, ticket(n, **OVERDUE))
    step(site.alerts(burst=10))
    (message,) = receiver.messages()
    assert message["title"] == "50 alerts at once"
    assert "#1 Overdue" in message["message"] and "and 25 more" in message["message"]


def test_stale_data_says_the_wall_is_blind_once_and_recovers(site: Site, receiver: Receiver) -> None:
    put_ticket(site.tickets, ticket(1))
    daemon = site.alerts([{"urls": [receiver.url()], "states": ["stale", "error"], "recovered": True}])
    step(daemon)
    assert receiver.messages() == []
    write_heartbeat(site.tickets, last_success_at=iso_in(minutes=-30))
    step(daemon)
    step(daemon)
    (blind,) = receiver.messages()
    assert blind["title"] == "The wall is blind: Stale" and "The last good data is 30 min old" in blind["message"]
    write_heartbeat(site.tickets)
    step(daemon)
    assert [m["title"] for m in receiver.messages()][1:] == ["The wall sees again"]


def test_an_unreadable_ticket_is_the_wall_going_blind(site: Site, receiver: Receiver) -> None:
    put_ticket(site.tickets, ticket(1))
    daemon = site.alerts([{"urls": [receiver.url()], "states": ["error"]}])
    step(daemon)
    (site.tickets / "7.json").write_text('{"id": 7, "status": [2]}')
    step(daemon)
    (message,) = receiver.messages()
    assert message["title"] == "The wall is blind: Error" and "7" in message["message"]


def test_quiet_hours_hold_a_message_until_they_end(site: Site, receiver: Receiver) -> None:
    put_ticket(site.tickets, ticket(1, **OVERDUE))
    now = datetime.now(timezone.utc)
    local = now.astimezone()
    start, end = (local - timedelta(minutes=1)).strftime("%H:%M"), (local + timedelta(minutes=2)).strftime("%H:%M")
    route = [{"urls": [receiver.url()], "states": ["overdue"], "quiet_hours": f"{start}-{end}"}]
    step(site.alerts(route))
    assert receiver.messages() == []
    later = site.alerts(route, clock=lambda: now + timedelta(minutes=3))
    step(later)
    assert len(receiver.messages()) == 1


def test_hostile_subjects_arrive_as_plain_text(site: Site, receiver: Receiver) -> None:
    subject = "<!channel> <script>alert(1)</script> *bold* \u202eesrever\u202c\nFake: line"
    put_ticket(site.tickets, ticket(1, subject=subject, **OVERDUE))
    step(site.alerts())
    (message,) = receiver.messages()
    # a Slack mention's "<!" is defused everywhere ("‹!"), whatever service the URL names
    assert "\u2039!channel> <script>alert(1)</script> *bold* esrever Fake: line" in message["message"]
    assert "\u202e" not in message["message"] and "&lt;" not in message["message"]
    assert "\nFake: line" not in message["message"]


def test_a_channel_that_rejects_is_retried_shown_and_leaves_the_others_alone(site: Site, receiver: Receiver) -> None:
    put_ticket(site.tickets, ticket(1, **OVERDUE))
    routes = [{"name": "broken", "urls": ["json://127.0.0.1:9/secret-token-123456"], "states": ["overdue"]},
              {"name": "fine", "urls": [receiver.url()], "states": ["overdue"]}]
    daemon = site.alerts(routes)
    step(daemon)
    assert len(receiver.messages()) == 1
    status = site.status()
    assert status["last_sent_at"] and [f["route"] for f in status["failing"]] == ["broken"]
    assert "secret-token-123456" not in json.dumps(status)


def test_reminders_list_each_agents_tickets(site: Site, receiver: Receiver) -> None:
    names = site.root / "config"
    names.mkdir(exist_ok=True)
    (names / "agents.txt").write_text("21:Ada Lovelace\n22:Grace Hopper\n")
    put_ticket(site.tickets, ticket(1, responder_id=21, **OVERDUE))
    put_ticket(site.tickets, ticket(2, responder_id=21, due_by=iso_in(hours=2)))
    put_ticket(site.tickets, ticket(3, responder_id=22, stats={"requester_responded_at": iso_in(minutes=-1)}))
    put_ticket(site.tickets, ticket(4, responder_id=22))  # on track: not listed
    private(names / "agent_urls.txt", f"22:{receiver.url('grace')}\n")
    routes = [{"name": "team", "urls": [receiver.url("team")], "states": ["stale"]}]
    daemon = site.alerts(routes, reminders={"route": "team", "time": "00:00", "agents_file": "agent_urls.txt",
                                             "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]})
    step(daemon)
    step(daemon)
    (team,) = receiver.messages("team")
    assert team["title"] == "Reminder: 2 ticket(s) need action"
    assert "Ada Lovelace (2):" in team["message"] and "#1 Overdue" in team["message"]
    assert "#2 Critical" in team["message"] and "#4" not in team["message"]
    (grace,) = receiver.messages("grace")
    assert "Grace Hopper (1):" in grace["message"] and "#3 Needs attention" in grace["message"]


def test_the_weekly_summary_has_the_right_figures(site: Site, receiver: Receiver) -> None:
    now = datetime.now(timezone.utc)

    def at(**delta: float) -> str:
        return (now + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")

    store = TicketStore(site.tickets)
    # Active: one breached this week (resolution due 2 days ago), created 10 days ago.
    put_ticket(site.tickets, ticket(1, created_at=at(days=-10), due_by=at(days=-2),
                                    stats={"first_responded_at": at(days=-10, hours=1)}))
    # Archived this week: answered in 1 h and 3 h, resolved in 1 and 2 days; one resolved late.
    day = now.date()
    for n, (first, done, due) in enumerate([(1, 24, 48), (3, 48, 30)], start=10):
        closed = ticket(n, status=4, created_at=at(days=-3), due_by=at(days=-3, hours=due),
                        stats={"first_responded_at": at(days=-3, hours=first),
                               "resolved_at": at(days=-3, hours=done)})
        store.archive(n, encode(closed), day)
    # The week before: one breach.
    store.archive(20, encode(ticket(20, status=5, created_at=at(days=-12), due_by=at(days=-10),
                                    stats={"first_responded_at": at(days=-12, hours=1),
                                           "resolved_at": at(days=-9)})), day)
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[now.astimezone().weekday()]
    routes = [{"name": "managers", "urls": [receiver.url()], "states": ["stale"]}]
    step(site.alerts(routes, summary={"route": "managers", "day": weekday, "time": "00:00"}))
    (message,) = receiver.messages()
    assert message["title"].startswith("Weekly summary")
    body = message["message"]
    assert "Breaches: 2 (1 more than the week before: 1)" in body
    assert "First response: median 2 h, 90th percentile 3 h" in body
    assert "Resolution: median 36 h, 90th percentile 2 d" in body
    assert "Tickets opened: 2 · closed: 2" in body
    assert "#1 (10 days)" in body
    assert "Breaches alerted this week (this daemon's own history): 1" in body  # ticket 1, seen overdue


@pytest.mark.parametrize("route, key", [
    ({"urls": ["nosuchscheme://x"], "states": ["overdue"]}, "urls: Apprise does not understand"),
    ({"urls": ["json://127.0.0.1/x"], "states": ["late"]}, "states: must be one of"),
    ({"urls": ["json://127.0.0.1/x"], "states": ["overdue"], "priorities": [7]}, "priorities: must be at most 4"),
    ({"urls": ["json://127.0.0.1/x"], "states": ["overdue"], "quiet_hours": "late"}, "quiet_hours: expected"),
    ({"urls": ["json://127.0.0.1/x"], "states": ["overdue"], "colour": "red"}, "colour: unknown key"),
])
def test_a_bad_route_exits_2_naming_the_file_route_and_key(site: Site, route, key) -> None:
    path = site.config_file([{"name": "pager", **route}])
    result = run_module("alerts", "--config", str(path), "--once")
    assert result.returncode == 2
    assert str(path) in result.stderr and "#1 (pager)" in result.stderr and key in result.stderr


def test_a_test_message_goes_through_each_channel_and_says_which_arrived(site: Site, receiver: Receiver) -> None:
    path = site.config_file([{"name": "team", "urls": [receiver.url("team-token-abcdef123")], "states": ["overdue"]},
                             {"name": "broken", "urls": ["json://127.0.0.1:9/secret-token-123456"],
                              "states": ["overdue"]}])
    result = run_module("alerts", "--config", str(path), "--test")
    assert result.returncode == 1
    assert "team: json://127.0.0.1/…: sent" in result.stdout and "broken: json://127.0.0.1/…: FAILED" in result.stdout
    assert "secret-token-123456" not in result.stdout + result.stderr
    assert "team-token-abcdef123" not in result.stdout + result.stderr
    (message,) = receiver.messages()
    assert message["title"] == "Ticket Dash: test message" and "'team'" in message["message"]
    assert not (site.root / "state").exists()  # nothing recorded: no database, no outbox, no status
    only = run_module("alerts", "--config", str(path), "--test", "team")
    assert only.returncode == 0 and "broken" not in only.stdout and len(receiver.messages()) == 2
    unknown = run_module("alerts", "--config", str(path), "--test", "pager")
    assert unknown.returncode == 2 and "no route 'pager' (routes: team, broken)" in unknown.stderr


@pytest.mark.parametrize("kind", ["fifo", "directory", "binary"])
def test_a_urls_file_that_is_not_a_readable_text_file_exits_2_at_once(site: Site, kind: str) -> None:
    import os

    urls = site.root / "config" / "alert_urls.txt"
    urls.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(urls)  # opening it for reading would wait for a writer forever
    elif kind == "directory":
        urls.mkdir()
    else:
        urls.write_bytes(b"\xff\xfejson://x\n")
    path = site.config_file([{"name": "pager", "urls_file": "alert_urls.txt", "states": ["overdue"]}])
    result = run_module("alerts", "--config", str(path), "--once", timeout=20)
    assert result.returncode == 2
    assert "#1 (pager) urls_file:" in result.stderr and "cannot be read" in result.stderr


def test_the_process_alerts_live_and_stops_on_sigterm(site: Site, receiver: Receiver) -> None:
    put_ticket(site.tickets, ticket(1))
    path = site.config_file([{"urls": [receiver.url("t0k3n-abcdef-123456")], "states": ["fr_overdue", "overdue"]}])
    process = start_module("alerts", "--config", str(path))
    try:
        wait_for(lambda: (site.root / "state" / "alerts.json").exists(), what="the daemon to start")
        put_ticket(site.tickets, ticket(2, subject="live breach", **OVERDUE))
        wait_for(lambda: receiver.messages(), timeout=10, what="the live breach")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert [m["title"] for m in receiver.messages()] == ["#2 Overdue: live breach"]
    log = process.log.read_text()
    assert "t0k3n-abcdef-123456" not in log and "json://127.0.0.1/…" in log


def test_the_wall_shows_the_last_alert_and_a_failing_delivery(site: Site, receiver: Receiver) -> None:
    put_ticket(site.tickets, ticket(1, **OVERDUE))
    routes = [{"name": "broken", "urls": ["json://127.0.0.1:9/x"], "states": ["overdue"]},
              {"name": "fine", "urls": [receiver.url()], "states": ["overdue"]}]
    step(site.alerts(routes))
    from gui import create_app

    config = configuration.load(site.config_file(routes), environ={})
    app = create_app(config)
    try:
        board = app.test_client().get("/api/board").get_json()
        assert board["alerts"]["last_sent_at"] and board["alerts"]["failing"][0]["route"] == "broken"
    finally:
        app.extensions["ticketdash"].folder.stop()


def test_the_dashboard_serves_the_summary_with_a_chart(site: Site, receiver: Receiver) -> None:
    put_ticket(site.tickets, ticket(1, subject="<script>alert(1)</script> old one", created_at=iso_in(days=-20),
                                    due_by=iso_in(days=-1)))
    (site.root / "config").mkdir(exist_ok=True)
    private(site.root / "config" / "access_key.txt", "wall-key-0123456789\n")
    from gui import create_app

    app = create_app(configuration.load(site.config_file([]), environ={}))
    try:
        client = app.test_client()
        assert client.get("/summary").status_code == 401
        headers = {"Authorization": "Bearer wall-key-0123456789"}
        page = client.get("/summary", headers=headers).get_data(as_text=True)
        assert '<dd id="breaches">1</dd>' in page and page.count("<rect ") == 14
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
        data = client.get("/api/summary", headers=headers).get_json()
        assert data["breaches"] == 1 and data["oldest"][0]["id"] == 1 and len(data["daily_breaches"]) == 14
    finally:
        app.extensions["ticketdash"].folder.stop()


def test_teams_workflows_get_an_adaptive_card_with_the_subject_as_text(site: Site, monkeypatch) -> None:
    teams = Receiver(tls=site.root)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(teams.cert))  # a verified connection, to a certificate made here
    try:
        subject = "[Reset your password](https://evil.example) **now** <b>x</b>"
        put_ticket(site.tickets, ticket(1, subject=subject, **OVERDUE))
        url = f"workflows://127.0.0.1:{teams.port}/flow123/sig456?image=no"
        step(site.alerts([{"urls": [url], "states": ["overdue"]}]))
        (card,) = teams.messages()
        assert card["_path"] == "/workflows/flow123/triggers/manual/paths/invoke"
        content = card["attachments"][0]["content"]
        assert card["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
        texts = [block["text"] for block in content["body"] if block["type"] == "TextBlock"]
        # The title as plain text: Markdown's characters escaped, as Apprise escapes the body
        assert texts[0] == r"\#1 Overdue: \[Reset your password\] \(https://evil\.example\) \*\*now\*\* <b\>x</b\>"
        assert "](" not in " ".join(texts) and "**now**" not in " ".join(texts)
    finally:
        teams.close()


def test_a_second_alerts_daemon_exits_2_and_the_first_sends_alone(site: Site, receiver: Receiver) -> None:
    put_ticket(site.tickets, ticket(1))
    path = site.config_file()
    first = start_module("alerts", "--config", str(path))
    try:
        wait_for(lambda: (site.root / "state" / "alerts.json").exists(), what="the first daemon")
        second = run_module("alerts", "--config", str(path), timeout=30)
        assert second.returncode == 2 and "another alerts daemon is already running" in second.stderr
        assert str(path) in second.stderr
        put_ticket(site.tickets, ticket(2, **OVERDUE))
        wait_for(lambda: receiver.messages(), timeout=10, what="the breach")
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=10) == 0
    assert len(receiver.messages()) == 1
