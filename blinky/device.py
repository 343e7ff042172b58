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
