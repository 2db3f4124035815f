"""Vendored font files -> the characters they can draw, for checks before layout and after."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from .errors import Diagnostics, SourceLocation
from .model import ThemeFont

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
def covered_characters(font_dir: Path, extra: tuple[Path, ...] = ()) -> frozenset[str]:
    """Every character some vendored font, or one of ``extra`` (a theme's fallback fonts), has a glyph for."""
    return frozenset().union(*(cmap(path) for path in [*sorted(font_dir.glob("*.ttf")), *extra]))


def uncovered(text: str, font_dir: Path, extra: tuple[Path, ...] = ()) -> list[str]:
    """The visible characters of ``text`` no vendored font (nor ``extra``) can draw, in order, once each."""
    covered = covered_characters(font_dir, extra)
    missing = [c for c in text if c not in covered and unicodedata.category(c) not in INVISIBLE_CATEGORIES]
    return list(dict.fromkeys(missing))


SCRIPT_FACES = ("Devanagari", "Bengali", "Tamil", "Thai", "Georgian", "Armenian", "Ethiopic")
"""Scripts with a Noto Serif and a Noto Sans face of their own (Regular and Bold), as Hebrew has:
``NotoSerifThai-Bold.ttf`` is family "Noto Serif Thai". They follow Hebrew in the stylesheets' stacks."""
FONT_NAMES = f"Noto Serif, Sans, Naskh Arabic, Hebrew, {', '.join(SCRIPT_FACES)}, Symbols, Symbols 2 and Math"
SUGGESTED_FONTS = (
    (r"\p{Script=Hangul}", "Noto Sans CJK KR"),
    (r"[\p{Script=Hiragana}\p{Script=Katakana}]", "Noto Sans CJK JP"),
    (r"[\p{Script=Han}\p{Script=Bopomofo}\u3000-\u303f\uff00-\uffef]", "Noto Sans CJK SC (or TC, JP, KR)"),
)
"""A font that draws the scripts too large to vendor (a CJK face is about 20 MB a weight)."""
MORE_SHOWN = 10


def report_uncovered(texts: dict[Path, str], font_dir: Path, report: Diagnostics, fallbacks: Sequence[ThemeFont] = ()) -> None:
    """Before any layout: each character of the content no font can draw, at its first occurrence.

    Characters of a script no vendored font draws (a Chinese paragraph) are one error, at the first:
    one missing font, not a hundred missing characters.
    """
    extra = tuple(font.path for font in fallbacks)
    groups: dict[str, list[tuple[str, Path]]] = {}
    for path, text in sorted(texts.items()):
        for char in uncovered(text, font_dir, extra):
            groups.setdefault(suggested_font(char) or char, []).append((char, path))
    for found in groups.values():
        chars = list(dict.fromkeys(char for char, _ in found))
        report.error(first_occurrence(chars[0], texts) or SourceLocation(found[0][1]),
                     missing_glyph_message(chars[0], fallbacks=fallbacks, more=chars[1:]))


def suggested_font(char: str) -> str | None:
    """A font that draws ``char`` when it is in a script too large to vendor."""
    import regex

    return next((font for pattern, font in SUGGESTED_FONTS if regex.match(pattern, char)), None)


def missing_glyph_message(
    char: str, page: int | None = None, fallbacks: Sequence[ThemeFont] = (), more: Sequence[str] = (),
) -> str:
    """What is missing, where, and how to draw it: a theme font folder's ``fallback:`` (README, "Themes")."""
    where = f", page {page}" if page is not None else ""
    theirs = sorted({font.family for font in fallbacks})
    names = f"{FONT_NAMES}; the theme's {', '.join(theirs)}" if theirs else FONT_NAMES
    what = f"'{char}' (U+{ord(char):04X}{where}) is"
    if more:
        shown = "".join(more[:MORE_SHOWN]) + ("…" if len(more) > MORE_SHOWN else "")
        what = f"'{char}' (U+{ord(char):04X}{where}) and {len(more)} more ({shown}) are"
    suggested = suggested_font(char)
    a_font = f"a font that draws {'them' if more else 'it'}" + (f" (such as {suggested})" if suggested else "")
    return (
        f"{what} in none of the embedded fonts ({names}); {'they' if more else 'it'} would print as "
        f"{'empty boxes' if more else 'an empty box'}: "
        f"put {a_font} in a theme's font folder and name its family under 'fallback:' (README, \"Themes\")"
    )


def first_occurrence(needle: str, texts: dict[Path, str]) -> SourceLocation | None:
    for path, text in sorted(texts.items()):
        index = text.find(needle)
        if index >= 0:
            line = text.count("\n", 0, index) + 1
            return SourceLocation(path, line, index - text.rfind("\n", 0, index))
    return None
