"""HTTPS: the shipped nginx site in front of waitress, with a certificate the test makes."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.slow


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


def test_the_kiosk_key_never_reaches_nginx_access_log(gui_server, nginx) -> None:
    server = gui_server()
    server.config.parent.joinpath("access_key.txt").write_text("kiosk-key-9\n")
    server.start()
    https, http, cert = nginx(server.port)
    assert requests.get(https + "/?key=kiosk-key-9", verify=cert, allow_redirects=False).status_code == 302
    assert requests.get(http + "/?key=kiosk-key-9", allow_redirects=False).status_code == 301
    assert requests.post(https + "/api/board", data=b"x" * 100_000, verify=cert).status_code == 413
    log = cert.parent / "access.log"
    from tests.helpers import wait_for

    wait_for(lambda: log.exists() and log.read_text().count("\n") >= 3, what="nginx's access log")
    text = log.read_text()
    assert "GET / HTTP" in text and "kiosk-key-9" not in text and "key=" not in text
