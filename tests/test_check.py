"""`python -m watcher --check`: one read-only round trip, beside the running service, writing nothing."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.fakefs import FakeFreshservice
from tests.fakehelpdesks import FakeFreshdesk, FakeZendesk
from tests.helpers import KEY, run_module, start_module, wait_for, write_config


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def check(config: Path) -> tuple[int, str]:
    result = run_module("watcher", "--config", str(config), "--check", timeout=90)
    return result.returncode, result.stdout + result.stderr


def test_check_says_what_the_key_sees_and_writes_nothing(fake: FakeFreshservice, make_config, tmp_path: Path) -> None:
    fake.add_person("agent", 7, "Ada", "Lovelace")
    fake.me = 7
    for n in range(1, 13):
        fake.add_ticket(id=n, status=(2, 3, 5)[n % 3])
    config = make_config()
    before = tree(tmp_path)
    code, output = check(config)
    assert code == 0, output
    assert output.strip() == (f"{fake.base_url.removeprefix('http://')}: 8 active tickets visible, the account allows "
                              "100000 calls a minute (the watcher uses at most 40), the key belongs to Ada Lovelace.")
    assert tree(tmp_path) == before and not (tmp_path / "tickets").exists()
    assert KEY not in output
    assert [path for path, _ in fake.requests] == ["/api/v2/tickets/filter", "/api/v2/agents/me"]


def test_check_runs_beside_the_running_watcher(fake: FakeFreshservice, make_config) -> None:
    fake.add_ticket(id=1)
    config = make_config(watcher={"poll_seconds": 30})
    daemon = start_module("watcher", "--config", str(config))
    try:
        wait_for(lambda: (config.parent.parent / "tickets" / "_watcher.json").exists(), what="the watcher's heartbeat")
        code, output = check(config)
        assert code == 0, output
        assert "1 active tickets visible" in output and "Freshservice does not say whose key this is" in output
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0


@pytest.mark.parametrize("problem, expected", [
    ("key", "Freshservice rejected the API key (401). The key is read from [freshservice] api_key_file ("),
    ("role", "Freshservice denied access to /api/v2/tickets/filter (403): check the key's agent role"),
    ("domain", "cannot check: GET /api/v2/tickets/filter: cannot reach 127.0.0.1:9"),
    ("limit", "cannot check: rate limited by Freshservice until "),
])
def test_check_says_exactly_why_not(fake: FakeFreshservice, make_config, tmp_path: Path, problem: str,
                                    expected: str) -> None:
    overrides: dict = {"watcher": {"max_retries": 1}}
    token = KEY
    if problem == "key":
        token = "sk-not-the-right-key"
    elif problem == "role":
        fake.fault("status", "tickets/filter", status=403)
    elif problem == "domain":
        overrides["freshservice"] = {"base_url": "http://127.0.0.1:9"}
    else:
        fake.fault("status", "tickets/filter", status=429, retry_after=3600)
    config = make_config(token=token, **overrides)
    before = tree(tmp_path)
    code, output = check(config)
    assert code == 1
    assert expected in output
    assert "sk-not-the-right-key" not in output and KEY not in output
    assert tree(tmp_path) == before


def test_check_on_the_demo_says_there_is_nothing_to_check(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config", {"watcher": {"source": "demo"}, "paths": {"tickets": "../tickets"}})
    code, output = check(config)
    assert code == 1 and 'source is "demo"' in output
    assert not (tmp_path / "tickets").exists()


@pytest.fixture
def served() -> Iterator[Callable[[FakeFreshservice], FakeFreshservice]]:
    """Starts a fake helpdesk; stops it after the test."""
    fakes: list[FakeFreshservice] = []

    def serve(fake: FakeFreshservice) -> FakeFreshservice:
        fake.start()
        fakes.append(fake)
        return fake

    yield serve
    for fake in fakes:
        fake.stop()


def test_check_freshdesk(served, tmp_path: Path) -> None:
    freshdesk = served(FakeFreshdesk(api_key=KEY))
    freshdesk.add_person("agent", 501, "Grace", "Hopper")
    freshdesk.me = 501
    for n in range(1, 6):
        freshdesk.add_ticket(id=n, status=2 if n < 5 else 4)
    config = write_config(tmp_path / "config", {"watcher": {"source": "freshdesk"},
                                                "freshdesk": {"domain": "acme.freshdesk.com", "base_url": freshdesk.url}})
    code, output = check(config)
    assert code == 0, output
    assert "4 active tickets visible" in output and "the key belongs to Grace Hopper" in output


def test_check_zendesk(served, tmp_path: Path) -> None:
    zendesk = served(FakeZendesk(token=KEY))
    zendesk.add_person("agent", 900, "Ada", "Lovelace")
    zendesk.me = 900
    for n in range(1, 4):
        zendesk.add_ticket(id=n, status="open" if n < 3 else "solved")
    config = write_config(tmp_path / "config", {
        "watcher": {"source": "zendesk"},
        "zendesk": {"subdomain": "acme", "base_url": zendesk.url, "email": zendesk.email,
                    "api_token_file": "token.txt"}})
    code, output = check(config)
    assert code == 0, output
    assert "2 active tickets visible" in output and "the key belongs to Ada Lovelace" in output
    zendesk.me = None  # Zendesk answers an anonymous user for a key it does not know as a person
    code, output = check(config)
    assert "Zendesk does not say whose key this is" in output
