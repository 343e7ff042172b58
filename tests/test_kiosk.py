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
    def do_GET(self) -> None:  # noqa: N802
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
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def waiting_page(tmp_path: Path) -> str:
    page = tmp_path / "home" / ".config" / "ticketdash-kiosk" / "waiting.html"
    return page.read_text() if page.exists() else ""


def test_the_tv_waits_on_a_page_that_says_why_then_opens_the_wall(kiosk, tmp_path: Path, browser) -> None:
    cert, key = certificate(tmp_path, ["127.0.0.1"])  # a certificate by IP, as the installer now makes
    port = free_port()
    url = f"https://127.0.0.1:{port}/?key={KEY}"
    kiosk(url, cert)
    profile = tmp_path / "home" / ".config" / "ticketdash-kiosk"
    args_file = tmp_path / "browser-args"
    args = wait_for(lambda: args_file.exists() and args_file.read_text(), what="the browser, started at once")
    assert f"file://{profile}/waiting.html" in args and KEY not in args  # never the key on the command line
    assert (profile.stat().st_mode & 0o777) == 0o700
    wait_for(lambda: f"nothing answers yet at https://127.0.0.1:{port}/" in waiting_page(tmp_path),
             what="the reason on the waiting page")
    assert KEY not in waiting_page(tmp_path) and KEY not in (tmp_path / "kiosk.log").read_text()

    # Real Chromium shows the waiting page and follows it to the wall once the wall answers.
    context = browser.new_context(ignore_https_errors=True)  # Chromium's trust store is the kiosk's NSS db
    try:
        tv = context.new_page()
        tv.goto(f"file://{profile}/waiting.html")
        assert "Waiting for the dashboard" in tv.inner_text("h1")
        server = serve_tls(port, cert, key)
        try:
            tv.wait_for_url(f"https://127.0.0.1:{port}/**", timeout=20_000)
            assert tv.inner_text("h1") == "Ticket Dash"
        finally:
            server.shutdown()
            server.server_close()
    finally:
        context.close()


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
