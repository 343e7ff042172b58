"""Every other USB status light, through busylight-core: Kuando, Embrava, blink(1), EPOS, Plantronics,
MuteMe, BlinkStick and more (``python -m blinky --list`` shows what it finds).

Luxafors stay with :mod:`blinky.device`, byte-exact. busylight-core has no
strobe common to every light: these lights show a strobing state's colour
steady (the wall, the status file and MQTT still say it is strobing). Kuando
lights need a keep-alive write every few seconds; busylight-core sends it.
"""

from __future__ import annotations

import logging
from typing import Any

from ticketdash.lights import Effect
from blinky.device import PRODUCT_ID, VENDOR_ID, LightSet, usb_port

logger = logging.getLogger(__name__)


def load_light() -> Any | None:
    """busylight-core's ``Light`` class, or None when it is not installed (Luxafors still work)."""
    try:
        from busylight_core import Light
        from loguru import logger as loguru
    except ImportError:
        return None
    loguru.disable("busylight_core")  # its own log goes to stderr; what matters is logged here
    return Light


class OtherLights(LightSet):
    """The lights busylight-core knows, but Luxafors."""

    kind = "busylight-core"

    def __init__(self, light: Any, path: bytes | None = None, port: str | None = None) -> None:
        super().__init__(path, port)
        self.light = light

    def listing(self) -> list[dict[str, Any]]:
        found = []
        for model, hardware in self.light.available_hardware().items():
            for one in hardware:
                if (one.vendor_id, one.product_id) == (VENDOR_ID, PRODUCT_ID) or not isinstance(one.path, bytes):
                    continue  # a Luxafor is driven byte-exact elsewhere; a serial light has no USB port to name
                found.append({"path": one.path, "port": usb_port(one.path), "kind": self.kind,
                              "product_string": one.product_string or model.__name__, "model": model,
                              "hardware": one})
        return found

    def _open(self, info: dict[str, Any]) -> Any:
        return info["model"](info["hardware"], reset=False, exclusive=True)

    def _send(self, device: Any, effect: Effect) -> bool:
        if effect.rgb == (0, 0, 0):
            device.off()
        else:
            device.on(effect.rgb)
        return True

    def _release(self, path: bytes, device: Any) -> None:
        device.off()
        device.release()
