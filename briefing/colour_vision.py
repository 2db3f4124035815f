"""Colours -> how far apart they look: in greyscale and for the common colour-vision deficiencies.

A timeline's categories are told apart by colour (and shape). A theme's figure palette is
checked here before anything is drawn: printed in greyscale, two colours must differ in
lightness; seen with protanopia, deuteranopia or tritanopia, they must stay apart in colour.

The simulation is Machado, Oliveira & Fernandes (2009), "A Physiologically-based Model for
Simulation of Color Vision Deficiency", at severity 1.0 (complete dichromacy, the worst case):
well known, published as plain 3x3 matrices and applied to linear sRGB, as colorspacious and
Chromium's DevTools do. Distances are CIEDE2000, the CIE's current colour difference, which
unlike the Euclidean CIE76 does not overstate differences between saturated colours.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

Matrix = tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]
Lab = tuple[float, float, float]

MACHADO_2009: dict[str, Matrix] = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}
"""Severity 1.0 matrices from Machado et al. (2009), table of their supplementary material; linear RGB in and out."""

MIN_GREY_DIFFERENCE = 8.0
"""Least difference in CIE L* (0 black, 100 white) between two figure colours printed in greyscale.

L* is what a greyscale printer or photocopier keeps. Markers are small (2 mm) and spans thin:
small marks need several times the just-noticeable difference of about 1 L* for large patches,
and photocopies lose more. 8 keeps the palettes designers use for print apart (ColorBrewer's
sequential ramps step by 10-15) while refusing two mid-tones of equal weight."""

MIN_CVD_DIFFERENCE = 8.0
"""Least CIEDE2000 difference between two figure colours as a dichromat sees them.

A difference of 1 is just noticeable side by side on large patches; categories are compared
across a figure, on small marks, so the bar is set higher. Okabe & Ito's palette, designed for
these viewers and the default, keeps at least 10.8 under each simulation."""


@dataclass(frozen=True)
class Collision:
    """Two palette colours (by index) that look alike to some viewer."""

    first: int
    second: int
    viewer: str
    """'greyscale', 'protanopia', 'deuteranopia' or 'tritanopia'."""
    difference: float
    minimum: float


def parse_hex(text: str) -> tuple[int, int, int] | None:
    """``#rrggbb`` or ``#rgb`` as 0-255 channels; None for anything else."""
    value = text.strip().lower()
    if len(value) == 4 and value.startswith("#"):
        value = "#" + "".join(char * 2 for char in value[1:])
    if len(value) != 7 or not value.startswith("#") or any(char not in "0123456789abcdef" for char in value[1:]):
        return None
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def collisions(colours: tuple[str, ...]) -> list[Collision]:
    """Every pair of colours too close in greyscale or under a simulated deficiency (worst first per pair)."""
    found: list[Collision] = []
    linear = [_linear(_channels(colour)) for colour in colours]
    labs = [_lab(rgb) for rgb in linear]
    simulated = {name: [_lab(_apply(matrix, rgb)) for rgb in linear] for name, matrix in MACHADO_2009.items()}
    for i, j in itertools.combinations(range(len(colours)), 2):
        grey = abs(labs[i][0] - labs[j][0])
        if grey < MIN_GREY_DIFFERENCE:
            found.append(Collision(i, j, "greyscale", grey, MIN_GREY_DIFFERENCE))
            continue
        for name, seen in simulated.items():
            difference = ciede2000(seen[i], seen[j])
            if difference < MIN_CVD_DIFFERENCE:
                found.append(Collision(i, j, name, difference, MIN_CVD_DIFFERENCE))
                break
    return found


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2's contrast ratio of two colours, from 1 (the same) to 21 (black on white)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def lightened(colour: str, background: str, minimum: float = 4.5) -> str:
    """``colour`` mixed with white, as little as reaches ``minimum`` contrast on a dark ``background``.

    A brand's accent keeps its hue on a dark page instead of being replaced by a stock colour.
    """
    red, green, blue = _channels(colour)
    for step in range(21):
        share = step / 20
        mixed = "#" + "".join(f"{round(c + (255 - c) * share):02x}" for c in (red, green, blue))
        if contrast_ratio(mixed, background) >= minimum:
            return mixed
    return "#ffffff"


def _luminance(colour: str) -> float:
    r, g, b = _linear(_channels(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _channels(colour: str) -> tuple[int, int, int]:
    channels = parse_hex(colour)
    if channels is None:
        raise ValueError(f"{colour!r} is not a #rrggbb colour")
    return channels


def _linear(channels: tuple[int, int, int]) -> tuple[float, float, float]:
    def one(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return one(channels[0]), one(channels[1]), one(channels[2])


def _apply(matrix: Matrix, rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    r, g, b = (min(1.0, max(0.0, sum(row[k] * rgb[k] for k in range(3)))) for row in matrix)
    return r, g, b


def _lab(rgb: tuple[float, float, float]) -> Lab:
    """Linear sRGB (D65) -> CIE L*a*b*."""
    r, g, b = rgb
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b
    z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def ciede2000(lab1: Lab, lab2: Lab) -> float:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005 formulation, kL = kC = kH = 1)."""
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c_bar = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_bar**7 / (c_bar**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = math.degrees(math.atan2(b2, a2p)) % 360 if c2p else 0.0
    dl, dc = l2 - l1, c2p - c1p
    if c1p * c2p == 0:
        dh = 0.0
    elif abs(h2p - h1p) <= 180:
        dh = h2p - h1p
    else:
        dh = h2p - h1p - 360 if h2p > h1p else h2p - h1p + 360
    dh_big = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    l_bar, cp_bar = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_bar = (h1p + h2p) / 2
    else:
        h_bar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(h_bar - 30)) + 0.24 * math.cos(math.radians(2 * h_bar))
         + 0.32 * math.cos(math.radians(3 * h_bar + 6)) - 0.20 * math.cos(math.radians(4 * h_bar - 63)))
    d_theta = 30 * math.exp(-(((h_bar - 275) / 25) ** 2))
    r_c = 2 * math.sqrt(cp_bar**7 / (cp_bar**7 + 25**7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / math.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * cp_bar
    s_h = 1 + 0.015 * cp_bar * t
    r_t = -math.sin(math.radians(2 * d_theta)) * r_c
    return math.sqrt((dl / s_l) ** 2 + (dc / s_c) ** 2 + (dh_big / s_h) ** 2 + r_t * (dc / s_c) * (dh_big / s_h))
