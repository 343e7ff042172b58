"""The light fails closed: anything it cannot judge shows error, never the last colour."""

from __future__ import annotations

import http.server
import json
import signal
from pathlib import Path
from typing import Any

import pytest

from ticketdash.board import Judge
from tests.helpers import iso_in, put_ticket, run_module, serve, ticket, unserve, wait_for, write_config
from tests.test_blinky import GREEN, MAGENTA, RED, Running, critical_blinky, folder_with, last

# One machine's lights have one owner: these tests run blinky on them one at a time.
pytestmark = pytest.mark.xdist_group("light")


def test_an_exception_while_judging_shows_error_not_the_last_colour(tmp_path: Path, fake_lights, monkeypatch) -> None:
    fake_lights.plug()
    folder = folder_with(tmp_path, ticket(1))
    with Running(tmp_path, fake_lights.module()) as run:
        wait_for(lambda: last(fake_lights) == GREEN, what="green first")

        def broken(*args: Any) -> None:
            raise RuntimeError("a bug in the rules")

        monkeypatch.setattr(Judge, "_verdict", broken)
        put_ticket(folder, ticket(2))
        wait_for(lambda: last(fake_lights) == MAGENTA, timeout=5, what="magenta for the failure")
        wait_for(lambda: run.status().get("state") == "error", what="the status file saying error")
        assert "RuntimeError" in run.status()["reason"]


def test_odd_tickets_beside_an_overdue_one_never_leave_it_green(tmp_path: Path, fake_lights) -> None:
    fake_lights.plug()
    folder = folder_with(tmp_path, ticket(1))
    with Running(tmp_path, fake_lights.module()) as run:
        wait_for(lambda: last(fake_lights) == GREEN, what="green first")
        (folder / "5.json").write_text(json.dumps(ticket(5, updated_at="9999-12-31T23:59:59Z")))
        (folder / "6.json").write_text(json.dumps(ticket(6, status=[2])))
        put_ticket(folder, ticket(7, due_by=iso_in(minutes=-1)))
        wait_for(lambda: run.status().get("state") == "error", timeout=5, what="error, not clear")
        assert last(fake_lights) == MAGENTA
        assert "5" in run.status()["reason"] and "6" in run.status()["reason"]


class _DeepBoard(http.server.BaseHTTPRequestHandler):
    body = b'{"worst": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_remote_answer_nested_very_deep_is_an_error(tmp_path: Path, fake_lights) -> None:
    fake_lights.plug()
    server = serve(_DeepBoard)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with Running(tmp_path, fake_lights.module(), remote_url=url, remote_poll_seconds=1) as run:
            wait_for(lambda: run.status().get("state") == "error", timeout=5, what="error for a deep answer")
            assert last(fake_lights) == MAGENTA
            assert "cannot read the answer" in run.status()["reason"]
    finally:
        unserve(server)


def test_a_second_blinky_exits_2_and_leaves_the_first_alone(tmp_path: Path, fake_lights) -> None:
    folder, config, first = critical_blinky(tmp_path, fake_lights)
    try:
        wait_for(lambda: last(fake_lights) == RED and (folder / "_light.json").exists(),
                 what="the first blinky's red, and its status file")
        status = (folder / "_light.json").read_bytes()
        writes = len(fake_lights.writes())
        second = run_module("blinky", "--config", str(config), env=fake_lights.env(), timeout=20)
        assert second.returncode == 2
        assert "another blinky is already running" in second.stderr and str(config) in second.stderr
        assert (folder / "_light.json").read_bytes() == status
        assert len(fake_lights.writes()) == writes  # not even an "off" on its way out
        # Another status file, same lights: still refused.
        other = write_config(tmp_path / "other", {"freshservice": {"domain": "a.freshservice.com"},
                                                  "paths": {"tickets": str(folder)},
                                                  "blinky": {"device": "luxafor", "status_file": str(tmp_path / "x.json")}},
                             token=None)
        third = run_module("blinky", "--config", str(other), env=fake_lights.env(), timeout=20)
        assert third.returncode == 2 and "Luxafor lights" in third.stderr
        assert len(fake_lights.writes()) == writes and not (tmp_path / "x.json").exists()
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=10) == 0
    assert json.loads((folder / "_light.json").read_text())["state"] == "off"
