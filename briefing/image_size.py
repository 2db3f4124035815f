"""Pandoc's image attributes ``width=40%`` and ``height=50mm`` -> an ``ImageSize`` of CSS lengths, or a message.

Pandoc reads a dimension as a number and a unit (%, mm, cm, in, pt, px; a bare number is
pixels); the same here. A width is never more than the text's: a percentage over 100 is an
error, an absolute length is capped by the CSS. The values become CSS written by us, never by
the content, so the attribute is checked to be exactly a number and a known unit.
"""

from __future__ import annotations

import re

from .model import ImageSize

UNITS = ("%", "mm", "cm", "in", "pt", "px")
IMAGE_SIZE_ATTRIBUTES = ("width", "height")
_DIMENSION = re.compile(r"^(?P<number>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>%|mm|cm|in|pt|px)?$")
MAX_MM = 1000.0
"""Longer than any page: a typo (``width=600cm``), not a size."""
_MM_PER = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72, "px": 25.4 / 96}


def image_size(attributes: dict[str, str]) -> tuple[ImageSize | None, list[str]]:
    """The size an image's ``width``/``height`` ask for, and a message for each bad value."""
    problems: list[str] = []
    lengths: dict[str, tuple[float, str]] = {}
    for key in IMAGE_SIZE_ATTRIBUTES:
        if key not in attributes:
            continue
        value = attributes[key]
        parsed = _dimension(value)
        problem = _problem(key, value, parsed)
        if problem:
            problems.append(problem)
        elif parsed is not None:
            lengths[key] = parsed
    if not lengths:
        return None, problems
    width = _css(*lengths["width"]) if "width" in lengths else None
    height = share = None
    if "height" in lengths:
        number, unit = lengths["height"]
        if unit == "%":
            share = number / 100
        else:
            height = _css(number, unit)
    return ImageSize(width, height, share), problems


def _dimension(value: str) -> tuple[float, str] | None:
    match = _DIMENSION.match(value.strip())
    if not match:
        return None
    return float(match["number"]), match["unit"] or "px"


def _problem(key: str, value: str, parsed: tuple[float, str] | None) -> str | None:
    hint = f"use a number and one of {', '.join(UNITS)}, e.g. {key}=40% or {key}=60mm"
    if parsed is None:
        return f"image {key}='{value}' is not a length ({hint})"
    number, unit = parsed
    if number == 0:
        return f"image {key}='{value}' is zero ({hint})"
    if unit == "%" and number > 100:
        return f"image {key}='{value}': at most 100% (an image is never wider or taller than the text)"
    if unit != "%" and number * _MM_PER[unit] > MAX_MM:
        return f"image {key}='{value}' is longer than any page ({hint})"
    return None


def _css(number: float, unit: str) -> str:
    return f"{number:g}{unit}"
