"""Pushes: a Workflow Automator webhook names a ticket; the watcher fetches it through the API at once."""

from __future__ import annotations

import json
import socket
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from ticketdash import timefmt
from ticketdash.secrets import Secret
from tests.fakefs import FakeFreshservice
from tests.helpers import free_port, private, start_module, wait_for
from watcher.hooks import HEADER, MAX_BODY, PATH, Pushes, Receiver, ticket_id

SECRET = "push-secret-5f2a9c81d7e34b60"


@pytest.mark.parametrize("body, expected", [
    (b"123", 123), (b'"123"', 123), (b'"INC-123"', 123), (b'"SR-123"', 123), (b'{"ticket_id": "INC-7"}', 7),
    (b'{"id": 42}', 42), (b'{"ticket_id": 9, "status": "Closed", "subject": "<script>"}', 9),
    (b'"abc"', None), (b'"INC-"', None), (b"-5", None), (b"0", None), (b"true", None), (b'{"ticket_id": [1]}', None),
    (b'"123; DROP"', None), (b"9" * 40, None), (b"[" * 100_000, None), (b"\xff\xfe", None), (b"", None),
])
def test_only_the_ticket_id_is_read_from_a_push(body: bytes, expected: int | None) -> None:
    assert ticket_id(body) == expected


class Pushed:
    """A receiver on a free port, in this process, queueing into `pushes`."""

    def __init__(self, held_until: Any = None, limit: int = 1000) -> None:
        self.pushes = Pushes(limit)
        self.held = held_until
        self.receiver = Receiver("127.0.0.1", 0, Secret(SECRET), self.pushes, lambda: self.held)
        self.receiver.start()
        self.url = f"http://127.0.0.1:{self.receiver.port}{PATH}"

    def post(self, body: Any, secret: str | None = SECRET, path: str = PATH) -> requests.Response:
        headers = {HEADER: secret} if secret is not None else {}
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return requests.post(f"http://127.0.0.1:{self.receiver.port}{path}", data=data, headers=headers, timeout=5)


@pytest.fixture
def pushed():
    made: list[Pushed] = []

    def make(**options: Any) -> Pushed:
        made.append(Pushed(**options))
        return made[-1]

    yield make
    for one in made:
        one.receiver.stop()


def test_a_push_needs_the_secret_and_a_ticket_id(pushed) -> None:
    hooks = pushed()
    assert hooks.post({"ticket_id": "INC-5"}, secret=None).status_code == 401
    assert hooks.post({"ticket_id": "INC-5"}, secret="push-secret-5f2a9c81d7e34b6").status_code == 401
    assert hooks.post({"ticket_id": "INC-5"}, secret=SECRET + "0").status_code == 401
    assert hooks.post({"ticket_id": "nonsense"}).status_code == 400
    assert hooks.post({"ticket_id": "INC-5"}, path="/hooks/other").status_code == 404
    assert requests.get(hooks.url, headers={HEADER: SECRET}, timeout=5).status_code == 405  # a GET changes nothing
    assert hooks.pushes.take(10) == []
    assert hooks.post({"ticket_id": "INC-5"}).status_code == 202
    assert hooks.pushes.take(10) == [5]


def test_a_body_over_the_cap_is_refused_unread(pushed) -> None:
    hooks = pushed()
    with socket.create_connection(("127.0.0.1", hooks.receiver.port), timeout=5) as conn:
        conn.sendall(f"POST {PATH} HTTP/1.1\r\nHost: x\r\n{HEADER}: {SECRET}\r\n"
                     f"Content-Length: {1024 * 1024}\r\n\r\n".encode() + b"1" * 65536)
        answer = conn.recv(1024)
    assert answer.startswith(b"HTTP/1.0 413") or answer.startswith(b"HTTP/1.1 413")
    assert hooks.post(b"1" * (MAX_BODY + 1)).status_code == 413
    assert hooks.pushes.take(10) == []


def test_a_flood_of_pushes_is_one_fetch_per_ticket_and_a_full_queue_says_later(pushed) -> None:
    hooks = pushed(limit=3)
    session = requests.Session()
    statuses = [session.post(hooks.url, data=b'"INC-1"', headers={HEADER: SECRET}, timeout=5).status_code
                for _ in range(300)]
    assert set(statuses) == {202}
    assert [hooks.post(n).status_code for n in (2, 3, 4)] == [202, 202, 503]
    assert hooks.post(4).headers["Retry-After"] == "60"
    assert hooks.pushes.take(10) == [1, 2, 3]
    session.close()


def test_while_rate_limited_a_push_is_told_to_come_back(pushed) -> None:
    hooks = pushed(held_until=timefmt.now() + timedelta(minutes=10))
    answer = hooks.post({"ticket_id": 8})
    assert answer.status_code == 503 and 590 <= int(answer.headers["Retry-After"]) <= 601
    assert hooks.pushes.take(10) == []


def test_a_slow_client_is_cut_off_and_idle_sockets_do_not_stop_the_rest(pushed) -> None:
    hooks = pushed()
    idle = [socket.create_connection(("127.0.0.1", hooks.receiver.port), timeout=10) for _ in range(40)]
    try:
        assert hooks.post(11).status_code in (202, 503)  # answered, not hung, with 40 sockets idle
        began = time.monotonic()
        assert idle[0].recv(1) == b""  # the server hangs up on a client that sends nothing
        assert time.monotonic() - began < 8
    finally:
        for conn in idle:
            conn.close()


