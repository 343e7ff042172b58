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
import threading
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from pyluxafor import LuxaforFlag

from ticketdash.lights import Effect

logger = logging.getLogger(__name__)

VENDOR_ID = LuxaforFlag.DEVICE_VENDOR_ID  # 0x04D8
PRODUCT_ID = LuxaforFlag.DEVICE_PRODUCT_ID  # 0xF372
REPORT_ID = 0
STROBE_SPEED = 20
REPEAT_FOREVER = 0
TOUCH_REPORT = 0x83  # a Luxafor Mute's touch: an 8-byte input report, either edge (which byte is which: unknown)
READ_MS = 250  # a blocking read's timeout: the reader notices a closed light this soon; input reports queue

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


class LightSet:
    """Every light of one kind plugged in (or only the one at hidapi *path*, or at USB *port*), kept
    open and re-found when lost or plugged in later. A kind says how to list, open and drive its lights."""

    kind = "light"

    def __init__(self, path: bytes | None = None, port: str | None = None) -> None:
        self.path = path
        self.port = port
        self.open: dict[bytes, Any] = {}

    def listing(self) -> list[dict[str, Any]]:
        """Every light of this kind plugged in: ``path``, ``port`` (None when it cannot be told),
        ``product_string``, ``kind``."""
        raise NotImplementedError

    def _open(self, info: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _send(self, device: Any, effect: Effect) -> bool:
        """Show *effect*; False when the light is gone."""
        raise NotImplementedError

    def _release(self, path: bytes, device: Any) -> None:
        raise NotImplementedError

    def listen(self, on_touch: Callable[[], None]) -> None:
        """Report a touch on one of these lights (for the kinds that have one)."""

    def _discover(self) -> None:
        for info in self.listing():
            path = info["path"]
            if (path in self.open or (self.path is not None and path != self.path)
                    or (self.port is not None and info["port"] != self.port)):
                continue
            try:
                self.open[path] = self._open(info)
            except Exception as error:  # a driver's own failure too: this light stays closed
                logger.warning("cannot open the light at %r: %s (check the udev rule)", path, error)
                continue
            logger.info("light connected at %r (%s)", path, info.get("product_string") or self.kind)

    def _close(self, path: bytes) -> None:
        device = self.open.pop(path)
        try:
            self._release(path, device)
        except Exception as error:
            logger.debug("closing the light at %r: %s", path, error)

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
        arrived = not self.open and any(info.get("kind") == self.kind and (self.port is None or info["port"] == self.port)
                                        for info in listing)
        return bool(gone) or arrived

    def show(self, effect: Effect) -> int:
        """Send *effect* to every light (finding new ones first); how many took it."""
        self._discover()
        written = 0
        for path, device in list(self.open.items()):
            try:
                shown = self._send(device, effect)
            except Exception as error:
                logger.warning("write to the light at %r failed: %s", path, error)
                shown = False
            if shown:
                written += 1
            else:
                logger.warning("the light at %r is gone; looking for it again", path)
                self._close(path)
        return written

    def close(self) -> None:
        for path in list(self.open):
            self._close(path)


class Lights(LightSet):
    """Luxafors, byte-exact through hidapi. A Mute's touch is read in its own thread and reported to
    *on_touch*."""

    kind = "luxafor"

    def __init__(self, hid: Any, path: bytes | None = None, port: str | None = None) -> None:
        super().__init__(path, port)
        self.hid = hid
        self.on_touch: Callable[[], None] | None = None  # a Mute's touch
        self.reading: dict[bytes, threading.Lock] = {}  # a Mute's reader holds it while hidapi reads

    def listing(self) -> list[dict[str, Any]]:
        return [{**info, "port": usb_port(info["path"]), "kind": self.kind}
                for info in self.hid.enumerate(VENDOR_ID, PRODUCT_ID)]

    def _open(self, info: dict[str, Any]) -> Any:
        device = self.hid.device()
        device.open_path(info["path"])
        if str(info.get("product_string") or "").upper().endswith("MUTE") and self.on_touch is not None:
            lock = self.reading[info["path"]] = threading.Lock()
            threading.Thread(target=self._read_touches, args=(info["path"], device, lock), daemon=True,
                             name=f"touch {info['path']!r}").start()
        return device

    def _read_touches(self, path: bytes, device: Any, lock: threading.Lock) -> None:
        """Until the light is closed: every 0x83 report is a touch (other reports are noise)."""
        while True:
            with lock:
                if self.open.get(path) is not device and self.reading.get(path) is not lock:
                    return
                try:
                    data = device.read(8, READ_MS)
                except (OSError, ValueError):
                    return  # gone: the writer finds out and closes it
            if data and data[0] == TOUCH_REPORT and self.on_touch is not None:
                try:
                    self.on_touch()
                except Exception:
                    logger.exception("a touch on the light at %r could not be handled", path)

    def _send(self, device: Any, effect: Effect) -> bool:
        return device.write(report(effect)) >= 0

    def listen(self, on_touch: Callable[[], None]) -> None:
        self.on_touch = on_touch

    def _release(self, path: bytes, device: Any) -> None:
        lock = self.reading.pop(path, None)
        if lock is None:
            device.close()
            return
        with lock:  # never close under a read in progress: hidapi would read freed memory
            device.close()


class AnyLights(LightSet):
    """Several kinds as one: a light of any kind at the port (or every light of every kind)."""

    kind = "any"

    def __init__(self, kinds: list[LightSet]) -> None:
        super().__init__()
        self.kinds = kinds

    def listing(self) -> list[dict[str, Any]]:
        return [info for kind in self.kinds for info in kind.listing()]

    def missing(self) -> bool:
        return all(kind.missing() for kind in self.kinds)

    def plugged_or_pulled(self, listing: list[dict[str, Any]]) -> bool:
        return any([kind.plugged_or_pulled(listing) for kind in self.kinds])  # a list: every kind looks

    def show(self, effect: Effect) -> int:
        return sum(kind.show(effect) for kind in self.kinds)

    def listen(self, on_touch: Callable[[], None]) -> None:
        for kind in self.kinds:
            kind.listen(on_touch)

    def close(self) -> None:
        for kind in self.kinds:
            kind.close()
