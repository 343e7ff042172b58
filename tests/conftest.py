"""Fixtures: a real fake Freshservice server, config files, the dashboard, a browser, lights, nginx."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

from tests import helpers
from tests.fakefs import FakeFreshservice
from tests.helpers import (CHROMIUM_ARGS, KEY, NGINX, ROOT, FakeLights, GuiServer, add_operator, free_port, iso_in,
                           put_ticket, site_mapping, ticket, wait_for, write_config, write_heartbeat)

FAILED = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    """Temporary folders in one place of our own, removed after a passing run: a run leaves nothing in /tmp."""
    if not config.option.basetemp and not hasattr(config, "workerinput"):
        config.option.basetemp = config.own_basetemp = tempfile.mkdtemp(prefix="ticketdash-tests-")


def pytest_unconfigure(config: pytest.Config) -> None:
    own = getattr(config, "own_basetemp", None)
    if own and not config.stash.get(FAILED, False):
        shutil.rmtree(own, ignore_errors=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[FAILED] = exitstatus != 0  # keep the folders of a failed run to look at


def _children() -> dict[int, str]:
    """This process's living child processes: pid -> command name."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, fields = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            found[int(stat.parent.name)] = name
    return found


def _pooled() -> set[threading.Thread]:
    """Apprise's process-wide worker pools: long-lived by design, owned by no test."""
    apprise = sys.modules.get("apprise.apprise")
    pools = [getattr(apprise, name, None) for name in ("_shared_executor", "_coordinator_executor")]
    return {thread for pool in pools if pool is not None for thread in pool._threads}


@pytest.fixture(autouse=True)
def leaves_nothing_behind(tmp_path: Path):
    """Every test stops what it started: a daemon, a thread or a child process left running fails it.

    Daemon logs go to the test's own temporary folder, never loose in /tmp.
    """
    helpers.LOGS.append(tmp_path)
    threads, children = set(threading.enumerate()), set(_children())
    yield
    helpers.LOGS.pop()
    problems = []
    for process in helpers.STARTED:
        if process.poll() is None:
            problems.append(f"python {' '.join(process.args[1:3])} left running")
            process.kill()
        process.wait(timeout=10)
    helpers.STARTED.clear()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # a server's handler thread may need a moment to see its client go
        left = [t for t in threading.enumerate() if t not in threads and t.is_alive() and t not in _pooled()]
        strays = {pid: name for pid, name in _children().items() if pid not in children}
        if not left and not strays:
            break
        time.sleep(0.02)
    problems += [f"thread {t.name} left running" for t in left]
    for pid, name in strays.items():
        problems.append(f"process {pid} ({name}) left running")
        os.kill(pid, signal.SIGKILL)
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


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
            sections["gui"] = {"rescan_seconds": 1, **sections.get("gui", {})}
            self.config_dir.mkdir(exist_ok=True)  # where name files go; the config itself is built, not written
            return configuration.build(site_mapping(**sections), self.config_dir / "ticketdash.toml")

        def app(self, **sections: dict[str, Any]) -> Any:
            app = create_app(self.config(**sections))
            apps.append(app)
            return app

        def client(self, **sections: dict[str, Any]) -> Any:
            return self.app(**sections).test_client()

    yield Env()
    for app in apps:
        app.extensions["ticketdash"].folder.stop()


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


@pytest.fixture
def fake_lights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeLights:
    lights = FakeLights(tmp_path / "hid")
    monkeypatch.setenv("FAKE_HID_DIR", str(lights.root))
    return lights


@pytest.fixture
def nginx(tmp_path: Path):
    started = []

    def start(upstream_port: int, hooks_port: int | None = None) -> tuple[str, str, Path]:
        from gui.certificate import make

        cert, key = make(["127.0.0.1", "localhost"], days=2)
        (tmp_path / "cert.pem").write_bytes(cert)
        (tmp_path / "key.pem").write_bytes(key)
        http_port, https_port = free_port(), free_port()
        site = (ROOT / "startup" / "nginx-ticketdash.conf").read_text()
        for name, value in {"HTTP_PORT": http_port, "HTTPS_PORT": https_port, "UPSTREAM": f"127.0.0.1:{upstream_port}",
                            "HOOKS": f"127.0.0.1:{hooks_port or free_port()}",
                            "CERT": tmp_path / "cert.pem", "KEY": tmp_path / "key.pem",
                            "ACCESS_LOG": tmp_path / "access.log", "ERROR_LOG": tmp_path / "error.log"}.items():
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


@pytest.fixture
def mosquitto(tmp_path: Path):
    """Debian's mosquitto on a free loopback port: (start, stop), start() giving its port."""
    import getpass

    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser {getpass.getuser()}\n"
                    f"log_dest file {tmp_path / 'mosquitto.log'}\n")
    running: list[subprocess.Popen] = []

    class Broker:
        def __init__(self) -> None:
            self.port = port

        def start(self) -> "Broker":
            process = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            running.append(process)

            def up() -> bool:
                assert process.poll() is None, "mosquitto exited"
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        return True
                except OSError:
                    return False

            wait_for(up, what="mosquitto")
            return self

        def stop(self) -> None:
            for process in running:
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=10)

    broker = Broker()
    yield broker
    broker.stop()


@pytest.fixture
def desk(board_env):
    """A dashboard app (Flask's test client) with an overdue #42 and a warning #43, and an operator."""
    put_ticket(board_env.tickets, ticket(42, due_by=iso_in(minutes=-30)))
    put_ticket(board_env.tickets, ticket(43, due_by=iso_in(hours=6)))
    config = board_env.config()
    config_file = config.path
    config_file.write_text(f'[paths]\ntickets = "{board_env.tickets}"\n')  # what the CLI reads
    board_env.token = add_operator(config_file, "Ada Lovelace", "--agent-id", "1001")
    board_env.config_file = config_file
    return board_env
