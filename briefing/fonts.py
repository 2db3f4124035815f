"""Vendored font files -> the characters they can draw, for checks before layout and after."""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

INVISIBLE_CATEGORIES = ("Cc", "Cf", "Zs", "Zl", "Zp")
"""Spaces and invisible format characters (soft hyphen, ZWNJ, bidi marks) need no glyph."""


@cache
def covered_characters(font_dir: Path) -> frozenset[str]:
    """Every character some vendored font has a glyph for (read once per process)."""
    from fontTools.ttLib import TTFont

    covered: set[str] = set()
    for path in sorted(font_dir.glob("*.ttf")):
        with TTFont(path, lazy=True) as font:
            covered.update(chr(code) for code in font.getBestCmap())
    return frozenset(covered)


def uncovered(text: str, font_dir: Path) -> list[str]:
    """The visible characters of ``text`` no vendored font can draw, in order, once each."""
    covered = covered_characters(font_dir)
    missing = [c for c in text if c not in covered and unicodedata.category(c) not in INVISIBLE_CATEGORIES]
    return list(dict.fromkeys(missing))
