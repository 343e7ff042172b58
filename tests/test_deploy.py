"""Deployment: the units (verify, security exposure), the installer in a staging root, the demo command."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.helpers import KEY, ROOT, start_module, wait_for

pytestmark = pytest.mark.slow
UNITS = ("ticket-watcher", "ticket-dash", "blinky", "ticket-alerts")


def install(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(ROOT / "startup" / "install.sh"), *args], capture_output=True, text=True,
                          timeout=120)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def staged(tmp_path: Path) -> Path:
    result = install("--root", str(tmp_path / "stage"), "--nginx")
    assert result.returncode == 0, result.stderr
    return tmp_path / "stage"


@pytest.mark.parametrize("nginx", [True, False])
def test_units_verify_and_score_at_most_2_5(tmp_path: Path, nginx: bool) -> None:
    stage = tmp_path / "stage"
    result = install("--root", str(stage), "--prefix", str(ROOT), *(["--nginx"] if nginx else []))
    assert result.returncode == 0, result.stderr
    for unit in UNITS:
        path = stage / "etc" / "systemd" / "system" / f"{unit}.service"
        text = path.read_text()
        assert not re.search(r"@[A-Z_]+@", text), f"an unfilled placeholder in {unit}"
        assert f"ExecStart={ROOT}/.venv/bin/python -m" in text
        verify = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
        assert verify.returncode == 0, verify.stderr
        security = subprocess.run(["systemd-analyze", "security", "--offline=true", str(path)],
                                  capture_output=True, text=True)
        score = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout).group(1))
        assert score <= 2.5, f"{unit} exposure {score}"


def test_installer_places_every_file_with_its_permissions(staged: Path) -> None:
    etc = staged / "etc"
    for unit in UNITS:
        path = etc / "systemd" / "system" / f"{unit}.service"
        assert mode(path) == 0o644
        assert "User=ticketdash" in path.read_text() and "Restart=on-failure" in path.read_text()
    watcher = (etc / "systemd" / "system" / "ticket-watcher.service").read_text()
    assert "LoadCredential=freshservice-api-key:/etc/ticketdash/token.txt" in watcher
    assert "ReadWritePaths=/var/lib/ticketdash/tickets" in watcher and "KEY=" not in watcher
    blinky = (etc / "systemd" / "system" / "blinky.service").read_text()
    assert "DeviceAllow=char-hidraw rw" in blinky and "ReadWritePaths" not in blinky
    dash = (etc / "systemd" / "system" / "ticket-dash.service").read_text()
    assert "ReadWritePaths=/var/lib/ticketdash/dashboard-tickets\n" in dash and "/tickets\n" not in dash.replace(
        "dashboard-tickets", "")
    alerts = (etc / "systemd" / "system" / "ticket-alerts.service").read_text()
    assert "ReadWritePaths=/var/lib/ticketdash/alerts-tickets\n" in alerts and "LoadCredential" not in alerts
    rule = (etc / "udev" / "rules.d" / "70-ticketdash-lights.rules").read_text()
    assert rule.count('ATTRS{idVendor}=="04d8", ATTRS{idProduct}=="f372", GROUP="ticketdash", MODE="0660"') == 2
    assert "hidraw" in rule and 'SUBSYSTEMS=="usb"' in rule
    assert not (etc / "udev" / "rules.d" / "70-ticketdash-luxafor.rules").exists()
    site = (etc / "nginx" / "sites-available" / "ticketdash").read_text()
    assert "ssl_certificate     /etc/ticketdash/cert.pem;" in site and "proxy_pass http://127.0.0.1:5001;" in site
    assert (etc / "nginx" / "sites-enabled" / "ticketdash").readlink() == Path("/etc/nginx/sites-available/ticketdash")
    assert mode(etc / "ticketdash") == 0o750
    assert mode(etc / "ticketdash" / "ticketdash.toml") == 0o640
    assert mode(etc / "ticketdash" / "token.txt") == 0o600
    assert mode(etc / "ticketdash" / "access_key.txt") == 0o640  # with nginx, never open to the network
    assert len((etc / "ticketdash" / "access_key.txt").read_text().strip()) >= 16
    assert mode(staged / "var" / "lib" / "ticketdash" / "tickets") == 0o750
    assert mode(staged / "var" / "lib" / "ticketdash" / "alerts-tickets") == 0o750
    assert mode(staged / "var" / "lib" / "ticketdash" / "dashboard-tickets") == 0o750
    code = staged / "opt" / "ticketdash"
    for part in ("watcher", "gui", "blinky", "alerts", "ticketdash", "templates", "static", "setup.cfg",
                 "config/ticketdash.example.toml"):
        assert (code / part).exists(), part
    assert not list(code.rglob("__pycache__")) and not (code / "tickets").exists()
    assert (code / "config" / "ticketdash.toml").readlink() == Path("/etc/ticketdash/ticketdash.toml")

    from ticketdash import config as configuration

    config = configuration.load(etc / "ticketdash" / "ticketdash.toml", environ={})
    assert config.watcher.source == "demo" and config.gui.host == "127.0.0.1"
    assert config.paths.tickets == Path("/var/lib/ticketdash/tickets")


def test_second_run_upgrades_in_place_and_keeps_config_and_data(staged: Path) -> None:
    config = staged / "etc" / "ticketdash" / "ticketdash.toml"
    config.write_text(config.read_text() + "\n# edited by the admin\n")
    (staged / "etc" / "ticketdash" / "token.txt").write_text("the-key\n")
    ticket = staged / "var" / "lib" / "ticketdash" / "tickets" / "42.json"
    ticket.write_text('{"id": 42}')
    (staged / "opt" / "ticketdash" / "watcher" / "stale_module.py").write_text("# from an old version\n")
    before = {p: p.read_bytes() for p in (staged / "etc").rglob("*") if p.is_file()}
    again = install("--root", str(staged), "--nginx")
    assert again.returncode == 0, again.stderr
    assert "kept /etc/ticketdash/ticketdash.toml" in again.stdout
    after = {p: p.read_bytes() for p in (staged / "etc").rglob("*") if p.is_file()}
    assert after == before  # nothing under /etc changed: units identical, config and key kept
    assert ticket.read_text() == '{"id": 42}'
    assert not (staged / "opt" / "ticketdash" / "watcher" / "stale_module.py").exists()


def test_uninstall_keeps_data_unless_purged(staged: Path) -> None:
    (staged / "var" / "lib" / "ticketdash" / "tickets" / "1.json").write_text("{}")
    removed = install("--root", str(staged), "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert not (staged / "opt" / "ticketdash").exists()
    assert not (staged / "etc" / "systemd" / "system" / "blinky.service").exists()
    assert not (staged / "etc" / "udev" / "rules.d" / "70-ticketdash-lights.rules").exists()
    assert (staged / "etc" / "ticketdash" / "ticketdash.toml").exists()
    assert (staged / "var" / "lib" / "ticketdash" / "tickets" / "1.json").exists()
    purged = install("--root", str(staged), "--uninstall", "--purge")
    assert purged.returncode == 0 and not (staged / "etc" / "ticketdash").exists()
    assert not (staged / "var" / "lib" / "ticketdash").exists()


def test_the_demo_command_runs_all_four_and_one_sigint_stops_them(tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "project"
    (project / "config").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "demo.toml", project / "config" / "demo.toml")
    config = project / "config" / "demo.toml"
    from tests.helpers import free_port

    port = free_port()
    config.write_text(config.read_text() + f"\n[gui]\nport = {port}\n")
    demo = start_module("ticketdash.launch", "--config", str(config))
    try:
        wait_for(lambda: f"http://localhost:{port}/" in demo.log.read_text(), what="the URL")

        def board() -> dict | None:
            try:
                return requests.get(f"http://127.0.0.1:{port}/api/board", timeout=2).json()
            except requests.RequestException:
                return None

        data = wait_for(lambda: (b := board()) and b["total"] >= 4 and b["health"]["source"] and b, timeout=30,
                        what="the demo's tickets and heartbeat")
        assert data["health"]["source"] == "demo" and data["worst"] != "stale"
        assert "Ticket Dash" in requests.get(f"http://127.0.0.1:{port}/").text
        wait_for(lambda: (project / "tickets-demo" / "_light.json").exists(), what="the simulated light")
    finally:
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=30) == 0
    log = demo.log.read_text()
    assert "stopped: watcher (exit 0), gui (exit 0), blinky (exit 0), alerts (exit 0)" in log
    assert (project / "alerts-tickets-demo" / "alerts.sqlite3").exists()
    assert '"state":"off"' in (project / "tickets-demo" / "_light.json").read_text()


def test_add_helpdesk_makes_a_watcher_instance_with_its_own_config_token_and_folder(tmp_path: Path) -> None:
    from ticketdash import config as configuration

    stage = tmp_path / "stage"
    assert install("--root", str(stage), "--prefix", str(ROOT)).returncode == 0
    bad = install("--root", str(stage), "--add-helpdesk", "no_good")
    assert bad.returncode == 2 and "--add-helpdesk" in bad.stderr
    for name, source in (("globex", "zendesk"), ("initech", "freshdesk")):
        result = install("--root", str(stage), "--prefix", str(ROOT), "--add-helpdesk", name, "--source", source)
        assert result.returncode == 0, result.stderr
    again = install("--root", str(stage), "--prefix", str(ROOT), "--add-helpdesk", "globex", "--source", "zendesk")
    assert "kept [helpdesks] globex" in again.stdout
    etc = stage / "etc" / "ticketdash"
    assert mode(etc / "helpdesks" / "globex" / "token.txt") == 0o600
    assert (stage / "var" / "lib" / "ticketdash" / "tickets-globex").is_dir()
    main = configuration.load(etc / "ticketdash.toml", environ={})
    assert main.helpdesks == {"main": Path("/var/lib/ticketdash/tickets"),
                              "globex": Path("/var/lib/ticketdash/tickets-globex"),
                              "initech": Path("/var/lib/ticketdash/tickets-initech")}
    globex = configuration.load(etc / "helpdesks" / "globex" / "ticketdash.toml", environ={})
    assert globex.watcher.source == "zendesk" and globex.paths.tickets == Path("/var/lib/ticketdash/tickets-globex")
    template = (stage / "etc" / "systemd" / "system" / "ticket-watcher@.service").read_text()
    assert "LoadCredential=freshservice-api-key:/etc/ticketdash/helpdesks/%i/token.txt" in template
    assert "ReadWritePaths=/var/lib/ticketdash/tickets-%i\n" in template and not re.search(r"@[A-Z_]+@", template)
    instance = tmp_path / "ticket-watcher@globex.service"
    instance.write_text(template)
    verify = subprocess.run(["systemd-analyze", "verify", str(instance)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr


def test_install_help_is_honest() -> None:
    result = install("--help")
    assert result.returncode == 0 and "--add-helpdesk NAME" in result.stdout
    assert "set -euo" not in result.stdout and not result.stdout.startswith("#")


def test_the_installer_says_what_it_changed_skipped_and_what_comes_next(tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    default = stage / "etc" / "nginx" / "sites-enabled" / "default"
    default.parent.mkdir(parents=True)
    default.symlink_to("/etc/nginx/sites-available/default")
    result = install("--root", str(stage), "--nginx")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert not default.is_symlink() and "nginx: disabled the site default" in out
    assert "(staged: skipped) the self-signed certificate /etc/ticketdash/cert.pem" in out
    for step in ("Next steps:", "/healthz", "docs/kiosk.md", "-m gui keys add lobby-tv", "wrote a kiosk key",
                 "sudo /opt/ticketdash/.venv/bin/python -m watcher --check",
                 "sudo -u ticketdash /opt/ticketdash/.venv/bin/python -m alerts --test", "journalctl"):
        assert step in out, step
    again = install("--root", str(stage), "--nginx")  # nothing left to disable: nothing said
    assert again.returncode == 0 and "disabled the site default" not in again.stdout


def test_the_readmes_check_command_works_on_an_installed_box(staged: Path, fake) -> None:
    """README, "Connecting to Freshservice", step 4, as written, on the installed code and configuration."""
    readme = (ROOT / "README.md").read_text()
    command = "sudo /opt/ticketdash/.venv/bin/python -m watcher --check"
    assert command in readme
    etc = staged / "etc" / "ticketdash"
    config = etc / "ticketdash.toml"
    text = config.read_text().replace('source = "demo"', 'source = "freshservice"')
    text = text.replace('domain = "your-account.freshservice.com"',
                        f'domain = "acme.freshservice.com"\nbase_url = "{fake.base_url}"')
    config.write_text(text)
    (etc / "token.txt").write_text(KEY + "\n")
    code = staged / "opt" / "ticketdash"
    link = code / "config" / "ticketdash.toml"
    link.unlink()
    link.symlink_to(config)  # what /etc/ticketdash/ticketdash.toml is on the box itself
    fake.add_ticket(id=1)
    program = command.split()[1:]
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(code)}
    result = subprocess.run([sys.executable, *program[1:]], capture_output=True, text=True, cwd=code, env=env,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"{fake.base_url.removeprefix('http://')}: 1 active tickets visible")
    assert not (staged / "var" / "lib" / "ticketdash" / "tickets" / "_watcher.json").exists()
