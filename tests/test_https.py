"""HTTPS: the shipped nginx site in front of waitress, with a certificate the test makes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from gui.certificate import make
from tests.conftest import ROOT, free_port, wait_for

pytestmark = pytest.mark.slow
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture
def nginx(tmp_path: Path):
    started = []

    def start(upstream_port: int) -> tuple[str, str, Path]:
        cert, key = make(["127.0.0.1", "localhost"], days=2)
        (tmp_path / "cert.pem").write_bytes(cert)
        (tmp_path / "key.pem").write_bytes(key)
        http_port, https_port = free_port(), free_port()
        site = (ROOT / "startup" / "nginx-ticketdash.conf").read_text()
        for name, value in {"HTTP_PORT": http_port, "HTTPS_PORT": https_port, "UPSTREAM": f"127.0.0.1:{upstream_port}",
                            "CERT": tmp_path / "cert.pem", "KEY": tmp_path / "key.pem"}.items():
            site = site.replace(f"@{name}@", str(value))
        (tmp_path / "site.conf").write_text(site)
        temp = "".join(f"{kind}_temp_path {tmp_path}/{kind};\n" for kind in
                       ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (tmp_path / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nworker_processes 1;\n"
            + "events { worker_connections 64; }\n"
            + f"http {{\naccess_log off;\n{temp}include {tmp_path}/site.conf;\n}}\n")
        process = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                                    "-g", "daemon off;"], stderr=subprocess.DEVNULL)
        started.append(process)

        def up() -> bool:
            assert process.poll() is None, (tmp_path / "error.log").read_text()
            try:
                return requests.get(f"https://127.0.0.1:{https_port}/healthz", verify=tmp_path / "cert.pem",
                                    timeout=1).ok
            except requests.RequestException:
                return False

        wait_for(up, what="nginx over HTTPS")
        return f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}", tmp_path / "cert.pem"

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def test_the_page_over_https_through_nginx(gui_server, nginx) -> None:
    server = gui_server().start()
    https, http, cert = nginx(server.port)
    page = requests.get(https + "/", verify=cert)
    assert page.status_code == 200 and "Ticket Dash" in page.text
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    board = requests.get(https + "/api/board", verify=cert)
    assert board.ok and board.json()["sections"][0]["key"] == "open"
    assert requests.get(https + "/api/board", verify=cert, headers={"If-None-Match": board.headers["ETag"]}).status_code == 304
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(https + "/")  # a self-signed certificate is not trusted by default
    redirect = requests.get(http + "/?view=all", allow_redirects=False)
    assert redirect.status_code == 301 and redirect.headers["Location"] == https + "/?view=all"


def test_the_scheme_passes_through_to_waitress(gui_server, nginx) -> None:
    server = gui_server()
    server.config.parent.joinpath("access_key.txt").write_text("kiosk-key-9\n")
    server.start()
    https, _, cert = nginx(server.port)
    through_tls = requests.get(https + "/?key=kiosk-key-9", verify=cert, allow_redirects=False)
    assert through_tls.status_code == 302 and "Secure" in through_tls.headers["Set-Cookie"]
    direct = requests.get(server.url + "/?key=kiosk-key-9", allow_redirects=False)
    assert direct.status_code == 302 and "Secure" not in direct.headers["Set-Cookie"]
