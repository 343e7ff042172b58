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
def desk(fake: FakeFreshservice, make_config):
    made = Desk(fake, make_config)
    yield made
    made.stop()


def test_assign_to_me_sets_the_responder_and_a_private_note_once(desk: Desk) -> None:
    answer = desk.claim(42)
    assert answer.status_code == 202, answer.text
    claim_id = answer.json()["claim"]
    wait_for(lambda: desk.result(claim_id).get("status") == "done", what="the claim sent and verified")
    assert desk.fake.tickets[42]["responder_id"] == ADA
    (note,) = desk.fake.notes[42]
    assert note["body"] == "Acknowledged on the wall by Ada Lovelace" and note["private"] is True
    assert desk.writes("PUT", 42) == [("PUT", "/api/v2/tickets/42", {"responder_id": ADA})]
    log = desk.watcher.log.read_text()
    assert WRITE_KEY not in log and KEY not in log and "ticket 42 assigned to Ada Lovelace" in log

    desk.watcher.send_signal(signal.SIGTERM)  # a restart sends nothing again
    assert desk.watcher.wait(timeout=10) == 0
    desk.watcher = desk.start_watcher()
    beat = lambda: json.loads((desk.tickets / "_watcher.json").read_text())  # noqa: E731
    wait_for(lambda: beat().get("pid") == desk.watcher.pid and beat().get("cycles", 0) >= 2, what="two cycles after")
    assert len(desk.writes("PUT", 42)) == 1 and len(desk.fake.notes[42]) == 1


def test_a_claim_the_watcher_stopped_sending_is_never_sent_again(desk: Desk) -> None:
    desk.watcher.send_signal(signal.SIGTERM)
    assert desk.watcher.wait(timeout=10) == 0
    answer = desk.claim(43)
    claim_id = answer.json()["claim"]
    (queued,) = claims.waiting(desk.config.parent.parent / "dashboard-tickets" / "claims")
    claims.record(desk.tickets, {}, queued, claims.SENDING, "", timefmt.now())  # as a watcher killed mid-claim left it
    desk.watcher = desk.start_watcher()
    wait_for(lambda: desk.result(claim_id).get("status") == "failed", what="the half-sent claim reported")
    assert "stopped while sending" in desk.result(claim_id)["error"]
    assert desk.writes("PUT", 43) == [] and 43 not in desk.fake.notes


def test_who_may_claim(desk: Desk) -> None:
    kiosk = requests.post(desk.url + "/api/claim", json={"ticket": 42}, timeout=5)
    assert kiosk.status_code == 401
    assert requests.get(desk.url + "/api/claim", timeout=5).status_code == 405  # a GET never claims
    assert desk.claim(999).status_code == 404
    bob = run_module("gui", "operators", "add", "Bob", "--config", str(desk.config))  # no agent id
    refused = requests.post(desk.url + "/api/claim", json={"ticket": 42}, timeout=5,
                            headers={"Authorization": "Bearer " + bob.stdout.strip().splitlines()[-1]})
    assert refused.status_code == 409 and "--agent-id" in refused.json()["error"]
    assert desk.writes("PUT", 42) == []


@pytest.mark.slow
def test_the_agent_sees_a_403_in_the_browser(desk: Desk, page) -> None:
    desk.fake.write_role_ok = False  # the write key's agent role may not assign
    page.goto(desk.url + "/signin")
    page.fill("input[name=name]", "Ada Lovelace")
    page.fill("input[name=token]", desk.token)
    page.click("form.signin button")
    page.wait_for_selector("tr[data-id='42'] button[data-act=claim]")
    page.click("tr[data-id='42'] button[data-act=claim]")
    page.wait_for_function("() => document.getElementById('operator-status').textContent.startsWith('Not assigned #42')",
                           timeout=15_000)
    assert "403: the write key's agent role cannot assign tickets" in page.locator("#operator-status").inner_text()
    assert desk.fake.tickets[42]["responder_id"] is None and 42 not in desk.fake.notes
    assert page.errors == []
