"""The watcher against a hostile or broken Freshservice: it never loses a live ticket, never
freezes on one bad ticket, never waits unbounded, and never shows the key."""

from __future__ import annotations

import base64
import json
import signal
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from ticketdash.store import TicketStore
from tests.helpers import KEY, run_module, start_module, wait_for
from tests.fakefs import FakeFreshservice, iso
from tests.test_sync import archived, make_syncer, on_disk
from watcher.client import ApiClient
from watcher.transport import ApiError, SourceError

NOW = datetime.now(timezone.utc)
Answer = tuple[int, Any, dict[str, str], int]


def overdue_helpdesk(fake: FakeFreshservice, count: int) -> None:
    for n in range(1, count + 1):
        fake.add_ticket(id=n, due_by=iso(NOW - timedelta(hours=1)), fr_due_by=iso(NOW - timedelta(hours=2)))


def reconcile_due(syncer) -> None:
    syncer.last_full = datetime.now(timezone.utc) - timedelta(hours=2)


def listing(path: str, query: dict[str, str]) -> bool:
    return path.endswith("/tickets") and query.get("updated_since") == "2000-01-01T00:00:00Z"


def no_filter(path: str, query: dict[str, str], answer: Answer) -> Answer | None:
    """A Freshservice without the filter endpoint: reconciles list every ticket."""
    return (404, {}, {}, 1) if path.endswith("/tickets/filter") else None


def twist(fake: FakeFreshservice, *rules) -> None:
    def apply(path: str, query: dict[str, str], answer: Answer) -> Answer:
        for rule in rules:
            changed = rule(path, query, answer)
            if changed is not None:
                return changed
        return answer

    fake.twist = apply


# -- 1. archive on evidence only --------------------------------------------------


def redirect(path, query, answer):
    if listing(path, query) and query.get("page") == "2":
        return 302, {}, {"Location": "http://example.invalid/api/v2/tickets"}, 1
    return None


def empty_first_page(path, query, answer):
    if listing(path, query) or path.endswith("/tickets/filter"):
        body = {"tickets": []} if listing(path, query) else {"tickets": [], "total": 0}
        return 200, body, {}, 1
    return None


def empty_second_page(path, query, answer):
    if listing(path, query) and query.get("page") == "2":
        return 200, {"tickets": []}, answer[2], 1
    return None


@pytest.mark.parametrize("hostile, failed", [
    (redirect, "redirected (302)"),
    (empty_second_page, "page 2 is empty"),
    (empty_first_page, "is not coherent: it left out 129 of 129"),  # kept, but nobody is told otherwise
], ids=["302 to another host", "empty second page", "empty first page"])
@pytest.mark.parametrize("filtered", [True, False], ids=["filter reconcile", "full listing"])
def test_a_broken_listing_never_archives_a_live_ticket(fake, tmp_path: Path, hostile, failed, filtered) -> None:
    overdue_helpdesk(fake, 129)
    syncer = make_syncer(fake, tmp_path)
    syncer.cycle()
    assert len(on_disk(syncer)) == 129
    syncer.cursor = None if not filtered else syncer.cursor  # without a cursor: a full listing
    twist(fake, *([no_filter] if not filtered else []), hostile)
    reconcile_due(syncer)
    for _ in range(3):
        try:
            syncer.cycle()
        except SourceError as error:
            assert failed and failed in str(error)
    assert len(on_disk(syncer)) == 129 and archived(syncer) == {}


def test_the_same_page_under_new_numbers_fails_the_sweep(fake, tmp_path: Path) -> None:
    overdue_helpdesk(fake, 250)
    syncer = make_syncer(fake, tmp_path)
    syncer.cycle()
    page_two = fake.route("/api/v2/tickets", {"updated_since": "2000-01-01T00:00:00Z", "include": "stats",
                                               "per_page": "100", "page": "2"})[1]["tickets"]

    def repeat(path, query, answer):
        if listing(path, query) and query.get("page") == "3":
            return 200, {"tickets": page_two}, {"link": "<{base}?" + "page=4&per_page=100" + '>; rel="next"'}, 1
        return None

    twist(fake, no_filter, repeat)
    syncer.cursor = None
    with pytest.raises(SourceError, match="page 3 repeats tickets already listed"):
        syncer.cycle()
    assert len(on_disk(syncer)) == 250 and archived(syncer) == {}


