""""Assign to me": the dashboard queues, the watcher alone writes to (the fake) Freshservice, with its
write key, within its budget, once; the agent sees what happened, 403 included."""

from __future__ import annotations

import json
import signal
from datetime import timedelta

import pytest
import requests

from ticketdash import claims, timefmt
from tests.fakefs import FakeFreshservice, iso
from tests.helpers import KEY, free_port, private, run_module, start_module, wait_for

WRITE_KEY = "write-key-0123456789abcdef"
ADA = 21000000007
OVERDUE = {"due_by": iso(timefmt.now() - timedelta(minutes=30))}


class Desk:
    """The fake Freshservice, a watcher and a dashboard on one config, and Ada as an operator."""

    def __init__(self, fake: FakeFreshservice, make_config, **gui: object) -> None:
        fake.write_key = WRITE_KEY
        fake.add_person("agent", ADA, "Ada", "Lovelace")
        fake.add_ticket(id=42, subject="Printer on fire", **OVERDUE)
        fake.add_ticket(id=43, subject="VPN down", **OVERDUE)
        self.fake = fake
        self.port = free_port()
        self.config = make_config(freshservice={"write_api_key_file": "write_token.txt"},
                                  gui={"port": self.port, "refresh_seconds": 0.5, **gui})
        private(self.config.parent / "write_token.txt", WRITE_KEY + "\n")
        self.tickets = self.config.parent.parent / "tickets"
        self.url = f"http://127.0.0.1:{self.port}"
        added = run_module("gui", "operators", "add", "Ada Lovelace", "--agent-id", str(ADA), "--config", str(self.config))
        assert added.returncode == 0, added.stderr
        self.token = added.stdout.strip().splitlines()[-1]
        self.watcher = self.start_watcher()
        self.gui = start_module("gui", "--config", str(self.config))
        wait_for(lambda: (self.tickets / "42.json").exists(), what="the first sync")
        wait_for(self.up, what="the dashboard")
        wait_for(lambda: {42, 43} <= self.on_the_wall(), what="the tickets on the wall")

    def on_the_wall(self) -> set[int]:
        board = requests.get(self.url + "/api/board", timeout=5).json()
        return {t["id"] for section in board["sections"] for t in section["tickets"]}

    def up(self) -> bool:
        try:
            return requests.get(self.url + "/healthz", timeout=1).status_code in (200, 503)
        except requests.RequestException:
            return False

    def start_watcher(self):
        return start_module("watcher", "--config", str(self.config))

    def claim(self, ticket: int) -> requests.Response:
        return requests.post(self.url + "/api/claim", json={"ticket": ticket},
                             headers={"Authorization": f"Bearer {self.token}"}, timeout=5)

    def result(self, claim_id: str) -> dict:
        return claims.results(self.tickets).get(claim_id, {})

    def writes(self, method: str, ticket: int) -> list:
        suffix = "/notes" if method == "POST" else ""
        return [w for w in self.fake.writes if w[0] == method and w[1] == f"/api/v2/tickets/{ticket}{suffix}"]

    def stop(self) -> None:
        for process in (self.watcher, self.gui):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                assert process.wait(timeout=10) == 0


@pytest.fixture
def live(fake: FakeFreshservice, make_config):
    made = Desk(fake, make_config)
    yield made
    made.stop()


def test_assign_to_me_sets_the_responder_and_a_private_note_once(live: Desk) -> None:
    answer = live.claim(42)
    assert answer.status_code == 202, answer.text
    claim_id = answer.json()["claim"]
    wait_for(lambda: live.result(claim_id).get("status") == "done", what="the claim sent and verified")
    assert live.fake.tickets[42]["responder_id"] == ADA
    (note,) = live.fake.notes[42]
    assert note["body"] == "Acknowledged on the wall by Ada Lovelace" and note["private"] is True
    assert live.writes("PUT", 42) == [("PUT", "/api/v2/tickets/42", {"responder_id": ADA})]
    log = live.watcher.log.read_text()
    assert WRITE_KEY not in log and KEY not in log and "ticket 42 assigned to Ada Lovelace" in log

    live.watcher.send_signal(signal.SIGTERM)  # a restart sends nothing again
    assert live.watcher.wait(timeout=10) == 0
    live.watcher = live.start_watcher()
    beat = lambda: json.loads((live.tickets / "_watcher.json").read_text())  # noqa: E731
    wait_for(lambda: beat().get("pid") == live.watcher.pid and beat().get("cycles", 0) >= 2, what="two cycles after")
    assert len(live.writes("PUT", 42)) == 1 and len(live.fake.notes[42]) == 1


def test_a_claim_the_watcher_stopped_sending_is_never_sent_again(live: Desk) -> None:
    live.watcher.send_signal(signal.SIGTERM)
    assert live.watcher.wait(timeout=10) == 0
    answer = live.claim(43)
    claim_id = answer.json()["claim"]
    (queued,) = claims.waiting(live.config.parent.parent / "dashboard-tickets" / "claims")
    claims.record(live.tickets, {}, queued, claims.SENDING, "", timefmt.now())  # as a watcher killed mid-claim left it
    live.watcher = live.start_watcher()
    wait_for(lambda: live.result(claim_id).get("status") == "failed", what="the half-sent claim reported")
    assert "stopped while sending" in live.result(claim_id)["error"]
    assert live.writes("PUT", 43) == [] and 43 not in live.fake.notes


