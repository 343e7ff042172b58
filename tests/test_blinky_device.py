"""The Luxafor driver against a fake hid module: exact bytes, unplug and re-plug, several lights."""

from __future__ import annotations

import pytest

from ticketdash import states
from ticketdash.lights import DEFAULT_EFFECTS
from ticketdash.lights import OFF, Effect, parse_effect
from blinky.device import Lights, report

# Report ID 0, then the 8-byte command: static [1, 0xFF, r, g, b, 0, 0, 0] or strobe [3, 0xFF, r, g, b, speed, 0, repeat].
EXPECTED = {
    "error": "00 01 ff ff 00 ff 00 00 00",
    "stale": "00 01 ff ff 00 ff 00 00 00",
    "fr_overdue": "00 03 ff ff 00 00 14 00 00",
    "overdue": "00 03 ff ff 00 00 14 00 00",
    "critical": "00 01 ff ff 00 00 00 00 00",
    "warning": "00 01 ff ff 96 00 00 00 00",
    "attention": "00 01 ff ff 96 00 00 00 00",
    "clear": "00 01 ff 00 ff 00 00 00 00",
}


@pytest.mark.parametrize("state", states.BOARD_STATES)
def test_default_bytes_for_every_board_state(state: str, fake_lights) -> None:
    fake_lights.plug()
    lights = Lights(fake_lights.module())
    assert lights.show(parse_effect(DEFAULT_EFFECTS[state])) == 1
    assert fake_lights.writes() == [bytes.fromhex(EXPECTED[state])]


def test_off_and_quiet() -> None:
    assert report(OFF) == bytes.fromhex("00 01 ff 00 00 00 00 00 00")
    assert parse_effect("strobe red").quiet(0.2) == Effect((51, 0, 0), False)


@pytest.mark.parametrize("text, effect", [
    ("red", Effect((255, 0, 0))), ("strobe #00FF80", Effect((0, 255, 128), True)),
    ("  Strobe   Magenta ", Effect((255, 0, 255), True)), ("off", Effect((0, 0, 0))),
])
def test_parse_effect(text: str, effect: Effect) -> None:
    assert parse_effect(text) == effect


@pytest.mark.parametrize("text", ["", "blink red", "#ff00", "strobe", "purple", "red green"])
def test_parse_effect_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_effect(text)


def test_unplug_and_replug(fake_lights) -> None:
    fake_lights.plug()
    lights = Lights(fake_lights.module())
    red = parse_effect("red")
    assert lights.show(red) == 1
    fake_lights.unplug()
    assert lights.show(red) == 0 and lights.missing()  # write returned -1: closed, still running
    assert lights.show(red) == 0  # open fails while it is away
    fake_lights.plug()
    assert lights.show(red) == 1 and not lights.missing()  # found again and re-sent
    assert fake_lights.writes() == [report(red), report(red)]


def test_a_light_that_cannot_be_opened_is_skipped(fake_lights, caplog) -> None:
    fake_lights.plug("1-1:1.0")
    fake_lights.plug("1-3:1.0")
    fake_lights.break_open("1-1:1.0")
    lights = Lights(fake_lights.module())
    assert lights.show(parse_effect("green")) == 1
    assert "udev" in caplog.text


def test_several_lights_or_one_by_path(fake_lights) -> None:
    for name in ("1-1:1.0", "1-2:1.0", "3-1.4:1.0"):
        fake_lights.plug(name, "LUXAFOR ORB")
    amber = parse_effect("amber")
    assert Lights(fake_lights.module()).show(amber) == 3
    assert Lights(fake_lights.module(), path=b"3-1.4:1.0").show(amber) == 1
    assert fake_lights.writes("3-1.4:1.0") == [report(amber), report(amber)]
    assert fake_lights.writes("1-1:1.0") == [report(amber)]


def test_a_lights_usb_port_comes_from_its_path_or_from_sysfs(tmp_path) -> None:
    from blinky.device import usb_port

    assert usb_port(b"1-1.4:1.0") == "1-1.4" and usb_port(b"3-2:1.0") == "3-2"
    node = tmp_path / "devices" / "pci0000:00" / "0000:00:14.0" / "usb1" / "1-1" / "1-1.4" / "1-1.4:1.0" / "0003:04D8:F372.0005"
    node.mkdir(parents=True)
    hidraw = tmp_path / "class" / "hidraw" / "hidraw3"
    hidraw.mkdir(parents=True)
    (hidraw / "device").symlink_to(node)
    assert usb_port(b"/dev/hidraw3", sys_root=tmp_path) == "1-1.4"
    assert usb_port(b"/dev/hidraw9", sys_root=tmp_path) is None  # gone: no port, no guess
    assert usb_port(b"\xff\xfe") is None


def test_the_udev_rule_covers_every_hid_light_that_busylight_core_drives() -> None:
    import re

    from busylight_core import Light

    from tests.helpers import ROOT

    rule = (ROOT / "startup" / "70-ticketdash-lights.rules").read_text()
    granted = set(re.findall(r'KERNEL=="hidraw\*", ATTRS\{idVendor\}=="([0-9a-f]{4})", ATTRS\{idProduct\}=="([0-9a-f]{4})"', rule))
    usb = set(re.findall(r'SUBSYSTEMS=="usb", ATTRS\{idVendor\}=="([0-9a-f]{4})", ATTRS\{idProduct\}=="([0-9a-f]{4})"', rule))
    serial = {("10c4", "ea60"), ("2047", "03df"), ("303a", "81df")}  # USB-serial chips: any adapter has these ids
    known = {(f"{v:04x}", f"{p:04x}") for light in Light.subclasses() for v, p in light.supported_device_ids}
    assert granted == usb == known - serial and ("04d8", "f372") in granted
    assert rule.count('GROUP="@USER@", MODE="0660"') == 2 * len(granted) and "0666" not in rule
