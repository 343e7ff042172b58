"""`startup/kiosk.sh`: the TV shows a waiting page at once, says why it waits, and opens the wall when it answers."""

from __future__ import annotations

import http.server
import os
import signal
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Iterator

import pytest

from gui.certificate import make
from tests.helpers import ROOT, free_port, wait_for

KEY = "kiosk-key-0123456789abcdef"


class Wall(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (answers /healthz too: the kiosk asks it whether the wall is up)
        body = b"<!doctype html><title>The wall</title><h1>Ticket Dash</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def certificate(folder: Path, names: list[str]) -> tuple[Path, Path]:
    cert, key = make(names, 2)
    (folder / "cert.pem").write_bytes(cert)
    (folder / "key.pem").write_bytes(key)
    return folder / "cert.pem", folder / "key.pem"


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that refuses the certificate ends the handshake: expected here


def serve_tls(port: int, cert: Path, key: Path) -> http.server.ThreadingHTTPServer:
    server = QuietServer(("127.0.0.1", port), Wall)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator:
    """Runs kiosk.sh with a stand-in browser that records how it was started."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "chromium").write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/browser-args\nexec sleep 600\n')
    (bin_dir / "chromium").chmod(0o755)
    started: list[subprocess.Popen] = []

    def run(url: str, ca: Path) -> subprocess.Popen:
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path / "home"),
               "TICKETDASH_KIOSK_POLL": "0.2"}
        with (tmp_path / "kiosk.log").open("w") as log:
            process = subprocess.Popen(["bash", str(ROOT / "startup" / "kiosk.sh"), url, str(ca)], env=env,
                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        started.append(process)
        return process

    yield run
    for process in started:
        if process.poll() is not None:
            continue
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def waiting_page(tmp_path: Path) -> str:
    page = tmp_path / "home" / ".config" / "ticketdash-kiosk" / "waiting.html"
    return page.read_text() if page.exists() else ""


def test_the_tv_waits_on_a_page_that_says_why_then_opens_the_wall(kiosk, tmp_path: Path) -> None:
    cert, key = certificate(tmp_path, ["127.0.0.1"])  # a certificate by IP, as the installer now makes
    port = free_port()
    key_file = tmp_path / "home" / ".config" / "ticketdash-kiosk.key"
    key_file.parent.mkdir(parents=True)
    key_file.write_text(KEY)
    key_file.chmod(0o600)
    kiosk(f"https://127.0.0.1:{port}/", cert)
    profile = tmp_path / "home" / ".config" / "ticketdash-kiosk"
    args_file = tmp_path / "browser-args"
    args = wait_for(lambda: args_file.exists() and args_file.read_text(), what="the browser, started at once")
    assert f"file://{profile}/waiting.html" in args and KEY not in args  # never the key on the command line
    assert (profile.stat().st_mode & 0o777) == 0o700
    wait_for(lambda: f"nothing answers yet at https://127.0.0.1:{port}/" in waiting_page(tmp_path),
             what="the reason on the waiting page")
    assert KEY not in waiting_page(tmp_path) and KEY not in (tmp_path / "kiosk.log").read_text()
    server = serve_tls(port, cert, key)
    try:
        wait_for(lambda: 'action="https://127.0.0.1:' in waiting_page(tmp_path), what="the switch to the wall")
        page = profile / "waiting.html"
        assert KEY in page.read_text() and (page.stat().st_mode & 0o077) == 0  # the key once, in a private file
    finally:
        server.shutdown()
        server.server_close()


def test_the_tv_shows_its_key_once_out_of_every_url_and_log(kiosk, tmp_path: Path, gui_server, nginx, browser) -> None:
    """kiosk.sh, Debian's Chromium, nginx and the dashboard: a device key from a private file, exchanged
    for a cookie by a form, and never in a URL, the history, a log or the command line."""
    from tests.helpers import put_ticket, run_module, ticket, write_heartbeat

    server = gui_server().start()
    write_heartbeat(server.tickets)
    put_ticket(server.tickets, ticket(7, subject="Seen through the cookie"))
    added = run_module("gui", "keys", "add", "lobby-tv", "--config", str(server.config))
    device_key = added.stdout.strip().splitlines()[-1]
    https, http, cert = nginx(server.port)
    key_file = tmp_path / "home" / ".config" / "ticketdash-kiosk.key"
    key_file.parent.mkdir(parents=True)
    key_file.write_text(device_key + "\n")
    key_file.chmod(0o644)
    refused = kiosk(https + "/", cert)
    assert refused.wait(timeout=10) == 1  # others could read the key: refused, with how to fix it
    assert f"chmod 600 {key_file}" in (tmp_path / "kiosk.log").read_text()
    key_file.chmod(0o600)
    kiosk(https + "/", cert)
    page_file = tmp_path / "home" / ".config" / "ticketdash-kiosk" / "waiting.html"
    wait_for(lambda: "/access" in waiting_page(tmp_path), what="the switch to the wall")
    context = browser.new_context(ignore_https_errors=True)  # Chromium's trust store is the kiosk's NSS db
    try:
        tv = context.new_page()
        tv.goto(f"file://{page_file}")
        tv.wait_for_url(https + "/", timeout=20_000)
        tv.wait_for_selector("tr[data-id='7']")  # the page's own requests carry the cookie
        history = tv.evaluate("() => location.href")
        assert device_key not in history
    finally:
        context.close()
    for text in ((cert.parent / "access.log").read_text(), (cert.parent / "error.log").read_text(),
                 (tmp_path / "kiosk.log").read_text(), server.process.log.read_text()):
        assert device_key not in text
    assert run_module("gui", "keys", "revoke", "lobby-tv", "--config", str(server.config)).returncode == 0
    import requests

    assert requests.get(https + "/api/board", verify=cert, timeout=5).status_code == 401


def test_a_certificate_without_the_address_is_named_as_the_reason(kiosk, tmp_path: Path) -> None:
    cert, key = certificate(tmp_path, ["wall.example.lan"])  # the old certificate: host names only
    port = free_port()
    server = serve_tls(port, cert, key)
    try:
        kiosk(f"https://127.0.0.1:{port}/?key={KEY}", cert)
        wait_for(lambda: "certificate is not trusted for this address" in waiting_page(tmp_path),
                 what="the certificate named as the reason")
        assert "url=" not in waiting_page(tmp_path)  # the key never goes to a server that cannot prove itself
    finally:
        server.shutdown()
        server.server_close()
