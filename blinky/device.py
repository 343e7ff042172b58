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
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from pyluxafor import LuxaforFlag

logger = logging.getLogger(__name__)

VENDOR_ID = LuxaforFlag.DEVICE_VENDOR_ID  # 0x04D8
PRODUCT_ID = LuxaforFlag.DEVICE_PRODUCT_ID  # 0xF372
REPORT_ID = 0
STROBE_SPEED = 20
REPEAT_FOREVER = 0

COLOURS = {
    "off": (0, 0, 0), "red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255),
    "amber": (255, 150, 0), "yellow": (255, 255, 0), "orange": (255, 80, 0),
    "magenta": (255, 0, 255), "cyan": (0, 255, 255), "white": (255, 255, 255),
}


@dataclass(frozen=True)
class Effect:
    rgb: tuple[int, int, int]
    strobe: bool = False

    def command(self) -> bytes:
        """The 8-byte Luxafor command for this effect, on all LEDs."""
        r, g, b = self.rgb
        if self.strobe:
            return bytes([LuxaforFlag.MODE_STROBE, LuxaforFlag.LED_ALL, r, g, b, STROBE_SPEED, 0, REPEAT_FOREVER])
        return bytes([LuxaforFlag.MODE_STATIC_COLOUR, LuxaforFlag.LED_ALL, r, g, b, 0, 0, 0])

    def report(self) -> bytes:
        """What hidapi's write takes: the report ID, then the command."""
        return bytes([REPORT_ID]) + self.command()

    def quiet(self, brightness: float) -> Effect:
        """Dimmed and steady, for quiet hours."""
        return Effect(tuple(round(c * brightness) for c in self.rgb), False)  # type: ignore[arg-type]

    def __str__(self) -> str:
        colour = "#%02x%02x%02x" % self.rgb
        return f"strobe {colour}" if self.strobe else colour


OFF = Effect((0, 0, 0))


def parse_effect(text: str) -> Effect:
    """``[strobe] <colour name | #rrggbb>``; ValueError for anything else."""
    words = text.lower().split()
    strobe = bool(words) and words[0] == "strobe"
    if strobe:
        words = words[1:]
    if len(words) != 1:
        raise ValueError(f"expected '[strobe] <colour>', got {text!r}")
    colour = words[0]
    if colour in COLOURS:
        return Effect(COLOURS[colour], strobe)
    if re.fullmatch(r"#[0-9a-f]{6}", colour):
        return Effect((int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)), strobe)
    raise ValueError(f"unknown colour {colour!r} (names: {', '.join(COLOURS)}, or #rrggbb)")


def load_hid() -> ModuleType | None:
    """hidapi's module, or None when it is not installed (the light is then simulated)."""
    try:
        import hid
    except ImportError:
        return None
    return hid if hasattr(hid, "device") else None  # not the other package that is also called "hid"


class Lights:
    """Every Luxafor plugged in (or only the one at *path*), kept open and re-found when lost."""

    def __init__(self, hid: Any, path: bytes | None = None) -> None:
        self.hid = hid
        self.path = path
        self.open: dict[bytes, Any] = {}

    def listing(self) -> list[dict[str, Any]]:
        return list(self.hid.enumerate(VENDOR_ID, PRODUCT_ID))

    def _discover(self) -> None:
        for info in self.listing():
            path = info["path"]
            if path in self.open or (self.path is not None and path != self.path):
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

    def show(self, effect: Effect) -> int:
        """Send *effect* to every light (finding new ones first); how many took it."""
        self._discover()
        data = effect.report()
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
