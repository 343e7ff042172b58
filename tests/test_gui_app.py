"""The dashboard app through Flask's test client: sections, views, ETags, bad files, access."""

from __future__ import annotations

import json

import pytest

from tests.helpers import iso_in, private, put_ticket, ticket, wait_for, write_heartbeat


def board(client, query: str = "") -> dict:
    response = client.get("/api/board" + query)
    assert response.status_code == 200, response.data
    return response.get_json()


def ids(section: dict) -> list[int]:
    return [t["id"] for t in section["tickets"]]


def test_sections_order_and_contract_fields(board_env) -> None:
    t = board_env.tickets
    put_ticket(t, ticket(1))  # ok
    put_ticket(t, ticket(2, stats={"first_responded_at": None}, fr_due_by=iso_in(hours=-1)))  # fr_overdue
    put_ticket(t, ticket(3, due_by=iso_in(hours=2)))  # critical, later
    put_ticket(t, ticket(4, due_by=iso_in(hours=1), priority=1))  # critical, sooner
    put_ticket(t, ticket(5, due_by=iso_in(hours=2), priority=4))  # critical, same time as 3, urgent
    put_ticket(t, ticket(6, stats={"requester_responded_at": iso_in(minutes=-1)}))  # customer replied
    put_ticket(t, ticket(7, status=3))  # pending
    put_ticket(t, ticket(8, status=6))  # custom status, named in the discovered statuses
    (t / "_names").mkdir()
    (t / "_names" / "statuses.txt").write_text("6:Waiting on Customer\n")
    (t / "_names" / "agents.txt").write_text("21000000001:Ada Lovelace\n")
    data = board(board_env.client())
    sections = {s["key"]: s for s in data["sections"]}
    assert [s["key"] for s in data["sections"]] == ["open", "waiting", "other"]
    assert [s["title"] for s in data["sections"]] == ["Open", "Waiting on agent", "Other active"]
    assert ids(sections["open"]) == [2, 4, 5, 3, 1]
    assert ids(sections["waiting"]) == [6] and ids(sections["other"]) == [7, 8]
    assert data["worst"] == "fr_overdue" and data["stale"] is False
    assert data["counts"]["critical"] == 3 and data["counts"]["paused"] == 2
    first = sections["open"]["tickets"][0]
    assert first["url"] == "https://acme.freshservice.com/a/tickets/2"
    assert first["agent"] == "Ada Lovelace" and first["state"] == "fr_overdue" and first["due_kind"] == "first_response"
    assert sections["other"]["tickets"][1]["status_name"] == "Waiting on Customer"
    for key in ("id", "subject", "status", "status_name", "priority", "agent", "requester", "state", "due_at", "url"):
        assert key in first
    assert data["next_breach"]["id"] == 4
    assert data["generated_at"].endswith("Z") and data["data_as_of"].endswith("Z")


def test_views_agent_filter_and_errors(board_env) -> None:
    t = board_env.tickets
    put_ticket(t, ticket(1, group_id=11, responder_id=21))
    put_ticket(t, ticket(2, group_id=12, responder_id=22, type="Service Request"))
    put_ticket(t, ticket(3, group_id=11, workspace_id=5, responder_id=22))
    client = board_env.client(views={"net": {"title": "Network", "groups": [11]},
                                     "sr": {"types": ["Service Request"]}, "ws5": {"workspaces": [5]}},
                              gui={"default_view": "net"})
    every = lambda d: sorted(i for s in d["sections"] for i in ids(s))  # noqa: E731
    assert every(board(client)) == [1, 3]  # the default view
    assert every(board(client, "?view=all")) == [1, 2, 3]
    assert every(board(client, "?view=sr")) == [2]
    assert every(board(client, "?view=ws5")) == [3]
    assert every(board(client, "?view=all&agent=22")) == [2, 3]
    assert every(board(client, "?view=net&agent=22")) == [3]
    unknown = board(client, "?view=all&agent=22")  # no names file names agent 22: a typo, never all clear
    assert unknown["worst"] == "error" and "unknown agent 22" in unknown["health"]["reason"]
    assert client.get("/api/board?view=nope").status_code == 404
    assert client.get("/api/board?agent=bob").status_code == 400
    page = client.get("/")
    assert page.status_code == 200 and b'<option value="net" selected>Network</option>' in page.data