def test_a_ticket_deleted_mid_sweep_shifts_pages_but_loses_nothing(fake, tmp_path: Path) -> None:
    overdue_helpdesk(fake, 250)
    syncer = make_syncer(fake, tmp_path)
    syncer.cycle()

    def delete_during_sweep(path, query, answer):
        if listing(path, query) and query.get("page") == "2" and not fake.tickets[250]["deleted"]:
            fake.tickets[250]["deleted"] = True  # the newest: every later page shifts by one
            return fake.route(path, query)
        return None

    twist(fake, no_filter, delete_during_sweep)
    syncer.cursor = None
    result = syncer.cycle()
    assert result.confirmed >= 1  # the ticket that slid between pages was asked about, not dropped
    assert set(range(1, 250)) <= on_disk(syncer) and archived(syncer) == {}
    reconcile_due(syncer)
    syncer.cycle()  # the next reconcile finds the deleted one gone, and says so per ticket
    assert on_disk(syncer) == set(range(1, 250)) and set(archived(syncer)) == {250}


def test_more_than_the_share_is_confirmed_one_by_one_never_in_bulk(fake, tmp_path: Path) -> None:
    overdue_helpdesk(fake, 100)
    syncer = make_syncer(fake, tmp_path, max_archive_share=0.1)
    syncer.cycle()
    for n in range(1, 41):
        fake.tickets[n]["deleted"] = True  # really gone, but only a per-ticket answer may say so
    reconcile_due(syncer)
    first = syncer.cycle()
    assert first.archived == 10 and len(syncer.unconfirmed) == 30  # 10 % of 100 per cycle
    for _ in range(10):
        if syncer.unconfirmed:
            syncer.cycle()
    assert on_disk(syncer) == set(range(41, 101)) and set(archived(syncer)) == set(range(1, 41))


def test_a_404_is_evidence_and_so_is_spam(fake, tmp_path: Path) -> None:
    overdue_helpdesk(fake, 10)
    syncer = make_syncer(fake, tmp_path)
    syncer.cycle()
    del fake.tickets[3]  # purged: 404
    fake.tickets[4]["spam"] = True
    reconcile_due(syncer)
    syncer.cycle()
    assert on_disk(syncer) == set(range(1, 11)) - {3, 4} and set(archived(syncer)) == {3, 4}
    assert archived(syncer)[3]["id"] == 3  # filed with its last known content


# -- 2. a cursor that never runs ahead of time -------------------------------------


@pytest.mark.parametrize("future", ["9999-12-31T23:59:59Z", iso(NOW + timedelta(days=1))],
                         ids=["year 9999", "tomorrow"])
def test_a_ticket_dated_in_the_future_does_not_freeze_the_cursor(fake, tmp_path: Path, caplog, future) -> None:
    fake.add_ticket(id=1)
    fake.add_ticket(id=2, updated_at=future)
    syncer = make_syncer(fake, tmp_path)
    syncer.cycle()
    assert syncer.cursor <= datetime.now(timezone.utc) + timedelta(minutes=2)
    fake.update_ticket(1, subject="changed after the future ticket")
    syncer.cycle()
    syncer.cycle()
    assert json.loads((syncer.store.folder / "1.json").read_text())["subject"] == "changed after the future ticket"
    told = [r for r in caplog.records if "in the future" in r.getMessage()]
    assert len(told) == 1 and "ticket 2" in told[0].getMessage()


# -- 3. one bad ticket never stops the rest ------------------------------------------


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("raw, why", [
    (b'{"id": "42", "status": 2}', "id"),
    (b'{"id": "../x", "status": 2}', "id"),
    (b'{"id": true, "status": 2}', "id"),
    (b'{"id": -5, "status": 2}', "id"),
    (b'{"id": ' + b"9" * 300 + b', "status": 2}', "id"),
    (b'{"id": 42, "status": 2, "type": ["Incident"]}', "type"),
    (b'{"id": 42, "status": [2], "type": "Incident"}', "status"),
    (b'{"id": 42, "status": 2, "type": "Incident", "subject": "bad \\ud800 text"}', "encoded"),
    (b'{"id": 42, "status": 2, "type": "Incident", "custom_fields": {"x": ' + DEEP + b"}}", "nested"),
], ids=["id string", "id path", "id bool", "id negative", "id 300 digits", "type list", "status list",
        "lone surrogate", "nested 100,000 deep"])
