"""Luxafor lights over the hidapi package's ``hid`` module, byte-exact.

Every command is 8 bytes behind report ID 0, so 9 bytes per write. A write
that returns less than 0, or an open that fails, means the light is gone: it
is closed, and looked for again on the next ``show``, which sends the state
to every light found, so a re-plugged light comes back lit. pyluxafor
supplies the protocol's constants; its own transport is not used (it caches
the device forever and has no strobe-colour call).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from types import ModuleType
from typing import Any

from pyluxafor import LuxaforFlag

from ticketdash.lights import Effect

logger = logging.getLogger(__name__)

VENDOR_ID = LuxaforFlag.DEVICE_VENDOR_ID  # 0x04D8
PRODUCT_ID = LuxaforFlag.DEVICE_PRODUCT_ID  # 0xF372
REPORT_ID = 0
STROBE_SPEED = 20
REPEAT_FOREVER = 0

def command(effect: Effect) -> bytes:
    """The 8-byte Luxafor command for *effect*, on all LEDs."""
    r, g, b = effect.rgb
    if effect.strobe:
        return bytes([LuxaforFlag.MODE_STROBE, LuxaforFlag.LED_ALL, r, g, b, STROBE_SPEED, 0, REPEAT_FOREVER])
    return bytes([LuxaforFlag.MODE_STATIC_COLOUR, LuxaforFlag.LED_ALL, r, g, b, 0, 0, 0])


def report(effect: Effect) -> bytes:
    """What hidapi's write takes: the report ID, then the command."""
    return bytes([REPORT_ID]) + command(effect)


INTERFACE = re.compile(r"(\d+-\d+(?:\.\d+)*):\d+\.\d+")  # "1-1.4:1.0": port 1-1.4, configuration 1, interface 0


def usb_port(path: bytes, sys_root: Path = Path("/sys")) -> str | None:
    """The USB port a light is plugged into ("1-1.4"), which survives re-plugging, unlike its hidraw
    node: from a libusb-style path itself, or from sysfs for a ``/dev/hidrawN`` path."""
    text = path.decode("utf-8", "replace")
    match = INTERFACE.fullmatch(text)
    if match:
        return match.group(1)
    if text.startswith("/dev/hidraw"):
        try:
            device = (sys_root / "class" / "hidraw" / Path(text).name / "device").resolve()
        except OSError:
            return None
        for part in reversed(device.parts):
            match = INTERFACE.fullmatch(part)
            if match:
                return match.group(1)
    return None


def load_hid() -> ModuleType | None:
    """hidapi's module, or None when it is not installed (the light is then simulated)."""
    try:
        import hid
    except ImportError:
        return None
    return hid if hasattr(hid, "device") else None  # not the other package that is also called "hid"


class Lights:
    """Every Luxafor plugged in (or only the one at hidapi *path*, or at USB *port*), kept open and
    re-found when lost or plugged in later."""

    def __init__(self, hid: Any, path: bytes | None = None, port: str | None = None) -> None:
        self.hid = hid
        self.path = path
        self.port = port
        self.open: dict[bytes, Any] = {}

    def listing(self) -> list[dict[str, Any]]:
        """Every Luxafor plugged in, each with its USB ``port`` (None when it cannot be told)."""
        return [{**info, "port": usb_port(info["path"])} for info in self.hid.enumerate(VENDOR_ID, PRODUCT_ID)]

    def _discover(self) -> None:
        for info in self.listing():
            path = info["path"]
            if (path in self.open or (self.path is not None and path != self.path)
                    or (self.port is not None and info["port"] != self.port)):
                continue
            device = self.hid.device()
            try:
                device.open_path(path)
            except (OSError, ValueError, RuntimeError) as error:
                logger.warning("cannot open the light at %r: %s (check the udev rule)", path, error)
                continue
            logger.info("light connected at %r (%s)", path, info.get("product_string") or "Luxafor")
            self.open[path] = device

    def _close(self, path: bytes) -> None:
        device = self.open.pop(path)
        try:
            device.close()
        except (OSError, ValueError):
            pass

    def missing(self) -> bool:
        """No light open: worth looking again soon."""
        return not self.open

    def plugged_or_pulled(self, listing: list[dict[str, Any]]) -> bool:
        """Whether a light it holds open has left the bus (closed now), or one it wants has arrived,
        by *listing* (one enumeration shared by every light): a write would tell only at the next
        change, and a moved light should be told at once."""
        listed = {info["path"] for info in listing}
        gone = [path for path in self.open if path not in listed]
        for path in gone:
            logger.warning("the light at %r was unplugged", path)
            self._close(path)
        arrived = not self.open and any(self.port is None or info["port"] == self.port for info in listing)
        return bool(gone) or arrived

    def show(self, effect: Effect) -> int:
        """Send *effect* to every light (finding new ones first); how many took it."""
        self._discover()
        data = report(effect)
        written = 0
        for path, device in list(self.open.items()):
            try:
                result = device.write(data)
            except (OSError, ValueError) as error:
                logger.warning("write to the light at %r failed: %s", path, error)
                result = -1
            if result < 0:
                logger.warning("the light at %r is gone; looking for it again", path)
                self._close(path)
            else:
                written += 1
        return written

    def close(self) -> None:
        for path in list(self.open):
            self._close(path)
