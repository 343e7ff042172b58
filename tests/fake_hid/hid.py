"""A stand-in for hidapi's ``hid`` module (these machines have no USB).

State lives in the folder named by ``FAKE_HID_DIR``, so a daemon in another
process sees the same lights the test plugs in:

- ``lights/<name>``: a plugged-in light at path ``<name>`` (bytes); the file
  holds its product string (a Luxafor), or JSON ``{"vendor_id", "product_id",
  "product"}`` for another brand. Delete it to unplug the light.
- ``broken/<name>``: opening that light fails, as without the udev rule.
- ``touches/<name>``: input reports waiting to be read from that light, one hex
  report per line (a Luxafor Mute's touch is ``83 01 00 00 00 00 00 00``).
- ``writes.jsonl``: every write, ``{"path": ..., "hex": ..., "kind": "write" | "feature"}``, in order.

Behaviour copied from cython-hidapi 0.15: ``write`` returns the byte count,
or -1 once the device is gone; ``open_path`` raises ``OSError('open failed')``;
calls on an unopened device raise ``ValueError('not open')``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path


def _root() -> Path:
    return Path(os.environ["FAKE_HID_DIR"])


def _describe(entry: Path) -> dict:
    text = entry.read_text().strip()
    if text.startswith("{"):
        other = json.loads(text)
        return {"vendor_id": other["vendor_id"], "product_id": other["product_id"], "product_string": other["product"],
                "manufacturer_string": other.get("manufacturer", "")}
    return {"vendor_id": 0x04D8, "product_id": 0xF372, "product_string": text,
            "manufacturer_string": "Microchip Technology Inc."}


def enumerate(vendor_id: int = 0, product_id: int = 0) -> list[dict]:  # noqa: A001 (hid's own name)
    found = []
    lights = _root() / "lights"
    if not lights.is_dir():
        return found
    for entry in sorted(lights.iterdir()):
        try:
            info = _describe(entry)
        except (OSError, ValueError):
            continue  # unplugged while looking
        if vendor_id and (vendor_id, product_id) != (info["vendor_id"], info["product_id"]):
            continue
        found.append({"path": entry.name.encode(), "serial_number": "", "release_number": 256, "usage_page": 0,
                      "usage": 0, "interface_number": 0, "bus_type": 1, **info})
    return found


class device:  # noqa: N801 (hid's own name)
    def __init__(self) -> None:
        self.path: bytes | None = None
        self.reports_read = 0

    def open_path(self, path: bytes) -> None:
        if not isinstance(path, bytes):
            raise TypeError("path must be bytes")
        if self.path is not None:
            raise RuntimeError("already open")
        name = path.decode()
        if not (_root() / "lights" / name).exists() or (_root() / "broken" / name).exists():
            raise OSError("open failed")
        self.path = path

    def write(self, buf: bytes, kind: str = "write") -> int:
        if self.path is None:
            raise ValueError("not open")
        data = bytes(buf)
        if not (_root() / "lights" / self.path.decode()).exists():
            return -1
        with open(_root() / "writes.jsonl", "a") as log:
            log.write(json.dumps({"path": self.path.decode(), "hex": data.hex(), "kind": kind}) + "\n")
        return len(data)

    def send_feature_report(self, buf: bytes) -> int:
        return self.write(buf, "feature")

    def read(self, size: int, timeout_ms: int = 0) -> list[int]:
        """The next waiting input report, or [] after *timeout_ms* (hidapi blocks that long)."""
        if self.path is None:
            raise ValueError("not open")
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            try:
                waiting = (_root() / "touches" / self.path.decode()).read_text().split()
            except FileNotFoundError:
                waiting = []
            if len(waiting) > self.reports_read:
                self.reports_read += 1
                return list(bytes.fromhex(waiting[self.reports_read - 1]))[:size]
            if not (_root() / "lights" / self.path.decode()).exists():
                raise OSError("read error")
            if time.monotonic() >= deadline:
                return []
            time.sleep(0.02)

    def error(self) -> str:
        return ""

    def close(self) -> None:
        self.path = None
