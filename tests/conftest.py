"""Shared fixtures: a real fake Freshservice server, config files, watcher processes."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import pytest

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
