"""``python -m gui`` as a real process: waitress serves it, signals end it, config errors exit 2."""

from __future__ import annotations

import signal

import requests

from tests.helpers import run_module, write_config


def test_waitress_serves_and_sigterm_stops_it(gui_server) -> None:
    server = gui_server().start()
    response = requests.get(server.url + "/")
    assert response.status_code == 200 and response.headers["Server"] == "ticketdash"
    assert "Werkzeug" not in response.headers.get("Server", "")
    log = server.process.log.read_text()
    assert "no certificate" in log and "serving plain HTTP" in log
    assert server.stop() == 0


def test_sigint_stops_it_too(gui_server) -> None:
    server = gui_server().start()
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=10) == 0


def test_open_bind_without_protection_warns(gui_server) -> None:
    server = gui_server(gui={"host": "0.0.0.0"}).start()
    assert "anyone who can reach" in server.process.log.read_text()


def test_behind_a_proxy_without_a_key_it_warns_too(gui_server) -> None:
    """Loopback behind nginx is as open as 0.0.0.0: nginx serves it to the whole network."""
    server = gui_server(gui={"host": "127.0.0.1"}).start()
    log = server.process.log.read_text()
    assert "directly or through a proxy such as nginx, can read every ticket" in log


def test_bad_config_exits_2(tmp_path) -> None:
    path = write_config(tmp_path, {"gui": {"prot": 80}})
    result = run_module("gui", "--config", str(path))
    assert result.returncode == 2 and "[gui] prot: unknown key" in result.stderr


def test_certificate_command(tmp_path) -> None:
    path = write_config(tmp_path, {"freshservice": {"domain": "a.freshservice.com"}})
    made = run_module("gui.certificate", "--config", str(path), "--name", "wall.example.lan")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "key.pem").stat().st_mode & 0o777 == 0o600
    assert b"BEGIN CERTIFICATE" in (tmp_path / "cert.pem").read_bytes()
    again = run_module("gui.certificate", "--config", str(path))
    assert again.returncode == 1 and "--force" in again.stderr


def test_it_starts_and_answers_on_a_hostile_folder(gui_server) -> None:
    import os

    server = gui_server()
    depth = 100_000
    (server.tickets / "_watcher.json").write_bytes(b'{"a": ' + b"[" * depth + b"]" * depth + b"}")
    os.mkfifo(server.tickets / "7110.json")
    (server.tickets / "8.json").write_bytes(b'{"id": 8, "status": 2, "x": ' + b"[" * depth + b"]" * depth + b"}")
    server.start()
    health = requests.get(server.url + "/healthz", timeout=5)
    assert health.status_code == 503 and health.json()["status"] == "error"
    board = requests.get(server.url + "/api/board", timeout=5).json()
    assert board["worst"] == "error"
    assert {u["file"] for u in board["unreadable"]} == {"7110.json", "8.json"}
    assert "not a regular file" in board["unreadable"][0]["reason"]


def test_request_bodies_are_refused_before_they_are_spooled(gui_server) -> None:
    server = gui_server().start()
    response = requests.post(server.url + "/api/board", data=b"x" * (1024 * 1024), timeout=10)
    assert response.status_code == 413
    assert requests.post(server.url + "/api/board", data=b"x", timeout=5).status_code == 405
    assert requests.get(server.url + "/healthz", timeout=5).status_code == 200


def test_an_unreadable_access_key_file_exits_2_naming_it(tmp_path) -> None:
    path = write_config(tmp_path, {"freshservice": {"domain": "a.freshservice.com"}})
    (tmp_path / "access_key.txt").mkdir()
    result = run_module("gui", "--config", str(path))
    assert result.returncode == 2
    assert f"{path}: [gui] access_key_file:" in result.stderr and "cannot be read" in result.stderr
