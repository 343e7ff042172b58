"""What the tests share that is not a fixture: config files, daemons as processes, tickets, waiting."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import requests

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-test-4f9c2b7e1d"


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(folder: Path, sections: dict[str, dict[str, Any]], token: str | None = KEY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in values.items()]
    path = folder / "ticketdash.toml"
    path.write_text("\n".join(lines) + "\n")
    if token is not None:
        private(folder / "token.txt", token + "\n")
    return path


SITE = {"freshservice": {"domain": "acme.freshservice.com"}, "paths": {"tickets": "../tickets"}}


def site_mapping(**sections: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The one base config of a reader's tests (a Freshservice account, ``../tickets``), *sections* merged in."""
    merged = {section: dict(values) for section, values in SITE.items()}
    for section, values in sections.items():
        merged.setdefault(section, {}).update(values)
    return merged


def site_config(folder: Path, token: str | None = None, **sections: dict[str, Any]) -> Path:
    """`site_mapping` as a config file in *folder*."""
    return write_config(folder, site_mapping(**sections), token)


def python_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FRESHSERVICE_API_KEY", "TICKETDASH_CONFIG")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def run_module(module: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          env=env or python_env(), timeout=timeout, cwd=ROOT)


STARTED: list[subprocess.Popen[str]] = []  # every daemon a test starts; conftest's guard stops what is left
LOGS: list[Path] = []  # the running test's folder for daemon logs (set by conftest's guard)