def test_one_malformed_ticket_is_skipped_and_named(fake, tmp_path: Path, raw: bytes, why: str) -> None:
    for n in (1, 2, 3):
        fake.add_ticket(id=n)

    def inject(path, query, answer):
        if path.endswith("/tickets") and answer[0] == 200:
            good = json.dumps(answer[1]["tickets"]).encode()
            return 200, b'{"tickets": ' + good[:-1] + b", " + raw + b"]}", answer[2], answer[3]
        return None

    twist(fake, inject)
    syncer = make_syncer(fake, tmp_path)
    syncer.cycle()
    assert on_disk(syncer) == {1, 2, 3}
    (skipped,) = syncer.skipped_list()
    assert why in skipped["reason"]
    syncer.cycle()  # and again: it does not fail every cycle
    assert on_disk(syncer) == {1, 2, 3}


def test_skipped_tickets_reach_the_heartbeat_and_the_board(fake, make_config) -> None:
    fake.add_ticket(id=1)

    def inject(path, query, answer):
        if path.endswith("/tickets") and answer[0] == 200:
            bad = {"id": 77, "status": [2], "type": "Incident"}
            return 200, {"tickets": answer[1]["tickets"] + [bad]}, answer[2], answer[3]
        return None

    twist(fake, inject)
    config = make_config()
    result = run_module("watcher", "--config", str(config), "--once")
    assert result.returncode == 0, result.stderr
    beat = json.loads((config.parent.parent / "tickets" / "_watcher.json").read_text())
    assert beat["skipped"] == [{"id": 77, "reason": "status is not a number"}]
    assert result.stderr.count("ticket 77 skipped") == 1
    from ticketdash import config as configuration
    from gui import create_app

    app = create_app(configuration.load(config, environ={}))
    try:
        board = app.test_client().get("/api/board").get_json()
        assert board["worst"] == "error" and board["unreadable"][0]["id"] == 77
        assert [t["id"] for t in board["sections"][0]["tickets"]] == [1]
    finally:
        app.extensions["ticketdash"].folder.stop()


# -- 4. deadlines --------------------------------------------------------------------


