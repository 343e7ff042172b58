"""Blinky's decisions and loop: real watchdog on a temporary folder, fake hid, real dashboard."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import pytest

from ticketdash import config as configuration
from blinky.daemon import Blinky, FolderSource, RemoteSource
from ticketdash.timefmt import in_quiet_hours, parse_quiet_hours
from ticketdash.lights import parse_effect
from blinky.device import Lights, report
from tests.helpers import iso_in, private, put_ticket, site_config, start_module, ticket, wait_for, write_config, write_heartbeat

# One machine's lights have one owner: these tests run blinky on them one at a time.
pytestmark = pytest.mark.xdist_group("light")

RED_STROBE = report(parse_effect("strobe red"))
MAGENTA = report(parse_effect("magenta"))
GREEN = report(parse_effect("green"))
RED = report(parse_effect("red"))
AMBER = report(parse_effect("amber"))


class Running:
    """A Blinky on its own thread, stopped (light off) at the end."""

    def __init__(self, tmp_path: Path, lights_module, **blinky: object) -> None:
        self.tickets = tmp_path / "tickets"
        self.tickets.mkdir(parents=True, exist_ok=True)
        self.config = configuration.load(site_config(tmp_path / "config", blinky={
            "device": "luxafor", "status_file": "../tickets/_light.json", **blinky}), environ={})
        b = self.config.blinky
        views = self.config.all_views
        source = RemoteSource(self.config) if b.remote_url else FolderSource(self.config, views[b.view], b.agent or None)
        self.blinky = Blinky(self.config, source, Lights(lights_module))
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            self.blinky.run()
        finally:
            self.blinky.source.stop()
            self.blinky.switch_off()

    def __enter__(self) -> "Running":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.blinky.stop()
        self.thread.join(timeout=10)

    def status(self) -> dict:
        try:
            return json.loads((self.tickets / "_light.json").read_text())
        except (OSError, ValueError):
            return {}


def folder_with(tmp_path: Path, *tickets: dict) -> Path:
    """A tickets folder with a fresh heartbeat and these tickets."""
    folder = tmp_path / "tickets"
    folder.mkdir()
    write_heartbeat(folder)
    for t in tickets:
        put_ticket(folder, t)
    return folder


def last(fake_lights) -> bytes | None:
    writes = fake_lights.writes()
    return writes[-1] if writes else None


def test_a_ticket_change_reaches_the_light(tmp_path: Path, fake_lights) -> None:
    fake_lights.plug()
    folder = folder_with(tmp_path, ticket(1))
    with Running(tmp_path, fake_lights.module()) as run:
        wait_for(lambda: last(fake_lights) == GREEN, what="green")
        put_ticket(folder, ticket(2, stats={"first_responded_at": None}, fr_due_by=iso_in(minutes=-1)))
        wait_for(lambda: last(fake_lights) == RED_STROBE, timeout=1.5, what="the first-response breach")
        wait_for(lambda: run.status().get("state") == "fr_overdue", what="the status file")
        assert run.status()["device"] == "luxafor"
        (folder / "2.json").unlink()
        wait_for(lambda: last(fake_lights) == GREEN, timeout=1.5, what="back to green")
    assert last(fake_lights) == bytes.fromhex("00 01 ff 00 00 00 00 00 00")  # off on the way out
    assert run.status()["state"] == "off"


def test_time_alone_changes_the_light(tmp_path: Path, fake_lights) -> None:
    fake_lights.plug()
    folder_with(tmp_path, ticket(1, due_by=iso_in(seconds=2)))
    with Running(tmp_path, fake_lights.module(), resend_seconds=3600):
        wait_for(lambda: last(fake_lights) == RED, what="critical")
        wait_for(lambda: last(fake_lights) == RED_STROBE, timeout=5, what="overdue when the due time passes")


@pytest.mark.parametrize("damage, why", [
    (lambda f: write_heartbeat(f, last_success_at=iso_in(minutes=-30)), "old data"),
    (lambda f: write_heartbeat(f, last_error="Freshservice rejected the API key (401)"), "failed sync"),
    (lambda f: (f / "_watcher.json").unlink(), "no watcher"),
    (lambda f: (f / "_watcher.json").write_text("{torn"), "unreadable heartbeat"),
    (lambda f: (f / "9.json").write_text('{"id": 9, "subj'), "unreadable ticket"),
])
def test_never_green_on_data_it_cannot_trust(tmp_path: Path, fake_lights, damage, why: str) -> None:
    fake_lights.plug()
    folder = folder_with(tmp_path, ticket(1))
    with Running(tmp_path, fake_lights.module()) as run:
        wait_for(lambda: last(fake_lights) == GREEN, what="green first")
        damage(folder)
        wait_for(lambda: last(fake_lights) == MAGENTA, timeout=2, what=f"magenta for {why}")
        wait_for(lambda: run.status().get("state") in ("stale", "error"), what="the status file")


def test_agent_and_view_modes(tmp_path: Path, fake_lights) -> None:
    fake_lights.plug()
    folder = tmp_path / "tickets"
    folder.mkdir()
    write_heartbeat(folder)
    put_ticket(folder, ticket(1, responder_id=21, due_by=iso_in(hours=2)))  # critical, someone else's
    put_ticket(folder, ticket(2, responder_id=22, due_by=iso_in(hours=6)))  # warning, ours
    with Running(tmp_path, fake_lights.module(), agent=22) as run:
        wait_for(lambda: last(fake_lights) == MAGENTA, what="an agent no helpdesk names: error, never clear")
        wait_for(lambda: "unknown agent 22" in run.status().get("reason", ""), what="the reason")
        (folder / "_names").mkdir()
        (folder / "_names" / "agents.txt").write_text("21:Ada Lovelace\n22:Grace Hopper\n")
        wait_for(lambda: last(fake_lights) == AMBER, what="only agent 22's warning")


def test_quiet_hours_dim_and_never_strobe(tmp_path: Path, fake_lights) -> None:
    fake_lights.plug()
    folder_with(tmp_path, ticket(1, due_by=iso_in(hours=-1)))
    with Running(tmp_path, fake_lights.module(), quiet_hours="00:00-23:59", quiet_brightness=0.2) as run:
        wait_for(lambda: last(fake_lights) == bytes.fromhex("00 01 ff 33 00 00 00 00 00"), what="dim steady red")
        wait_for(lambda: run.status().get("state") == "overdue", what="the status file")
        assert run.status()["strobe"] is False


@pytest.mark.parametrize("demo_light, expected", [(False, bytes.fromhex("00 01 ff 33 00 00 00 00 00")),
                                                   (True, None)])
def test_a_real_light_stays_calm_for_the_demo_helpdesk(tmp_path: Path, fake_lights, demo_light: bool,
                                                       expected: bytes | None) -> None:
    fake_lights.plug()
    folder = folder_with(tmp_path, ticket(1, due_by=iso_in(hours=-1)))
    write_heartbeat(folder, source="demo")
    with Running(tmp_path, fake_lights.module(), quiet_brightness=0.2, demo_light=demo_light) as run:
        wait_for(lambda: run.status().get("state") == "overdue", what="the status file")
        assert run.status()["demo"] is True
        if expected is None:  # asked for: the demo's breaches strobe like real ones
            assert run.status()["strobe"] is True and last(fake_lights)[1] == 3
        else:  # dim and steady: a desk does not flash red for simulated breaches
            assert last(fake_lights) == expected and run.status()["strobe"] is False


@pytest.mark.parametrize("window, now, quiet", [
    ("19:00-07:00", "23:00", True), ("19:00-07:00", "06:59", True), ("19:00-07:00", "07:00", False),
    ("12:00-13:00", "12:30", True), ("12:00-13:00", "13:30", False), ("", "03:00", False),
])
def test_quiet_hours_windows(window: str, now: str, quiet: bool) -> None:
    from datetime import time

    hours, minutes = map(int, now.split(":"))
    assert in_quiet_hours(parse_quiet_hours(window), time(hours, minutes)) is quiet


def test_remote_mode_follows_a_real_dashboard(tmp_path: Path, fake_lights, gui_server) -> None:
    fake_lights.plug()
    server = gui_server()
    private(server.config.parent.joinpath("access_key.txt"), "desk-key-0123456789\n")
    server.start()
    put_ticket(server.tickets, ticket(1, due_by=iso_in(hours=6)))
    private(tmp_path / "key.txt", "desk-key-0123456789\n")
    remote = {"remote_url": server.url, "remote_poll_seconds": 1, "remote_access_key_file": str(tmp_path / "key.txt")}
    with Running(tmp_path / "desk", fake_lights.module(), **remote):
        wait_for(lambda: last(fake_lights) == AMBER, what="the dashboard's warning")
        put_ticket(server.tickets, ticket(2, due_by=iso_in(hours=-1)))
        wait_for(lambda: last(fake_lights) == RED_STROBE, timeout=5, what="the dashboard's overdue")
        server.stop()
        wait_for(lambda: last(fake_lights) == MAGENTA, timeout=8, what="stale when the dashboard is gone")


def test_remote_mode_over_https_verifies_the_certificate(tmp_path: Path, fake_lights, gui_server, nginx) -> None:
    fake_lights.plug()
    server = gui_server().start()
    put_ticket(server.tickets, ticket(1, due_by=iso_in(hours=2)))
    https, _, cert = nginx(server.port)
    with Running(tmp_path / "trusting", fake_lights.module(), remote_url=https, remote_poll_seconds=1,
                 remote_ca_file=str(cert)):
        wait_for(lambda: last(fake_lights) == RED, what="critical over HTTPS with the CA file")
    with Running(tmp_path / "doubting", fake_lights.module(), remote_url=https, remote_poll_seconds=1) as run:
        wait_for(lambda: "CERTIFICATE_VERIFY_FAILED" in run.status().get("reason", ""),
                 what="a self-signed certificate refused without the CA file")
        assert run.status()["state"] == "stale"


def test_remote_mode_without_the_key_is_stale(tmp_path: Path, fake_lights, gui_server) -> None:
    fake_lights.plug()
    server = gui_server()
    private(server.config.parent.joinpath("access_key.txt"), "desk-key-0123456789\n")
    server.start()
    with Running(tmp_path / "desk", fake_lights.module(), remote_url=server.url, remote_poll_seconds=1) as run:
        wait_for(lambda: last(fake_lights) == MAGENTA, what="stale: the dashboard refuses us")
        wait_for(lambda: "401" in run.status().get("reason", ""), what="the reason in the status file")


def critical_blinky(tmp_path: Path, fake_lights):
    """A plugged light and ``python -m blinky`` on a folder with one critical ticket: (folder, config, process)."""
    fake_lights.plug()
    folder = folder_with(tmp_path, ticket(1, due_by=iso_in(hours=2)))
    config = site_config(tmp_path / "config", blinky={"device": "luxafor"})
    return folder, config, start_module("blinky", "--config", str(config), env=fake_lights.env())


def test_the_process_turns_the_light_off_on_sigterm(tmp_path: Path, fake_lights) -> None:
    folder, _, process = critical_blinky(tmp_path, fake_lights)
    try:
        wait_for(lambda: last(fake_lights) == RED, what="critical from the process")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert last(fake_lights) == bytes.fromhex("00 01 ff 00 00 00 00 00 00")
    assert json.loads((folder / "_light.json").read_text())["state"] == "off"
    assert "light: critical" in process.log.read_text()


def test_simulated_light_logs_and_writes_the_status_file(tmp_path: Path, fake_lights) -> None:
    folder = folder_with(tmp_path, ticket(1, status=3))
    config = site_config(tmp_path / "config", blinky={"device": "simulated"})
    from tests.helpers import run_module

    result = run_module("blinky", "--config", str(config), "--once", env=fake_lights.env())
    assert result.returncode == 0, result.stderr
    status = json.loads((folder / "_light.json").read_text())
    assert status["state"] == "clear" and status["device"] == "simulated" and status["effect"] == "#00ff00"
    assert "light: clear" in result.stderr and fake_lights.writes() == []


def test_bad_blinky_config_names_the_key(tmp_path: Path) -> None:
    from tests.helpers import run_module

    for blinky, expected in [({"effects": {"clear": "blink green"}}, "[blinky] effects.clear"),
                             ({"quiet_hours": "late"}, "[blinky] quiet_hours"),
                             ({"view": "nope"}, "[blinky] view"),
                             ({"device": "lamp"}, "[blinky] device")]:
        config = write_config(tmp_path, {"blinky": {"device": "simulated", **blinky}}, token=None)
        result = run_module("blinky", "--config", str(config), "--once")
        assert result.returncode == 2 and expected in result.stderr and str(config) in result.stderr


def test_effects_override_only_what_they_name(tmp_path: Path) -> None:
    config = configuration.load(write_config(tmp_path, {"blinky": {"effects": {"clear": "blue"}}}, token=None),
                                environ={})
    effects = config.effects
    assert effects["clear"] == parse_effect("blue") and effects["fr_overdue"] == parse_effect("strobe red")


def test_list_names_each_light_or_says_what_to_check(tmp_path: Path, fake_lights) -> None:
    from tests.helpers import run_module

    config = site_config(tmp_path / "config", blinky={"device": "auto"})
    empty = run_module("blinky", "--config", str(config), "--list", env=fake_lights.env())
    assert empty.returncode == 0
    assert "no Luxafor found (looked for USB 04d8:f372 through hidapi)" in empty.stdout
    assert "lsusb" in empty.stdout and "70-ticketdash-lights.rules" in empty.stdout
    fake_lights.plug("1-2:1.0")
    found = run_module("blinky", "--config", str(config), "--list", env=fake_lights.env())
    assert found.returncode == 0 and "1-2:1.0" in found.stdout and "no Luxafor" not in found.stdout
    assert fake_lights.writes() == []  # listing never lights anything
    simulated = site_config(tmp_path / "sim", blinky={"device": "simulated"})
    told = run_module("blinky", "--config", str(simulated), "--list", env=fake_lights.env())
    assert told.returncode == 0 and 'no light looked for: [blinky] device = "simulated"' in told.stdout


def two_lights(tmp_path: Path, fake_lights) -> tuple[Path, Path]:
    """Ada's and Grace's Luxafors on ports 1-1.4 and 1-1.3, each following its own agent."""
    fake_lights.plug("1-1.4:1.0")
    fake_lights.plug("1-1.3:1.0")
    folder = folder_with(tmp_path, ticket(1, responder_id=5, due_by=iso_in(minutes=-5)),
                         ticket(2, responder_id=6, due_by=iso_in(hours=6)))
    (folder / "_names").mkdir()
    (folder / "_names" / "agents.txt").write_text("5:Ada Lovelace\n6:Grace Hopper\n")
    config = site_config(tmp_path / "config", blinky={"device": "luxafor", "lights": [
        {"name": "Ada", "port": "1-1.4", "agent": 5}, {"name": "Grace", "port": "1-1.3", "agent": 6}]})
    return folder, config


def test_two_lights_on_two_ports_each_show_their_agents_worst(tmp_path: Path, fake_lights) -> None:
    folder, config = two_lights(tmp_path, fake_lights)
    process = start_module("blinky", "--config", str(config), env=fake_lights.env())
    try:
        wait_for(lambda: fake_lights.writes("1-1.4:1.0")[-1:] == [RED_STROBE], what="Ada's overdue ticket")
        wait_for(lambda: fake_lights.writes("1-1.3:1.0")[-1:] == [AMBER], what="Grace's warning")
        outputs = lambda: [(o["name"], o["port"], o["state"]) for o in json.loads(  # noqa: E731
            (folder / "_light.json").read_text()).get("outputs", [])] if (folder / "_light.json").exists() else []
        wait_for(lambda: outputs() == [("Ada", "1-1.4", "overdue"), ("Grace", "1-1.3", "warning")],
                 what="each light in the status file")
        # Ada's light moves to another port: reported by name; Grace's light goes on regardless.
        fake_lights.unplug("1-1.4:1.0")
        fake_lights.plug("1-1.5:1.0")
        put_ticket(folder, ticket(2, responder_id=6, due_by=iso_in(minutes=-1)))
        wait_for(lambda: fake_lights.writes("1-1.3:1.0")[-1:] == [RED_STROBE], what="Grace's breach")

        def moved() -> bool:
            outputs = json.loads((folder / "_light.json").read_text()).get("outputs", [{}])
            return "a Luxafor is at 1-1.5: moved?" in outputs[0].get("reason", "")
        wait_for(moved, timeout=15, what="the moved light reported")
        assert fake_lights.writes("1-1.5:1.0") == []  # nobody's light is driven by a guess
        fake_lights.unplug("1-1.5:1.0")
        fake_lights.plug("1-1.4:1.0")  # back at its port: found again, lit again
        wait_for(lambda: fake_lights.writes("1-1.4:1.0")[-1:] == [RED_STROBE], timeout=15, what="Ada's light back")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert fake_lights.writes("1-1.4:1.0")[-1] == fake_lights.writes("1-1.3:1.0")[-1] == bytes.fromhex("00 01 ff 00 00 00 00 00 00")
    assert "light Ada: no light at port 1-1.4; a Luxafor is at 1-1.5" in process.log.read_text()


def test_list_shows_each_lights_port_and_owner(tmp_path: Path, fake_lights) -> None:
    from tests.helpers import run_module

    _, config = two_lights(tmp_path, fake_lights)
    fake_lights.unplug("1-1.3:1.0")
    fake_lights.plug("2-3:1.0", product="LUXAFOR MUTE")
    listed = run_module("blinky", "--config", str(config), "--list", env=fake_lights.env())
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert any(line.startswith("port 1-1.4") and "LUXAFOR FLAG" in line and "light 'Ada'" in line for line in lines)
    assert any(line.startswith("port 2-3") and "LUXAFOR MUTE" in line and "light" not in line.split("'")[-1] for line in lines)
    assert any(line.startswith("port 1-1.3") and "nothing plugged in" in line and "'Grace'" in line for line in lines)


def test_several_lights_are_checked_once(tmp_path: Path) -> None:
    from tests.helpers import run_module

    for lights, expected in [
        ([{"name": "a"}, {"name": "b", "port": "1-2"}], "each needs its USB port"),
        ([{"name": "a", "port": "1-2"}, {"name": "a", "port": "1-3"}], "#2 (a) name: another light has this name"),
        ([{"name": "Ada's desk", "port": "1-2"}, {"name": "Ada_s desk", "port": "1-3"}], "#2 (Ada_s desk) name: another"),
        ([{"name": "a", "port": "1-2"}, {"name": "b", "port": "1-2"}], "#2 (b) port: another light is at 1-2"),
        ([{"name": "a", "port": "/dev/hidraw0"}], "#1 (a) port: expected a USB port"),
        ([{"name": "a", "wall": "lobby"}], "#1 (a) wall: no wall 'lobby'"),
        ([{"name": "a/b"}], "#1 (a/b) name: a light needs a name"),
    ]:
        config = write_config(tmp_path, {"blinky": {"device": "simulated", "lights": lights}}, token=None)
        result = run_module("blinky", "--config", str(config), "--once")
        assert result.returncode == 2 and expected in result.stderr and str(config) in result.stderr, result.stderr


def test_other_brands_get_their_vendors_bytes_through_busylight_core(tmp_path: Path, fake_lights) -> None:
    from tests.helpers import run_module

    fake_lights.plug("1-1.2:1.0", "blink(1) mk3", usb=(0x27B8, 0x01ED))
    fake_lights.plug("1-1.3:1.0", "Busylight Alpha", usb=(0x27BB, 0x3BCA))
    fake_lights.plug("1-1.4:1.0")
    folder = folder_with(tmp_path, ticket(1, due_by=iso_in(hours=2)))
    config = site_config(tmp_path / "config", blinky={"device": "auto"})
    listed = run_module("blinky", "--config", str(config), "--list", env=fake_lights.env())
    assert {line.split()[1] for line in listed.stdout.splitlines()} == {"1-1.2", "1-1.3", "1-1.4"}
    assert "blink(1) mk3" in listed.stdout and "Busylight Alpha" in listed.stdout
    result = run_module("blinky", "--config", str(config), "--once", env=fake_lights.env())
    assert result.returncode == 0, result.stderr
    assert json.loads((folder / "_light.json").read_text())["lights"] == 3
    assert fake_lights.writes("1-1.4:1.0") == [RED]  # a Luxafor: this project's own bytes
    # blink(1): feature report 1, 'c' (fade to RGB), red, green, blue, fade time 10 x 10 ms, both LEDs
    assert fake_lights.writes("1-1.2:1.0") == [bytes.fromhex("01 63 ff 00 00 00 0a 00")]
    kuando = fake_lights.writes("1-1.3:1.0")[0]
    # Kuando: 64 bytes; step 0 jumps to itself with red at 100 % (its scale is 0-100); a 16-bit sum ends it
    assert len(kuando) == 64 and kuando[:8] == bytes([0x10, 0, 100, 0, 0, 0, 0, 0])
    assert int.from_bytes(kuando[62:], "big") == sum(kuando[:62])
    put_ticket(folder, ticket(1, due_by=iso_in(minutes=-2)))  # overdue: a Luxafor strobes, the others hold red
    assert run_module("blinky", "--config", str(config), "--once", env=fake_lights.env()).returncode == 0
    assert fake_lights.writes("1-1.4:1.0")[-1] == RED_STROBE
    assert fake_lights.writes("1-1.2:1.0")[-1] == bytes.fromhex("01 63 ff 00 00 00 0a 00")


def test_a_remote_boards_tickets_for_a_touch_are_read_defensively() -> None:
    from blinky.daemon import _remote_tickets

    answer = {"sections": [
        {"tickets": [{"id": 1, "state": "overdue"}, {"id": 2, "state": "overdue", "ack": {"by": "Ada"}},
                     {"id": "3", "state": "overdue"}, {"id": 4, "state": "warning"}, {"id": True, "state": "overdue"},
                     {"id": 5, "state": "overdue", "helpdesk": "acme"}, {"id": 6, "state": "overdue", "helpdesk": 7},
                     "junk", None]},
        {"tickets": "not a list"}, "junk", {"no": "tickets"}]}
    assert _remote_tickets(answer, "overdue") == (("", 1), ("acme", 5))
    assert _remote_tickets({"sections": {"a": 1}}, "overdue") == () and _remote_tickets({}, "overdue") == ()
