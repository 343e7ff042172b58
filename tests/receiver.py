"""A local HTTP receiver for Apprise's ``json://`` URLs: what a chat or mail service would get."""

from __future__ import annotations

import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler

from tests.helpers import serve, unserve
from pathlib import Path
from typing import Any


class Receiver:
    """Collects every POSTed JSON body; answers with the queued statuses first, then 200."""

    def __init__(self, tls: Path | None = None) -> None:
        self.received: list[dict[str, Any]] = []
        self.arrived: list[float] = []  # time.monotonic() of each accepted message
        self.statuses: list[int] = []  # answers to give before 200 (e.g. [500, 500, 500])
        self.refused = 0
        self.lock = threading.Lock()
        self.cert: Path | None = None
        context = None
        if tls is not None:  # for services Apprise reaches only over HTTPS (Teams' workflows://): a certificate in *tls*
            context, self.cert = _tls_context(tls)
        self.server = serve(self._handler(), tls=context)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def messages(self, path: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.received if path is None or m["_path"] == "/" + path]

    def close(self) -> None:
        unserve(self.server)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    if status == 200:
                        message = json.loads(body)
                        message["_path"] = self.path.split("?")[0]
                        receiver.received.append(message)
                        receiver.arrived.append(time.monotonic())
                    else:
                        receiver.refused += 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler


def _tls_context(folder: Path) -> tuple[ssl.SSLContext, Path]:
    from gui.certificate import make

    cert, key = make(["127.0.0.1"], days=1)
    (folder / "cert.pem").write_bytes(cert)
    (folder / "key.pem").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context, folder / "cert.pem"
