"""A stand-in for hidapi's ``hid`` module (these machines have no USB).

State lives in the folder named by ``FAKE_HID_DIR``, so a daemon in another
process sees the same lights the test plugs in:

- ``lights/<name>``: a plugged-in light at path ``<name>`` (bytes); the file
  holds its product string. Delete it to unplug the light.
- ``broken/<name>``: opening that light fails, as without the udev rule.
- ``writes.jsonl``: every write, ``{"path": ..., "hex": ...}``, in order.

Behaviour copied from cython-hidapi 0.15: ``write`` returns the byte count,
or -1 once the device is gone; ``open_path`` raises ``OSError('open failed')``;
calls on an unopened device raise ``ValueError('not open')``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def _root() -> Path:
    return Path(os.environ["FAKE_HID_DIR"])


def enumerate(vendor_id: int = 0, product_id: int = 0) -> list[dict]:  # noqa: A001 (hid's own name)
    found = []
    lights = _root() / "lights"
    if (vendor_id, product_id) not in ((0, 0), (0x04D8, 0xF372)) or not lights.is_dir():
        return found
    for entry in sorted(lights.iterdir()):
        found.append({"path": entry.name.encode(), "vendor_id": 0x04D8, "product_id": 0xF372,
                      "serial_number": "", "release_number": 256, "manufacturer_string": "Microchip Technology Inc.",
                      "product_string": entry.read_text().strip(), "usage_page": 0, "usage": 0,
                      "interface_number": 0, "bus_type": 1})
    return found


class device:  # noqa: N801 (hid's own name)
    def __init__(self) -> None:
        self.path: bytes | None = None

    def open_path(self, path: bytes) -> None:
        if not isinstance(path, bytes):
            raise TypeError("path must be bytes")
        if self.path is not None:
            raise RuntimeError("already open")
        name = path.decode()
        if not (_root() / "lights" / name).exists() or (_root() / "broken" / name).exists():
            raise OSError("open failed")
        self.path = path

    def write(self, buf: bytes) -> int:
        if self.path is None:
            raise ValueError("not open")
        data = bytes(buf)
        if not (_root() / "lights" / self.path.decode()).exists():
            return -1
        with open(_root() / "writes.jsonl", "a") as log:
            log.write(json.dumps({"path": self.path.decode(), "hex": data.hex()}) + "\n")
        return len(data)

    def close(self) -> None:
        self.path = None
