"""Shared fixtures: a real fake Freshservice server, config files, watcher processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

from tests.fakefs import FakeFreshservice

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
        (folder / "token.txt").write_text(token + "\n")
    return path


@pytest.fixture
def fake() -> FakeFreshservice:
    server = FakeFreshservice(api_key=KEY)
    server.base_url = server.start()
    yield server
    server.stop()


@pytest.fixture
def make_config(tmp_path: Path, fake: FakeFreshservice) -> Callable[..., Path]:
    """A config for a watcher pointed at the fake, with *overrides* per section."""

    def make(token: str | None = KEY, **overrides: dict[str, Any]) -> Path:
        sections: dict[str, dict[str, Any]] = {
            "watcher": {"source": "freshservice", "poll_seconds": 1, "retry_backoff_seconds": 0.05},
            "freshservice": {"domain": "acme.freshservice.com", "base_url": fake.base_url},
            "paths": {"tickets": "../tickets"},
        }
        for section, values in overrides.items():
            sections.setdefault(section, {}).update(values)
        return write_config(tmp_path / "config", sections, token)

    return make


def python_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FRESHSERVICE_API_KEY", "TICKETDASH_CONFIG")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def run_module(module: str, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          env=env or python_env(), timeout=timeout, cwd=ROOT)


def start_module(module: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A daemon in the background; its output goes to a file named by ``.log`` (no pipe to fill)."""
    log = Path(tempfile.mkstemp(prefix=f"{module}-", suffix=".log")[1])
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", module, *args], stdout=out, stderr=subprocess.STDOUT,
                                   text=True, env=env or python_env(), cwd=ROOT)
    process.log = log  # type: ignore[attr-defined]
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


def write_heartbeat(folder: Path, **fields: Any) -> None:
    from ticketdash.store import TicketStore

    beat = {"source": "freshservice", "last_success_at": iso_in(seconds=-5), "last_attempt_at": iso_in(seconds=-5),
            "last_error": None, "poll_seconds": 60}
    beat.update(fields)
    TicketStore(folder).write_heartbeat(beat)


def put_ticket(folder: Path, data: dict[str, Any]) -> None:
    from ticketdash.store import TicketStore, encode

    TicketStore(folder).write_ticket(data["id"], encode(data))


@pytest.fixture
def board_env(tmp_path: Path):
    """A tickets folder, a config for it, and a factory for the dashboard app on it."""
    from ticketdash import config as configuration
    from gui import create_app

    folder = tmp_path / "tickets"
    folder.mkdir()
    write_heartbeat(folder)
    apps = []

    class Env:
        tickets = folder
        config_dir = tmp_path / "config"

        def config(self, **sections: dict[str, Any]) -> Any:
            base = {"freshservice": {"domain": "acme.freshservice.com"}, "paths": {"tickets": "../tickets"},
                    "gui": {"rescan_seconds": 1}}
            for section, values in sections.items():
                base.setdefault(section, {}).update(values)
            return configuration.load(write_config(self.config_dir, base, token=None), environ={})

        def app(self, **sections: dict[str, Any]) -> Any:
            app = create_app(self.config(**sections))
            apps.append(app)
            return app

        def client(self, **sections: dict[str, Any]) -> Any:
            return self.app(**sections).test_client()

    yield Env()
    for app in apps:
        app.extensions["ticketdash"]["folder"].stop()


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
        base = {"freshservice": {"domain": "acme.freshservice.com"}, "paths": {"tickets": "../tickets"},
                "gui": {"port": self.port, "refresh_seconds": 0.5, "rescan_seconds": 2},
                "blinky": {"status_file": "../tickets/_light.json"}}
        for section, values in sections.items():
            base.setdefault(section, {}).update(values)
        self.config = write_config(root / "config", base, token=None)
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


@pytest.fixture
def gui_server(tmp_path: Path):
    servers: list[GuiServer] = []

    def make(**sections: dict[str, Any]) -> GuiServer:
        server = GuiServer(tmp_path / f"site{len(servers)}", **sections)
        servers.append(server)
        write_heartbeat(server.tickets)
        return server

    yield make
    for server in servers:
        server.stop()


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    opened = context.new_page()
    opened.dialogs = []  # type: ignore[attr-defined]
    opened.errors = []  # type: ignore[attr-defined]
    opened.on("dialog", lambda d: (opened.dialogs.append(d.message), d.dismiss()))
    opened.on("pageerror", lambda e: opened.errors.append(str(e)))
    yield opened
    context.close()


class FakeLights:
    """Plug, unplug and break fake Luxafors, and read back the bytes written to them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "lights").mkdir(parents=True, exist_ok=True)
        (root / "broken").mkdir(exist_ok=True)

    def plug(self, name: str = "1-2:1.0", product: str = "LUXAFOR FLAG") -> None:
        (self.root / "lights" / name).write_text(product)

    def unplug(self, name: str = "1-2:1.0") -> None:
        (self.root / "lights" / name).unlink()

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


@pytest.fixture
def fake_lights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeLights:
    lights = FakeLights(tmp_path / "hid")
    monkeypatch.setenv("FAKE_HID_DIR", str(lights.root))
    return lights


NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.fixture
def nginx(tmp_path: Path):
    started = []

    def start(upstream_port: int) -> tuple[str, str, Path]:
        from gui.certificate import make

        cert, key = make(["127.0.0.1", "localhost"], days=2)
        (tmp_path / "cert.pem").write_bytes(cert)
        (tmp_path / "key.pem").write_bytes(key)
        http_port, https_port = free_port(), free_port()
        site = (ROOT / "startup" / "nginx-ticketdash.conf").read_text()
        for name, value in {"HTTP_PORT": http_port, "HTTPS_PORT": https_port, "UPSTREAM": f"127.0.0.1:{upstream_port}",
                            "CERT": tmp_path / "cert.pem", "KEY": tmp_path / "key.pem",
                            "ACCESS_LOG": tmp_path / "access.log"}.items():
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