def test_etag_and_304(board_env) -> None:
    put_ticket(board_env.tickets, ticket(1))
    client = board_env.client()
    first = client.get("/api/board")
    etag = first.headers["ETag"]
    again = client.get("/api/board", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    listed = client.get("/api/board", headers={"If-None-Match": f'"other", {etag}'})
    assert listed.status_code == 304  # a list of tags, as caches send
    assert client.get("/api/board", headers={"If-None-Match": '"other"'}).status_code == 200
    put_ticket(board_env.tickets, ticket(2))
    changed = wait_for(lambda: (r := client.get("/api/board", headers={"If-None-Match": etag})).status_code == 200 and r,
                       what="the new ticket")
    assert changed.headers["ETag"] != etag


def test_a_corrupt_file_never_blanks_the_board_nor_turns_it_clear(board_env) -> None:
    t = board_env.tickets
    put_ticket(t, ticket(1))
    put_ticket(t, ticket(2))
    client = board_env.client()
    assert board(client)["worst"] == "clear"
    (t / "2.json").write_text('{"id": 2, "subject": "half')
    data = wait_for(lambda: (d := board(client))["unreadable"] and d, what="the corrupt file")
    assert [u["id"] for u in data["unreadable"]] == [2] and data["worst"] == "error"
    assert sorted(i for s in data["sections"] for i in ids(s)) == [1, 2]  # the last good copy stays
    (t / "3.json").write_bytes(b"\xff\xfe garbage")
    data = wait_for(lambda: len((d := board(client))["unreadable"]) == 2 and "UTF-8" in d["unreadable"][1]["reason"]
                    and d, what="a second one, fully written")
    assert [u["file"] for u in data["unreadable"]] == ["2.json", "3.json"]
    assert client.get("/healthz").get_json()["status"] == "error"
    put_ticket(t, ticket(2, subject="fixed"))
    (t / "3.json").unlink()
    data = wait_for(lambda: not (d := board(client))["unreadable"] and d, what="the repair")
    assert data["worst"] == "clear"


@pytest.mark.parametrize("beat, worst, health", [
    ({"last_success_at": iso_in(minutes=-10)}, "stale", "stale"),  # stale_after = 3 x 60 s
    ({"last_error": "Freshservice rejected the API key (401)"}, "error", "error"),
    (None, "stale", "stale"),
    ("garbage", "error", "error"),
])
def test_old_or_failing_data_is_never_clear(board_env, beat, worst: str, health: str) -> None:
    t = board_env.tickets
    put_ticket(t, ticket(1))
    if beat is None:
        (t / "_watcher.json").unlink()
    elif beat == "garbage":
        (t / "_watcher.json").write_text("{not json")
    else:
        write_heartbeat(t, **beat)
    client = board_env.client()
    data = board(client)
    assert data["worst"] == worst and data["stale"] is True
    assert client.get("/healthz").get_json()["status"] == health
    assert [ids(s) for s in data["sections"]][0] == [1]  # the last good data is still shown


def test_healthz_ok(board_env) -> None:
    body = board_env.client().get("/healthz")
    assert body.status_code == 200 and body.get_json()["status"] == "ok"


def test_read_only_and_security_headers(board_env) -> None:
    client = board_env.client()
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)("/api/board").status_code == 405
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_title_is_escaped(board_env) -> None:
    page = board_env.client(gui={"title": "<script>alert(1)</script>"}).get("/").data
    assert b"<script>alert(1)</script>" not in page and b"&lt;script&gt;" in page


