"""What a light shows for each board state: a colour and whether it strobes.

Device-neutral: the desk light's driver turns an :class:`Effect` into its
vendor's bytes, the page's virtual light into CSS, so both show the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COLOURS = {
    "off": (0, 0, 0), "red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255),
    "amber": (255, 150, 0), "yellow": (255, 255, 0), "orange": (255, 80, 0),
    "magenta": (255, 0, 255), "cyan": (0, 255, 255), "white": (255, 255, 255),
}

DEFAULT_EFFECTS = {
    "error": "magenta", "stale": "magenta", "fr_overdue": "strobe red", "overdue": "strobe red",
    "critical": "red", "warning": "amber", "attention": "amber", "clear": "green",
}


@dataclass(frozen=True)
class Effect:
    rgb: tuple[int, int, int]
    strobe: bool = False

    def quiet(self, brightness: float) -> Effect:
        """Dimmed and steady, for quiet hours."""
        return Effect(tuple(round(c * brightness) for c in self.rgb), False)  # type: ignore[arg-type]

    def css(self) -> dict[str, object]:
        return {"rgb": "#%02x%02x%02x" % self.rgb, "strobe": self.strobe}

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