def test_who_may_claim(live: Desk) -> None:
    kiosk = requests.post(live.url + "/api/claim", json={"ticket": 42}, timeout=5)
    assert kiosk.status_code == 401
    assert requests.get(live.url + "/api/claim", timeout=5).status_code == 405  # a GET never claims
    assert live.claim(999).status_code == 404
    bob = run_module("gui", "operators", "add", "Bob", "--config", str(live.config))  # no agent id
    refused = requests.post(live.url + "/api/claim", json={"ticket": 42}, timeout=5,
                            headers={"Authorization": "Bearer " + bob.stdout.strip().splitlines()[-1]})
    assert refused.status_code == 409 and "--agent-id" in refused.json()["error"]
    assert live.writes("PUT", 42) == []


@pytest.mark.slow
def test_the_agent_sees_a_403_in_the_browser(live: Desk, page) -> None:
    live.fake.write_role_ok = False  # the write key's agent role may not assign
    page.goto(live.url + "/signin")
    page.fill("input[name=name]", "Ada Lovelace")
    page.fill("input[name=token]", live.token)
    page.click("form.signin button")
    page.wait_for_selector("tr[data-id='42'] button[data-act=claim]")
    page.click("tr[data-id='42'] button[data-act=claim]")
    page.wait_for_function("() => document.getElementById('operator-status').textContent.startsWith('Not assigned #42')",
                           timeout=15_000)
    assert "403: the write key's agent role cannot assign tickets" in page.locator("#operator-status").inner_text()
    assert live.fake.tickets[42]["responder_id"] is None and 42 not in live.fake.notes
    assert page.errors == []


def test_a_claim_refuses_the_kiosk_key_and_forgeries(desk) -> None:
    """The Flask app alone: the kiosk key (bearer or its cookie), another site, a browser without the
    session's CSRF token: none queues a claim."""
    from tests.test_acknowledge import bearer

    private(desk.config_dir / "access_key.txt", "kiosk-key-0123456789\n")
    client = desk.client(gui={"access_key_file": "access_key.txt"},
                             freshservice={"write_api_key_file": "write_token.txt"})
    outbox = desk.tickets.parent / "dashboard-tickets" / "claims"
    assert client.post("/api/claim", json={"ticket": 42}, headers=bearer("kiosk-key-0123456789")).status_code == 403
    client.get("/?key=kiosk-key-0123456789")  # the TV's cookie
    assert client.post("/api/claim", json={"ticket": 42}).status_code == 403
    cross = client.post("/api/claim", json={"ticket": 42},
                        headers={**bearer(desk.token), "Origin": "https://evil.example"})
    assert cross.status_code == 403
    page = client.get("/signin")
    csrf = page.get_data(as_text=True).split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/signin", data={"name": "Ada Lovelace", "token": desk.token, "csrf": csrf}).status_code == 303
    assert client.post("/api/claim", json={"ticket": 42}).status_code == 403  # no CSRF token
    assert client.post("/api/claim", json={"ticket": 42}, headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert claims.waiting(outbox) == []
    me = client.get("/api/me").get_json()
    assert client.post("/api/claim", json={"ticket": 42}, headers={"X-CSRF-Token": me["csrf"]}).status_code == 202
    assert [c.ticket for c in claims.waiting(outbox)] == [42]


def test_a_note_that_failed_is_never_posted_again(live: Desk) -> None:
    """A 500 on the note may mean it was written: the watcher never retries a POST (but after a 429)."""
    live.fake.fault("status", "tickets/42/notes", times=1, status=500)  # a retry would then succeed
    claim_id = live.claim(42).json()["claim"]
    wait_for(lambda: live.result(claim_id).get("status") == "failed", what="the claim failed")
    assert live.result(claim_id)["error"] == "POST /api/v2/tickets/42/notes: server error (500) (gave up after 1 tries)"
    assert 42 not in live.fake.notes


def test_the_outbox_reads_only_claims(tmp_path) -> None:
    import os

    outbox = tmp_path / "claims"
    made = claims.put(outbox, 42, ADA, "Ada\nLovelace", timefmt.now())
    os.mkfifo(outbox / "fifo.json")  # never opened: reading it would hang the watcher
    (outbox / "junk.json").write_text("{not json")
    (outbox / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (outbox / "other.json").write_text(json.dumps({"id": "x", "ticket": "42", "agent_id": ADA, "by": "x", "at": "now"}))
    found = claims.waiting(outbox)
    assert [c.id for c in found] == [made.id] and found[0].by == "Ada Lovelace"  # one line, whatever was sent
    assert claims.waiting(outbox, {made.id}) == []