def test_kiosk_access_key(board_env) -> None:
    board_env.config_dir.mkdir(exist_ok=True)
    private(board_env.config_dir / "access_key.txt", "tv-secret-123-abcdefgh\n")
    client = board_env.client()
    assert client.get("/").status_code == 401
    assert client.get("/api/board").status_code == 401
    assert client.get("/healthz").status_code == 200  # health carries no ticket data
    first = client.get("/?key=tv-secret-123-abcdefgh&view=all")
    assert first.status_code == 303 and first.headers["Location"] == "/?view=all"
    cookie = first.headers["Set-Cookie"]
    assert "tv-secret-123-abcdefgh" not in cookie and "HttpOnly" in cookie
    assert client.get("/api/board").status_code == 200  # the cookie now admits the TV
    other = board_env.app().test_client()
    assert other.get("/api/board", headers={"Authorization": "Bearer tv-secret-123-abcdefgh"}).status_code == 200
    assert other.get("/api/board", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert other.get("/?key=wrong").status_code == 401


def test_healthz_without_the_key_says_only_ok_stale_or_error(board_env) -> None:
    board_env.config_dir.mkdir(exist_ok=True)
    private(board_env.config_dir / "access_key.txt", "tv-secret-1234567\n")
    write_heartbeat(board_env.tickets, last_error="cannot reach acme.freshservice.com: timed out")
    client = board_env.client()
    anonymous = client.get("/healthz")
    assert anonymous.status_code == 503 and anonymous.get_json() == {"status": "error", "demo": False}
    assert b"acme" not in anonymous.data
    known = client.get("/healthz", headers={"Authorization": "Bearer tv-secret-1234567"})
    assert known.status_code == 503 and "acme.freshservice.com" in known.get_json()["reason"]
    assert known.get_json()["worst"] == "error"


def test_network_allowlist(board_env) -> None:
    client = board_env.client(gui={"allow_networks": ["10.1.0.0/16"]})
    assert client.get("/", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/", environ_base={"REMOTE_ADDR": "10.2.0.1"}).status_code == 403
    # Loopback only when it really is the client: named by the proxy, or not the proxy itself.
    assert client.get("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 403
    assert client.get("/", environ_base={"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}).status_code == 200
    assert client.get("/", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_names_from_the_persons_files_win(board_env) -> None:
    t = board_env.tickets
    put_ticket(t, ticket(1, requester_id=77))
    (t / "_names").mkdir()
    (t / "_names" / "requesters.txt").write_text("77:Discovered Name\n")
    board_env.config_dir.mkdir(exist_ok=True)
    (board_env.config_dir / "requesters.txt").write_text("77:Carol (VIP)\n")
    data = board(board_env.client())
    assert data["sections"][0]["tickets"][0]["requester"] == "Carol (VIP)"


def test_blinky_status_is_shown(board_env) -> None:
    (board_env.tickets / "_light.json").write_text(json.dumps({"state": "critical", "device": "simulated"}))
    assert board(board_env.client())["light"]["state"] == "critical"


def test_metrics_follow_the_board_and_its_access_rules(board_env) -> None:
    board_env.config_dir.mkdir(exist_ok=True)
    private(board_env.config_dir / "access_key.txt", "tv-secret-123-abcdefgh\n")
    put_ticket(board_env.tickets, ticket(1, due_by=iso_in(minutes=-5)))
    put_ticket(board_env.tickets, ticket(2, due_by=iso_in(hours=3)))
    write_heartbeat(board_env.tickets, api={"calls": 3, "credits": 7, "remaining": 130, "total": 140})
    client = board_env.client()
    assert client.get("/metrics").status_code == 401
    response = client.get("/metrics", headers={"Authorization": "Bearer tv-secret-123-abcdefgh"})
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    for line in ('ticketdash_tickets{state="overdue"} 1.0', 'ticketdash_tickets{state="critical"} 1.0',
                 'ticketdash_section_tickets{section="open",state="overdue"} 1.0',
                 'ticketdash_board_state{state="overdue"} 1.0', 'ticketdash_board_state{state="clear"} 0.0',
                 "ticketdash_breached_tickets 1.0", "ticketdash_unreadable_tickets 0.0",
                 "ticketdash_watcher_api_calls 3.0", "ticketdash_watcher_api_credits 7.0",
                 "ticketdash_watcher_rate_limit_remaining 130.0"):
        assert line in text.splitlines(), line
    age = float(next(l for l in text.splitlines() if l.startswith("ticketdash_data_age_seconds ")).split()[1])
    until = float(next(l for l in text.splitlines() if l.startswith("ticketdash_next_breach_seconds ")).split()[1])
    assert 0 <= age < 60 and 3 * 3600 - 60 < until <= 3 * 3600
    assert "tv-secret-123-abcdefgh" not in text


def test_a_non_ascii_key_is_refused_not_a_500(board_env) -> None:
    board_env.config_dir.mkdir(exist_ok=True)
    private(board_env.config_dir / "access_key.txt", "tv-secret-123-abcdefgh\n")
    client = board_env.client()
    assert client.get("/?key=cl%C3%A9").status_code == 401
    assert client.get("/", headers={"Cookie": "ticketdash_access=\u00e9t\u00e9"}).status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer \u00e9"}).status_code == 401


@pytest.mark.parametrize("content, why", [
    ("", "needs a key of at least 16 characters"), ("short-key\n", "needs a key of at least 16 characters"),
    ("open-to-everyone-0123", r"others can read it \(mode 0644\): chmod o-rwx "), (None, "cannot be read"),
])
def test_an_access_key_file_that_cannot_be_used_stops_the_dashboard(board_env, content, why) -> None:
    from ticketdash.config import ConfigError

    board_env.config_dir.mkdir(exist_ok=True)
    key = board_env.config_dir / "access_key.txt"
    if content is None:
        key.mkdir()  # unreadable as a file even for root, like a mode-600 file for the service user
    elif content.startswith("open"):
        key.write_text(content)
        key.chmod(0o644)
    else:
        private(key, content)
    with pytest.raises(ConfigError, match=rf"\[gui\] access_key_file: .*access_key.txt: {why}"):
        board_env.config()


def test_the_monitoring_docs_use_metrics_that_exist(board_env) -> None:
    import re
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs" / "monitoring"
    dashboard = json.loads((docs / "grafana-dashboard.json").read_text())
    used = {m for p in dashboard["panels"] for t in p["targets"] for m in re.findall(r"ticketdash_\w+", t["expr"])}
    used |= set(re.findall(r"ticketdash_\w+", (docs / "ticketdash-alerts.yml").read_text()))
    write_heartbeat(board_env.tickets, api={"calls": 1, "credits": 1, "remaining": 10, "total": 100})
    put_ticket(board_env.tickets, ticket(1, due_by=iso_in(hours=3)))
    text = board_env.client().get("/metrics").get_data(as_text=True)
    exposed = set(re.findall(r"^(ticketdash_\w+?)(?:\{| )", text, re.M))
    assert used - {"ticketdash"} <= exposed


def test_the_demos_ticket_numbers_link_to_the_dashboards_own_ticket_page(board_env) -> None:
    put_ticket(board_env.tickets, ticket(101, subject="<b>Laptop</b> fan"))
    write_heartbeat(board_env.tickets, source="demo", ticket_link="/ticket/{id}")  # what the demo watcher announces
    client = board_env.client(watcher={"source": "demo"})
    row = board(client)["sections"][0]["tickets"][0]
    assert row["url"] == "/ticket/101"
    page = client.get("/ticket/101").get_data(as_text=True)
    assert "&lt;b&gt;Laptop&lt;/b&gt; fan" in page and "<b>Laptop" not in page
    assert client.get("/ticket/999").status_code == 404


def test_the_factory_builds_the_app_from_a_mapping_with_its_blueprints(tmp_path) -> None:
    from gui import create_app
    from ticketdash import config as configuration
    from tests.helpers import site_mapping

    (tmp_path / "tickets").mkdir()
    write_heartbeat(tmp_path / "tickets")
    app = create_app(configuration.build(site_mapping(gui={"title": "Service desk"}), tmp_path / "conf" / "x.toml"))
    try:
        assert set(app.blueprints) == {"wall", "api", "monitoring", "summary", "acknowledge"}
        client = app.test_client()
        assert "Service desk" in client.get("/").get_data(as_text=True)
        assert client.get("/healthz").status_code == 200 and client.get("/api/board").status_code == 200
        assert client.post("/api/board").status_code == 405  # no write path is open
    finally:
        app.extensions["ticketdash"].folder.stop()


def test_a_right_to_left_override_stays_inside_its_field_on_the_ticket_page(board_env) -> None:
    put_ticket(board_env.tickets, ticket(5, subject="\u202eevil override", description_text="\u202edescription"))
    client = board_env.client()
    page = client.get("/ticket/5?helpdesk=").get_data(as_text=True)
    assert "<h1>#5 <bdi>evil override</bdi></h1>" in page  # the override is gone; the field is still isolated
    assert "<bdi>description</bdi>" in page


def test_demo_data_says_so_on_every_page_and_in_healthz(board_env) -> None:
    write_heartbeat(board_env.tickets, source="demo", ticket_link="/ticket/{id}")
    put_ticket(board_env.tickets, ticket(1))
    client = board_env.client()
    for path in ("/", "/summary", "/ticket/1"):
        page = client.get(path).get_data(as_text=True)
        assert 'id="demo-ribbon" role="status">Demo data — not your helpdesk' in page, path
    assert client.get("/healthz").get_json()["demo"] is True
    assert board(client)["demo"] is True
    write_heartbeat(board_env.tickets, source="freshservice")  # the admin connected the real helpdesk
    wait_for(lambda: board(client)["demo"] is False, what="the real helpdesk")
    assert 'id="demo-ribbon" role="status" hidden>' in client.get("/").get_data(as_text=True)
    assert client.get("/healthz").get_json()["demo"] is False


def test_bidi_overrides_never_reach_a_reader(board_env) -> None:
    put_ticket(board_env.tickets, ticket(5, subject="\u202eevil\u2066 \u05e9\u05dc\u05d5\u05dd\u2069",
                                         description_text="\u202dplain \u202c text"))
    client = board_env.client()
    row = client.get("/api/board").get_json()["sections"][0]["tickets"][0]
    assert row["subject"] == "evil \u05e9\u05dc\u05d5\u05dd" and row["excerpt"] == "plain  text"
    page = client.get("/ticket/5").get_data(as_text=True)
    assert "\u202e" not in page and "\u05e9\u05dc\u05d5\u05dd" in page  # right-to-left script itself is kept


def test_a_typo_gets_the_list_of_what_there_is(board_env) -> None:
    client = board_env.client(views={"net": {"title": "Network", "groups": [11]}}, walls={"lobby": {"views": ["net"]}})
    for path in ("/nope", "/wall/lobbby", "/ticket/999"):
        page = client.get(path)
        assert page.status_code == 404
        text = page.get_data(as_text=True)
        assert "Network" in text and 'href="/?view=net"' in text and 'href="/wall/lobby"' in text
    api = client.get("/api/nope")
    assert api.status_code == 404 and api.get_json()["views"] == ["all", "net"]
    hostile = client.get("/<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert" not in hostile


def test_the_ticket_page_reads_like_the_wall(board_env) -> None:
    put_ticket(board_env.tickets, ticket(5, due_by=iso_in(minutes=-30), description_text="line one\nline two"))
    page = board_env.client().get("/ticket/5").get_data(as_text=True)
    assert '<dd class="state-word">Overdue</dd>' in page and "resolution due " in page
    assert "line one\nline two" in page  # kept; the page shows the breaks (white-space: pre-line)