class Dripping:
    """An HTTP server that sends its answer one byte a second."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/api/v2"

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        conn.recv(65536)
        body = b'{"tickets": []}' + b" " * 200
        data = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        try:
            for byte in data:
                if self.stopping.wait(1.0):
                    break
                conn.sendall(bytes([byte]))
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stopping.set()
        self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept(), which a close alone does not
        self.sock.close()
        self.thread.join(timeout=5)


def test_a_dripping_server_is_cut_at_the_call_timeout() -> None:
    from ticketdash.secrets import Secret

    server = Dripping()
    try:
        client = ApiClient(server.url, Secret(KEY), timeout=3, max_retries=0)
        began = time.monotonic()
        with pytest.raises(ApiError, match="timed out"):
            client.get("tickets")
        assert time.monotonic() - began < 6
    finally:
        server.close()


def test_an_oversized_body_is_refused(fake) -> None:
    from ticketdash.secrets import Secret

    fake.add_ticket(id=1, description_text="x" * 200_000)
    client = ApiClient(fake.base_url + "/api/v2", Secret(KEY), max_body_bytes=100_000, max_retries=0)
    with pytest.raises(ApiError, match="larger than 100000 bytes"):
        client.get("tickets/1")


def test_a_cycle_has_a_deadline(fake, tmp_path: Path) -> None:
    overdue_helpdesk(fake, 10)
    fake.latency = 0.3
    syncer = make_syncer(fake, tmp_path)
    syncer.source.set_deadline(time.monotonic() + 0.5)
    with pytest.raises(SourceError, match="ran out of time|timed out"):
        syncer.cycle()
        syncer.cycle()
    assert on_disk(syncer) <= set(range(1, 11))


# -- 5. secrets ----------------------------------------------------------------------


def test_a_400_that_echoes_the_authorization_header_shows_no_key(fake, make_config) -> None:
    basic = base64.b64encode(f"{KEY}:X".encode()).decode()

    def echo(path, query, answer):
        return 400, {"description": "Validation failed", "code": "invalid_value",
                     "echo": f"Authorization: Basic {basic} key={KEY}",
                     "errors": [{"field": "per_page", "code": "invalid_value", "message": basic}]}, {}, 1

    twist(fake, echo)
    config = make_config()
    result = run_module("watcher", "--config", str(config), "--once")
    assert result.returncode == 1
    folder = config.parent.parent / "tickets"
    beat = (folder / "_watcher.json").read_text()
    assert "HTTP 400 (invalid_value, per_page)" in json.loads(beat)["last_error"]
    for text in (result.stderr, beat):
        for form in (KEY, basic, basic.rstrip("="), f"{KEY}:X", base64.b64encode(KEY.encode()).decode()):
            assert form not in text


# -- 6. say why before waiting -------------------------------------------------------


def test_a_long_retry_after_is_announced_in_the_heartbeat(fake, make_config) -> None:
    fake.add_ticket(id=1)
    fake.fault("status", path="tickets", status=429, retry_after=600, times=1)
    config = make_config()
    process = start_module("watcher", "--config", str(config))
    beat_file = config.parent.parent / "tickets" / "_watcher.json"
    try:
        beat = wait_for(lambda: beat_file.exists() and json.loads(beat_file.read_text()).get("waiting"),
                        what="the heartbeat saying why it waits")
        assert beat["why"].startswith("rate limited by Freshservice until ")
        until = datetime.fromisoformat(beat["until"].replace("Z", "+00:00"))
        assert timedelta(minutes=9) < until - datetime.now(timezone.utc) <= timedelta(minutes=10)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    from ticketdash import config as configuration
    from gui import create_app

    app = create_app(configuration.load(config, environ={}))
    try:
        health = app.test_client().get("/healthz")
        assert health.status_code == 503 and "rate limited by Freshservice until" in health.get_json()["reason"]
    finally:
        app.extensions["ticketdash"].folder.stop()


# -- 7. tidy files -------------------------------------------------------------------


def test_leftovers_are_removed_and_the_archive_is_pruned(fake, make_config) -> None:
    fake.add_ticket(id=1)
    config = make_config(watcher={"archive_days": 30})
    folder = config.parent.parent / "tickets"
    today = datetime.now(timezone.utc).date()
    old, recent = today - timedelta(days=31), today - timedelta(days=29)
    for day in (old, recent):
        (folder / "archive" / day.isoformat()).mkdir(parents=True)
        (folder / "archive" / day.isoformat() / "9.json").write_text("{}")
    (folder / "archive" / recent.isoformat() / ".tmp-abc.part").write_text("half")
    (folder / "_names").mkdir()
    (folder / "_names" / ".tmp-def.part").write_text("half")
    result = run_module("watcher", "--config", str(config), "--once")
    assert result.returncode == 0, result.stderr
    assert not list(folder.rglob(".tmp-*"))
    assert not (folder / "archive" / old.isoformat()).exists()
    assert (folder / "archive" / recent.isoformat() / "9.json").exists()


# -- scale ---------------------------------------------------------------------------


def test_a_reconcile_costs_the_active_tickets_not_the_history(fake, tmp_path: Path, make_config) -> None:
    fake.populate(total=3000, active=60)
    config = make_config(watcher={"max_calls_per_minute": 1000})
    assert run_module("watcher", "--config", str(config), "--once").returncode == 0
    fake.requests.clear()
    # A restart: it resumes from the heartbeat's cursor and checks the active set; no history sweep.
    assert run_module("watcher", "--config", str(config), "--once").returncode == 0
    tickets = [q for p, q in fake.requests if p.startswith("/api/v2/tickets")]
    assert len(tickets) <= 4, tickets
    assert not [q for q in tickets if q.get("updated_since") == "2000-01-01T00:00:00Z"]
    folder = config.parent.parent / "tickets"
    assert len(list(folder.glob("[0-9]*.json"))) == 60
    assert TicketStore(folder).read_heartbeat()["counts"]["active"] == 60