def push_config(make_config, tmp_path: Path, port: int) -> Path:
    (tmp_path / "config").mkdir(parents=True, exist_ok=True)
    private(tmp_path / "config" / "webhook_secret.txt", SECRET + "\n")
    return make_config(watcher={"poll_seconds": 300, "webhook_port": port})


def test_a_pushed_ticket_is_on_disk_within_seconds_at_the_cost_of_one_call(
        fake: FakeFreshservice, make_config, tmp_path: Path) -> None:
    fake.add_ticket(id=1)
    fake.add_ticket(id=2)
    port = free_port()
    config = push_config(make_config, tmp_path, port)
    folder = config.parent.parent / "tickets"
    daemon = start_module("watcher", "--config", str(config))
    try:
        wait_for(lambda: (folder / "_watcher.json").exists(), what="the first cycle")
        url = f"http://127.0.0.1:{port}{PATH}"
        # a new ticket and a change; polling would see them in five minutes
        fake.add_ticket(id=3, subject="Printer on fire")
        fake.tickets[2]["status"] = 5
        seen = len(fake.requests)
        began = time.monotonic()
        for named in ("SR-3", "INC-2", "INC-2"):
            assert requests.post(url, json={"ticket_id": named}, headers={HEADER: SECRET}, timeout=5).status_code == 202
        wait_for(lambda: (folder / "3.json").exists() and not (folder / "2.json").exists(), timeout=10,
                 what="the pushed tickets")
        assert time.monotonic() - began < 5
        assert json.loads((folder / "3.json").read_text())["subject"] == "Printer on fire"
        assert any((folder / "archive").rglob("2.json"))  # it left on the helpdesk's word
        calls = [path for path, _ in fake.requests[seen:]]
        # the API, never the payload: one call per pushed ticket (the repeat, if it came after the fetch, one more)
        assert set(calls) == {"/api/v2/tickets/2", "/api/v2/tickets/3"} and len(calls) <= 3
        # a deleted ticket's id: asked about once, nothing written
        fake.tickets[1]["deleted"] = True
        assert requests.post(url, data=b"1", headers={HEADER: SECRET}, timeout=5).status_code == 202
        wait_for(lambda: not (folder / "1.json").exists(), timeout=10, what="the deleted ticket to leave")
        assert requests.post(url, data=b"999", headers={HEADER: SECRET}, timeout=5).status_code == 202
        fetched = len(calls) + 2
        wait_for(lambda: json.loads((folder / "_watcher.json").read_text()).get("pushes", {}).get("fetched") == fetched,
                 timeout=10, what="every fetch in the heartbeat")
        assert not (folder / "999.json").exists()
        assert SECRET not in daemon.log.read_text()
    finally:
        daemon.terminate()
        assert daemon.wait(timeout=10) == 0


def test_pushes_without_a_usable_secret_do_not_start(fake: FakeFreshservice, make_config, tmp_path: Path) -> None:
    from tests.helpers import run_module

    config = make_config(watcher={"webhook_port": free_port()})
    result = run_module("watcher", "--config", str(config))
    assert result.returncode == 2
    assert "[watcher] webhook_secret_file" in result.stderr and str(config) in result.stderr
    private(config.parent / "webhook_secret.txt", "short\n")
    result = run_module("watcher", "--config", str(config))
    assert result.returncode == 2 and "at least 16 characters" in result.stderr


@pytest.mark.slow
def test_a_push_through_nginx_reaches_the_receiver_and_nothing_else_does(gui_server, nginx, pushed) -> None:
    server = gui_server().start()
    hooks = pushed()
    https, _, cert = nginx(server.port, hooks.receiver.port)
    url = f"{https}{PATH}"
    answer = requests.post(url, json={"ticket_id": "INC-4"}, headers={HEADER: SECRET}, verify=cert, timeout=5)
    assert answer.status_code == 202 and hooks.pushes.take(10) == [4]
    assert requests.post(url, json={"ticket_id": 4}, verify=cert, timeout=5).status_code == 401
    assert requests.get(url, headers={HEADER: SECRET}, verify=cert, timeout=5).status_code == 403
    assert requests.post(url, data=b"1" * 100_000, headers={HEADER: SECRET}, verify=cert, timeout=5).status_code == 413
    assert requests.post(f"{https}/hooks/zendesk", json={"ticket_id": 4}, headers={HEADER: SECRET}, verify=cert,
                         timeout=5).status_code in (404, 405)  # only the one path reaches the receiver
    assert hooks.pushes.take(10) == []


def test_a_flood_of_forged_pushes_is_one_log_line(pushed, caplog) -> None:
    import logging

    hooks = pushed()
    with caplog.at_level(logging.INFO, logger="watcher.hooks"):
        statuses = {hooks.post({"ticket_id": n}, secret="forged-secret-000000").status_code for n in range(200)}
    assert statuses == {401}
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1 and "forged" not in caplog.text
