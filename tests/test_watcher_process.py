"""`python -m watcher` as a real process against the fake Freshservice."""

from __future__ import annotations

import json
import os
import signal
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ticketdash.store import TicketStore
from tests.helpers import KEY, python_env, run_module, start_module, wait_for
from tests.fakefs import FakeFreshservice, iso


def tickets_dir(config: Path) -> Path:
    return config.parent.parent / "tickets"


def heartbeat(config: Path) -> dict:
    return json.loads((tickets_dir(config) / "_watcher.json").read_text())


def every_file_text(folder: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


def test_once_mirrors_and_writes_a_heartbeat(fake: FakeFreshservice, make_config) -> None:
    for n in range(1, 121):
        fake.add_ticket(id=n, status=2 if n % 2 else 5)
    config = make_config()
    result = run_module("watcher", "--config", str(config), "--once")
    assert result.returncode == 0, result.stderr
    folder = tickets_dir(config)
    assert sorted(int(p.stem) for p in folder.glob("[0-9]*.json")) == list(range(1, 121, 2))
    beat = heartbeat(config)
    assert beat["last_error"] is None and beat["last_success_at"] == beat["last_attempt_at"]
    assert beat["source"] == "freshservice" and beat["counts"]["active"] == 60
    assert KEY not in result.stderr and KEY not in every_file_text(folder)


def test_wrong_key_fails_clearly_and_never_shows_it(fake: FakeFreshservice, make_config) -> None:
    config = make_config(token="sk-not-the-right-key", logging={"level": "DEBUG"})
    result = run_module("watcher", "--config", str(config), "--once")
    assert result.returncode == 1
    assert "Freshservice rejected the API key (401)" in result.stderr
    beat = heartbeat(config)
    assert beat["last_error"] == "Freshservice rejected the API key (401)" and beat["last_success_at"] is None
    for text in (result.stderr, result.stdout, every_file_text(tickets_dir(config))):
        assert "sk-not-the-right-key" not in text


def test_environment_key_wins(fake: FakeFreshservice, make_config) -> None:
    config = make_config(token="wrong")
    result = run_module("watcher", "--config", str(config), "--once", env=python_env(FRESHSERVICE_API_KEY=KEY))
    assert result.returncode == 0, result.stderr


def test_an_outage_keeps_the_last_good_data(fake: FakeFreshservice, make_config) -> None:
    for n in range(1, 11):
        fake.add_ticket(id=n)
    config = make_config()
    assert run_module("watcher", "--config", str(config), "--once").returncode == 0
    good = heartbeat(config)["last_success_at"]
    before = {p.name: p.read_bytes() for p in tickets_dir(config).glob("*.json") if p.stem.isdigit()}

    down = make_config(freshservice={"base_url": "http://127.0.0.1:9"}, watcher={"max_retries": 1})
    result = run_module("watcher", "--config", str(down), "--once")
    assert result.returncode == 1
    assert "cannot reach 127.0.0.1:9" in result.stderr and "keeping the last good data" in result.stderr
    after = {p.name: p.read_bytes() for p in tickets_dir(config).glob("*.json") if p.stem.isdigit()}
    assert after == before
    beat = heartbeat(config)
    assert "cannot reach" in beat["last_error"] and beat["last_success_at"] == good


def test_two_watchers_on_one_folder(fake: FakeFreshservice, make_config) -> None:
    config = make_config(watcher={"poll_seconds": 30})
    first = start_module("watcher", "--config", str(config))
    try:
        wait_for(lambda: (tickets_dir(config) / "_watcher.json").exists(), what="the first watcher's heartbeat")
        second = run_module("watcher", "--config", str(config), "--once")
        assert second.returncode == 2
        assert "another watcher is already running" in second.stderr and "[paths] tickets" in second.stderr
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=10) == 0


def test_sigterm_ends_the_daemon_cleanly_even_mid_call(fake: FakeFreshservice, make_config) -> None:
    fake.add_ticket(id=1)
    config = make_config(watcher={"poll_seconds": 1})
    daemon = start_module("watcher", "--config", str(config))
    wait_for(lambda: (tickets_dir(config) / "_watcher.json").exists(), what="the first cycle")
    fake.latency = 20  # the next call hangs
    seen = len(fake.requests)
    wait_for(lambda: len(fake.requests) > seen, what="a hanging call")
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=5) == 0
    fake.latency = 0


def test_kill_9_mid_sync_leaves_no_partial_file(fake: FakeFreshservice, make_config) -> None:
    hour_ago = iso(datetime.now(timezone.utc) - timedelta(hours=1))
    for n in range(1, 3001):
        fake.add_ticket(id=n, description_text="x" * 2000, created_at=hour_ago)
    config = make_config()
    folder = tickets_dir(config)
    watcher = start_module("watcher", "--config", str(config), "--once")
    wait_for(lambda: folder.is_dir() and any(folder.glob("[0-9]*.json")), what="the first ticket files")
    os.kill(watcher.pid, signal.SIGKILL)
    watcher.wait(timeout=10)
    written = list(folder.glob("[0-9]*.json"))
    assert 0 < len(written) < 3000, "the kill did not land mid-sync"
    for path in written:
        json.loads(path.read_bytes())  # every visible file is whole
    assert TicketStore(folder).snapshot().errors == {}

    again = run_module("watcher", "--config", str(config), "--once")
    assert again.returncode == 0, again.stderr
    assert len(list(folder.glob("[0-9]*.json"))) == 3000
    assert not list(folder.glob(".tmp-*")), "temporary files of the killed writer were not cleaned"
