"""Figure colours and shapes, in sRGB for screens and as CMYK builds for the print edition.

The print edition's figures name every colour in ``device-cmyk()`` (WeasyPrint writes it to
the PDF as DeviceCMYK, as it does for the print stylesheet): neutral greys and text are
black ink only, so hairlines and small type never mis-register on press.
"""

from __future__ import annotations

import re

OKABE_ITO = ("#0072b2", "#d55e00", "#009e73", "#e69f00", "#cc79a7", "#56b4e9", "#f0e442", "#000000")
"""Okabe & Ito (2008) colour-blind-safe palette, darkest and most distinct hues first."""

OKABE_ITO_CMYK = {
    "#0072b2": (1.00, 0.50, 0.00, 0.00),
    "#d55e00": (0.00, 0.80, 1.00, 0.00),
    "#009e73": (0.97, 0.00, 0.75, 0.00),
    "#e69f00": (0.00, 0.50, 1.00, 0.00),
    "#cc79a7": (0.10, 0.70, 0.00, 0.00),
    "#56b4e9": (0.80, 0.00, 0.00, 0.00),
    "#f0e442": (0.10, 0.05, 0.90, 0.00),
    "#000000": (0.00, 0.00, 0.00, 1.00),
}
"""The CMYK values Okabe & Ito publish for their palette."""

MARKERS = ("o", "s", "D", "^", "v", "P", "X", "p", "h", "*")
"""One shape per category so the figure still reads in greyscale."""
MARKER_SCALE = {"o": 1.0, "s": 0.86, "D": 0.7, "^": 1.0, "v": 1.0, "P": 0.9, "X": 0.9, "p": 0.95, "h": 0.95, "*": 1.1}
"""Matplotlib sizes shapes differently; these make each fill the same square."""

LABEL = "#222222"
TICK_LABEL = "#444444"
AXIS = "#555555"
LEADER = "#999999"
GUIDE = "#8a8a8a"
BAND = "#d6d6d6"
INSET = "#f3f3f3"
WHITE = "#ffffff"
GREYS = (LABEL, TICK_LABEL, AXIS, LEADER, GUIDE, BAND, INSET, WHITE)


def colour(style: int, colours: tuple[str, ...] = ()) -> str:
    """A category's colour: from a theme's palette when it gives one, else Okabe & Ito's."""
    chosen = colours or OKABE_ITO
    return chosen[style % len(chosen)]


def marker(style: int) -> str:
    return MARKERS[style % len(MARKERS)]


def cmyk(hex_colour: str) -> tuple[float, float, float, float]:
    """The print build of a figure colour: the published values, or black ink alone for a grey."""
    hex_colour = hex_colour.lower()
    if hex_colour in OKABE_ITO_CMYK:
        return OKABE_ITO_CMYK[hex_colour]
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    if red == green == blue:
        return (0.0, 0.0, 0.0, round(1 - red / 255, 3))
    return naive_cmyk(red, green, blue)


def naive_cmyk(red: int, green: int, blue: int) -> tuple[float, float, float, float]:
    """A theme colour's CMYK build, with grey component replacement (the greys go to black ink).

    Not colour-managed: a theme's colours have no published CMYK values, and the print shop's
    output intent decides the rest. Good enough for accents and category colours, never for text.
    """
    r, g, b = red / 255, green / 255, blue / 255
    k = 1 - max(r, g, b)
    if k >= 1:
        return (0.0, 0.0, 0.0, 1.0)
    return tuple(round(v, 3) for v in ((1 - r - k) / (1 - k), (1 - g - k) / (1 - k), (1 - b - k) / (1 - k), k))  # type: ignore[return-value]


def css_cmyk(hex_colour: str) -> str:
    c, m, y, k = cmyk(hex_colour)
    return f"device-cmyk({c:g} {m:g} {y:g} {k:g})"


_STYLE_COLOUR = re.compile(r"\b(fill|stroke): (#[0-9a-fA-F]{6})\b")


def svg_in_cmyk(svg: str) -> str:
    """Every fill and stroke of a figure SVG in its CMYK build (what the print edition embeds)."""
    return _STYLE_COLOUR.sub(lambda match: f"{match.group(1)}: {css_cmyk(match.group(2))}", svg)
