"""Vendored font files -> the characters they can draw, for checks before layout and after."""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from .errors import Diagnostics, SourceLocation

INVISIBLE_CATEGORIES = ("Cc", "Cf", "Zs", "Zl", "Zp")
"""Spaces and invisible format characters (soft hyphen, ZWNJ, bidi marks) need no glyph."""


@cache
def cmap(path: Path) -> frozenset[str]:
    """The characters a font draws (read once per process)."""
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        # Numbers for glyph names: the real ones (the 'post' table) took half the time, and only
        # the characters are wanted.
        font.setGlyphOrder([f"g{number}" for number in range(font["maxp"].numGlyphs)])
        return frozenset(chr(code) for code in font.getBestCmap())


@cache
def covered_characters(font_dir: Path) -> frozenset[str]:
    """Every character some vendored font has a glyph for."""
    return frozenset().union(*(cmap(path) for path in sorted(font_dir.glob("*.ttf"))))


def uncovered(text: str, font_dir: Path) -> list[str]:
    """The visible characters of ``text`` no vendored font can draw, in order, once each."""
    covered = covered_characters(font_dir)
    missing = [c for c in text if c not in covered and unicodedata.category(c) not in INVISIBLE_CATEGORIES]
    return list(dict.fromkeys(missing))


FONT_NAMES = "Noto Serif, Sans, Naskh Arabic, Hebrew, Symbols, Symbols 2 and Math"


def report_uncovered(texts: dict[Path, str], font_dir: Path, report: Diagnostics) -> None:
    """Before any layout: each character of the content no font can draw, at its first occurrence."""
    seen: set[str] = set()
    for path, text in sorted(texts.items()):
        for char in uncovered(text, font_dir):
            if char not in seen:
                seen.add(char)
                report.error(first_occurrence(char, texts) or SourceLocation(path), missing_glyph_message(char))


def missing_glyph_message(char: str, page: int | None = None) -> str:
    where = f", page {page}" if page is not None else ""
    return (
        f"'{char}' (U+{ord(char):04X}{where}) is in none of the embedded fonts ({FONT_NAMES}); "
        "it would print as an empty box"
    )


def first_occurrence(needle: str, texts: dict[Path, str]) -> SourceLocation | None:
    for path, text in sorted(texts.items()):
        index = text.find(needle)
        if index >= 0:
            line = text.count("\n", 0, index) + 1
            return SourceLocation(path, line, index - text.rfind("\n", 0, index))
    return None