def start_module(module: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A daemon in the background; its output goes to a file named by ``.log`` (no pipe to fill)."""
    log = LOGS[-1] / f"{module}-{len(STARTED)}.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", module, *args], stdout=out, stderr=subprocess.STDOUT,
                                   text=True, env=env or python_env(), cwd=ROOT)
    process.log = log  # type: ignore[attr-defined]
    STARTED.append(process)
    return process


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll *condition* until it is truthy; fail the test after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def iso_in(**delta: float) -> str:
    """A Freshservice timestamp at now + the given timedelta."""
    from datetime import datetime, timedelta, timezone

    return (datetime.now(timezone.utc) + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def ticket(ticket_id: int, **fields: Any) -> dict[str, Any]:
    """A ticket as Freshservice returns it, on track unless *fields* say otherwise."""
    data = {
        "id": ticket_id, "subject": f"Ticket {ticket_id}", "description_text": f"About ticket {ticket_id}",
        "type": "Incident", "status": 2, "priority": 2, "requester_id": 29000000001, "responder_id": 21000000001,
        "group_id": 31000000001, "workspace_id": 2, "created_at": iso_in(hours=-1), "updated_at": iso_in(minutes=-5),
        "fr_due_by": iso_in(hours=20), "due_by": iso_in(days=3), "deleted": False, "spam": False,
        "stats": {"first_responded_at": iso_in(minutes=-30), "agent_responded_at": iso_in(minutes=-30),
                  "requester_responded_at": None},
    }
    stats = fields.pop("stats", {})
    data.update(fields)
    data["stats"].update(stats)
    return data


def private(path: Path, text: str) -> Path:
    """A secret file as an admin should leave it: readable by its owner alone."""
    path.write_text(text)
    path.chmod(0o600)
    return path


def write_heartbeat(folder: Path, **fields: Any) -> None:
    from ticketdash.store import TicketStore

    beat = {"source": "freshservice", "last_success_at": iso_in(seconds=-5), "last_attempt_at": iso_in(seconds=-5),
            "last_error": None, "poll_seconds": 60}
    beat.update(fields)
    TicketStore(folder).write_heartbeat(beat)


def put_ticket(folder: Path, data: dict[str, Any]) -> None:
    from ticketdash.store import TicketStore, encode

    TicketStore(folder).write_ticket(data["id"], encode(data))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GuiServer:
    """``python -m gui`` (waitress) as a real process on a free port, on its own tickets folder."""

    def __init__(self, root: Path, **sections: dict[str, Any]) -> None:
        self.tickets = root / "tickets"
        self.tickets.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        sections["gui"] = {"port": self.port, "refresh_seconds": 0.5, "rescan_seconds": 2, **sections.get("gui", {})}
        sections["blinky"] = {"status_file": "../tickets/_light.json", **sections.get("blinky", {})}
        self.config = site_config(root / "config", **sections)
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> "GuiServer":

        self.process = start_module("gui", "--config", str(self.config))

        def up() -> bool:
            assert self.process.poll() is None, self.process.log.read_text()
            try:
                return requests.get(self.url + "/healthz", timeout=1).status_code in (200, 503)
            except requests.RequestException:
                return False

        wait_for(up, timeout=20, what="the dashboard to answer")
        return self

    def stop(self) -> int:
        import signal

        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=10)


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


class FakeLights:
    """Plug, unplug and break fake Luxafors, and read back the bytes written to them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "lights").mkdir(parents=True, exist_ok=True)
        (root / "broken").mkdir(exist_ok=True)

    def plug(self, name: str = "1-2:1.0", product: str = "LUXAFOR FLAG", usb: tuple[int, int] | None = None) -> None:
        """A Luxafor, or with *usb* (vendor, product ids) another brand's light."""
        import json as _json

        text = _json.dumps({"vendor_id": usb[0], "product_id": usb[1], "product": product}) if usb else product
        (self.root / "lights" / name).write_text(text)

    def unplug(self, name: str = "1-2:1.0") -> None:
        (self.root / "lights" / name).unlink()

    def touch(self, name: str = "1-2:1.0") -> None:
        """A Luxafor Mute's touch: press and release, two 0x83 input reports."""
        (self.root / "touches").mkdir(exist_ok=True)
        with open(self.root / "touches" / name, "a") as reports:
            reports.write("8301000000000000\n8300000000000000\n")

    def break_open(self, name: str) -> None:
        (self.root / "broken" / name).touch()

    def writes(self, name: str | None = None) -> list[bytes]:
        import json as _json

        log = self.root / "writes.jsonl"
        if not log.exists():
            return []
        rows = [_json.loads(line) for line in log.read_text().splitlines()]
        return [bytes.fromhex(r["hex"]) for r in rows if name is None or r["path"] == name]

    def module(self):
        import importlib.util

        spec = importlib.util.spec_from_file_location("fake_hid", ROOT / "tests" / "fake_hid" / "hid.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def env(self, **extra: str) -> dict[str, str]:
        """For a blinky process: the fake found first as ``hid``."""
        env = python_env(FAKE_HID_DIR=str(self.root), **extra)
        env["PYTHONPATH"] = f"{ROOT / 'tests' / 'fake_hid'}{os.pathsep}{ROOT}"
        return env


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class _Server(ThreadingHTTPServer):
    """Keeps its open connections, so that stopping it also ends the threads serving them."""

    daemon_threads = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.stopped = False

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not self.stopped:  # a connection cut by `unserve` is no news
            super().handle_error(request, client_address)


def serve(handler: type[BaseHTTPRequestHandler], port: int = 0,
          tls: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    """An HTTP server on 127.0.0.1 in its own thread; `unserve` ends it, and every connection, at once."""
    server = _Server(("127.0.0.1", port), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    # serve_forever checks for shutdown every poll_interval: 0.5 s by default, paid at every teardown
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True,
                              name=f"serve-{server.server_address[1]}")
    thread.start()
    server.thread = thread  # type: ignore[attr-defined]
    return server


def unserve(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()
    server.thread.join(timeout=5)  # type: ignore[attr-defined]
    with server.lock:  # type: ignore[attr-defined]
        server.stopped = True  # type: ignore[attr-defined]
        for connection in server.connections:  # type: ignore[attr-defined]
            try:  # a client's idle keep-alive connection would hold its thread until the client goes
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def add_operator(config: Path, name: str, *options: str) -> str:
    """The CLI's own code in this process (the process itself is tested once, below): its token."""
    import contextlib
    import io

    from gui import operators

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert operators.main("operators", ["add", name, *options, "--config", str(config)]) == 0
    return out.getvalue().strip().splitlines()[-1]
