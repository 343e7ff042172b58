"""HTTPS: the shipped nginx site in front of waitress, with a certificate the test makes."""

from __future__ import annotations

import pytest
import requests

from tests.helpers import private

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
    private(server.config.parent.joinpath("access_key.txt"), "kiosk-key-9-0123456789\n")
    server.start()
    https, _, cert = nginx(server.port)
    through_tls = requests.get(https + "/?key=kiosk-key-9-0123456789", verify=cert, allow_redirects=False)
    assert through_tls.status_code == 303 and "Secure" in through_tls.headers["Set-Cookie"]
    direct = requests.get(server.url + "/?key=kiosk-key-9-0123456789", allow_redirects=False)
    assert direct.status_code == 303 and "Secure" not in direct.headers["Set-Cookie"]


def test_the_kiosk_key_never_reaches_nginx_logs_nor_the_redirect(gui_server, nginx) -> None:
    server = gui_server()
    private(server.config.parent.joinpath("access_key.txt"), "kiosk-key-9-0123456789\n")
    server.start()
    https, http, cert = nginx(server.port)
    exchanged = requests.get(https + "/wall/none?key=kiosk-key-9-0123456789", verify=cert, allow_redirects=False)
    assert exchanged.status_code == 303 and exchanged.headers["Location"] == "/wall/none"
    plain = requests.get(http + "/?key=kiosk-key-9-0123456789&view=all", allow_redirects=False)
    assert plain.status_code == 301 and "kiosk-key" not in plain.headers["Location"]
    assert server.stop() == 0  # the dashboard down: nginx answers 502 and logs errors
    for _ in range(3):
        assert requests.get(https + "/?key=kiosk-key-9-0123456789", verify=cert).status_code == 502
    assert requests.get(https + "/api/board", verify=cert).status_code == 502
    errors = (cert.parent / "error.log").read_text()
    assert "connect() failed" in errors and "kiosk-key-9" not in errors  # logged, but never with the key
    server.start()
    assert requests.post(https + "/api/board", data=b"x" * 100_000, verify=cert).status_code == 413
    log = cert.parent / "access.log"
    from tests.helpers import wait_for

    wait_for(lambda: log.exists() and log.read_text().count("\n") >= 3, what="nginx's access log")
    text = log.read_text()
    assert "GET / HTTP" in text and "kiosk-key-9-0123456789" not in text and "key=" not in text
