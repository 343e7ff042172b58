"""The wall's state colours stay apart for everyone: simulated deuteranopia, protanopia and tritanopia
(Machado, Oliveira and Fernandes 2009, full severity), by CIELAB distance, in both themes."""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parent.parent / "static" / "board.css").read_text()
STATES = ("fr_overdue", "overdue", "critical", "warning", "attention", "ok", "paused", "error", "stale")
VISION = {
    "normal": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}
MIN_DISTANCE = 15  # CIELAB Delta E 1976: clearly different colours at a glance


def palette(block: str) -> dict[str, str]:
    found = dict(re.findall(r"--([a-z_]+):\s*(#[0-9a-f]{6})", block))
    return {state: found[state] for state in STATES}


THEMES = {
    "dark": palette(CSS[CSS.index(":root {"):CSS.index("}", CSS.index(":root {"))]),
    "light": palette(CSS[CSS.index('[data-theme="light"] {'):CSS.index("}", CSS.index('[data-theme="light"] {'))]),
}


def linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def lab(colour: str, vision: str) -> tuple[float, float, float]:
    rgb = [linear(int(colour[i:i + 2], 16)) for i in (1, 3, 5)]
    m = VISION[vision]
    r, g, b = (max(0.0, min(1.0, sum(m[row][k] * rgb[k] for k in range(3)))) for row in range(3))
    x, y, z = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b, \
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("vision", VISION)
def test_every_pair_of_states_stays_apart(theme: str, vision: str) -> None:
    colours = {state: lab(hex_, vision) for state, hex_ in THEMES[theme].items()}
    for a, b in itertools.combinations(STATES, 2):
        distance = math.dist(colours[a], colours[b])
        assert distance >= MIN_DISTANCE, f"{theme}, {vision}: {a} and {b} only {distance:.1f} apart"


def test_stale_and_error_banners_differ() -> None:
    stale = re.search(r"\.banner-stale \{[^}]*\}", CSS).group(0)
    error = re.search(r"\.banner-error \{[^}]*\}", CSS).group(0)
    assert "var(--stale)" in stale and "var(--error)" in error
    assert re.search(r'\.banner-stale::before \{ content: "([^"]+)"', CSS).group(1) != \
        re.search(r'\.banner-error::before \{ content: "([^"]+)"', CSS).group(1)


def test_blinking_never_goes_below_half_opacity() -> None:
    for keyframes in re.findall(r"@keyframes \w+ \{[^}]*\}", CSS):
        for opacity in re.findall(r"opacity:\s*([\d.]+)", keyframes):
            assert float(opacity) >= 0.5, keyframes
