"""A theme's font folder -> its fonts (family, style, weight, licence), and their coverage of the content.

Fonts are read with fontTools, as the vendored ones are: the family and style from the name
and OS/2 tables, the licence from name IDs 13 and 14 (where the SIL OFL and others say what may
be embedded), so the manifest can say under which licence each embedded font was used.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from .errors import Diagnostics, SourceLocation
from .fonts import INVISIBLE_CATEGORIES, cmap, first_occurrence
from .model import Theme, ThemeFont

FONT_SUFFIXES = (".ttf", ".otf")
MAX_FONT_FILES = 24
MAX_FONT_BYTES = 30_000_000
"""A CJK font is about 20 MB; anything larger is not a font a briefing needs."""
BUILTIN_BODY, BUILTIN_HEADING = "NotoSerif-Regular.ttf", "NotoSans-Regular.ttf"
"""What a theme's body and heading fonts replace: they must draw what these would have drawn."""


def read_font_folder(folder: Path, root: Path, where: SourceLocation, report: Diagnostics) -> tuple[ThemeFont, ...]:
    """Every .ttf/.otf font of the folder, described by its own tables; unreadable ones are located errors."""
    from fontTools.ttLib import TTFont, TTLibError

    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in FONT_SUFFIXES)
    if not paths:
        report.error(where, f"font folder '{folder.name}' holds no .ttf or .otf file")
        return ()
    if len(paths) > MAX_FONT_FILES:
        report.error(where, f"font folder '{folder.name}' holds {len(paths)} fonts; the limit is {MAX_FONT_FILES}")
        return ()
    fonts = []
    for path in paths:
        shown = f"{folder.name}/{path.name}"
        try:
            resolved = path.resolve()
            if not resolved.is_relative_to(root):
                report.error(where, f"font '{shown}' is a link to a file outside the content tree")
                continue
            if not resolved.is_file():  # a pipe would block the read forever; a folder is no font
                report.error(where, f"font '{shown}' is not a regular file")
                continue
            if resolved.stat().st_size > MAX_FONT_BYTES:
                report.error(where, f"font '{shown}' is larger than {MAX_FONT_BYTES:,} bytes")
                continue
            with TTFont(resolved, lazy=True) as font:
                names = font["name"]
                family = _name(names, 16) or _name(names, 1)
                if not family or font.getBestCmap() is None:
                    report.error(where, f"font '{shown}' has no family name or no character map")
                    continue
                os2 = font.get("OS/2")
                italic = bool(os2 and os2.fsSelection & 1) or bool(font["head"].macStyle & 2)
                weight = int(os2.usWeightClass) if os2 else 400
                fonts.append(ThemeFont(resolved, family, "italic" if italic else "normal", weight,
                                       _name(names, 13), _name(names, 14)))
        except (OSError, RuntimeError, TTLibError, KeyError, AssertionError, ValueError) as error:
            report.error(where, f"font '{shown}' is not a readable font: {error}")
    for font in fonts:
        if not font.licence and not font.licence_url:
            report.warning(where, f"font '{folder.name}/{font.path.name}' states no licence in its name table "
                                  "(IDs 13, 14): make sure it may be embedded in a PDF")
    return tuple(fonts)


def _name(names: object, name_id: int) -> str | None:
    record = names.getDebugName(name_id)  # type: ignore[attr-defined]
    return str(record).strip() or None if record else None


def report_theme_uncovered(texts: dict[Path, str], theme: Theme, builtin_fonts: Path, report: Diagnostics) -> None:
    """Before layout: a character the built-in face would draw but the theme's replacement cannot.

    Characters only the fallback fonts draw (Hebrew, Arabic, symbols) still fall back to them;
    a Latin letter missing from the theme's font would be set in Noto, mid-word, so it is an error.
    """
    for role, family, builtin in (("body", theme.body_family, BUILTIN_BODY),
                                  ("heading", theme.heading_family, BUILTIN_HEADING)):
        if family is None:
            continue
        faces = [font for font in theme.fonts if font.family == family]
        covered = frozenset().union(*(cmap(font.path) for font in faces))
        expected = cmap(builtin_fonts / builtin)
        seen: set[str] = set()
        for path, text in sorted(texts.items()):
            for char in text:
                if char in seen or char in covered or char not in expected:
                    continue
                seen.add(char)
                if unicodedata.category(char) in INVISIBLE_CATEGORIES:
                    continue
                report.error(first_occurrence(char, texts) or SourceLocation(path),
                             f"'{char}' (U+{ord(char):04X}) is not in the theme's {role} font '{family}' "
                             f"({', '.join(font.path.name for font in faces)}): it would be set in a different "
                             "typeface; use a font that covers the content's characters")
