"""Vendored fonts + the characters of a page -> subset WOFF2 fonts as data: URIs, for the web edition.

The web edition is one self-contained file: its fonts travel inside it, cut down to what the page
shows. Subsetting a Noto face with fontTools takes about a second, so subsets are cached on disk
(``.cache/webfonts/``) and in memory. The character set is the page's characters plus a fixed
repertoire (ASCII, Latin-1, common punctuation): most edits then change nothing in it, and the
live preview reuses the cached fonts after every save.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .fonts import INVISIBLE_CATEGORIES, SCRIPT_FACES, cmap
from .model import ThemeFont

WEB_FACES = (
    ("Noto Serif", "normal", 400, "NotoSerif-Regular.ttf"),
    ("Noto Serif", "italic", 400, "NotoSerif-Italic.ttf"),
    ("Noto Serif", "normal", 700, "NotoSerif-Bold.ttf"),
    ("Noto Serif", "italic", 700, "NotoSerif-BoldItalic.ttf"),
    ("Noto Sans", "normal", 400, "NotoSans-Regular.ttf"),
    ("Noto Sans", "normal", 700, "NotoSans-Bold.ttf"),
)
"""The faces web.css sets text in, always on the page. Sans italic is never asked for."""
FALLBACK_FACES = (
    ("Noto Naskh Arabic", "normal", 400, "NotoNaskhArabic-Regular.ttf"),
    ("Noto Serif Hebrew", "normal", 400, "NotoSerifHebrew-Regular.ttf"),
    ("Noto Sans Hebrew", "normal", 400, "NotoSansHebrew-Regular.ttf"),
    *((f"Noto {kind} {script}", "normal", 400, f"Noto{kind}{script}-Regular.ttf")
      for script in SCRIPT_FACES for kind in ("Serif", "Sans")),
    ("Noto Sans Symbols", "normal", 400, "NotoSansSymbols-Regular.ttf"),
    ("Noto Sans Symbols 2", "normal", 400, "NotoSansSymbols2-Regular.ttf"),
    ("Noto Sans Math", "normal", 400, "NotoSansMath-Regular.ttf"),
)
"""Later in web.css's font stacks: on the page only when it shows characters they draw and Noto
Serif does not (Persian, Hebrew, Hindi, Thai, arrows…). Their bold is synthesised by the browser."""

BASE_REPERTOIRE = frozenset(
    [chr(c) for c in range(0x20, 0x7F)]
    + [chr(c) for c in range(0xA0, 0x100)]
    + list("‘’‚“”„–—…•·′″‹›€−×→←↑↩§¶†‡\u00ad\u200b\u2009\u202f")
)
"""Always in a Latin subset, so that typical edits leave the subset (and the cache key) unchanged."""

JOINERS = "\u200c\u200d"
FEATURES = ("onum", "lnum", "pnum", "tnum", "smcp", "c2sc")
"""Beyond fontTools' default layout features (kerning, ligatures, marks): the figure styles web.css asks for."""
SUBSET_VERSION = "1"
"""Part of the cache key: bump it when the subsetting options change."""


@dataclass(frozen=True)
class WebFont:
    family: str
    style: str
    weight: int
    data_uri: str


_memory: dict[str, str] = {}
_lock = threading.Lock()


def web_fonts(
    text: str, font_dir: Path, cache_dir: Path | None, theme_fonts: Sequence[ThemeFont] = (),
    fallback_fonts: Sequence[ThemeFont] = (),
) -> list[WebFont]:
    """The faces the page needs, each subset to the characters of ``text`` it is there for.

    A theme's faces come first in web.css's stacks and are subset like the built-in Latin ones;
    the built-in faces stay, for the characters a theme's font does not draw. A theme's fallback
    faces come last: each carries what no built-in face draws (a Chinese quotation), or is left out.
    """
    characters = set(text)
    primary = cmap(font_dir / WEB_FACES[0][3])
    latin = frozenset((characters & primary) | BASE_REPERTOIRE)  # other scripts never change the key
    faces: list[tuple[tuple[str, str, int, Path], frozenset[str]]] = [
        ((font.family, font.style, font.weight, font.path), frozenset((latin | characters) & cmap(font.path)))
        for font in theme_fonts
    ]
    faces += [((family, style, weight, font_dir / name), latin) for family, style, weight, name in WEB_FACES]
    others = {c for c in characters - primary if unicodedata.category(c) not in INVISIBLE_CATEGORIES}
    builtin = [(family, style, weight, font_dir / name) for family, style, weight, name in FALLBACK_FACES]
    theirs = [(font.family, font.style, font.weight, font.path) for font in fallback_fonts]
    unknown = others - frozenset().union(*(cmap(path) for *_, path in builtin))  # what only a theme's font draws
    for pool, group in ((others, builtin), (unknown, theirs)):
        for family, style, weight, path in group:
            drawn = pool & cmap(path)
            if drawn:
                wanted = drawn | (_decompositions(drawn) & cmap(path)) | set(JOINERS) | {" "}
                faces.append(((family, style, weight, path), frozenset(wanted)))
    return [
        WebFont(family, style, weight, "data:font/woff2;base64," + _subset(path, wanted, cache_dir))
        for (family, style, weight, path), wanted in faces
    ]


def _decompositions(characters: set[str]) -> set[str]:
    """The parts the browser's shaper splits characters into, which must stay in the subset's cmap.

    HarfBuzz draws Thai sara am (ำ) as nikhahit + sara aa and a split Bengali or Tamil vowel (ো, ொ)
    as its two halves, looked up by character: without them the whole cluster is left blank.
    """
    return {part for c in characters for form in ("NFD", "NFKD") for part in unicodedata.normalize(form, c)}


def _subset(path: Path, characters: frozenset[str], cache_dir: Path | None) -> str:
    """One face as base64 WOFF2; from memory, else the disk cache, else fontTools (slow)."""
    digest = hashlib.sha256()
    digest.update(f"{SUBSET_VERSION}\n{path.name}\n{path.stat().st_size}\n{path.stat().st_mtime_ns}\n".encode())
    digest.update("".join(sorted(characters)).encode("utf-8", "surrogatepass"))
    key = digest.hexdigest()
    with _lock:
        if key in _memory:
            return _memory[key]
    cached = cache_dir / "webfonts" / f"{key}.woff2" if cache_dir else None
    data = _read(cached) if cached else None
    if data is None:
        data = _make_subset(path, characters)
        if cached:
            _write(cached, data)
    encoded = base64.b64encode(data).decode("ascii")
    with _lock:
        _memory[key] = encoded
    return encoded


def _make_subset(path: Path, characters: frozenset[str]) -> bytes:
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff2"
    options.hinting = False  # screens render Noto well unhinted, and the file is half the size
    options.layout_features = [*options.layout_features, *FEATURES]
    buffer = io.BytesIO()
    with subset.load_font(str(path), options) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(text="".join(sorted(characters)))
        subsetter.subset(font)
        subset.save_font(font, buffer, options)
    return buffer.getvalue()


def _read(path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return data if data.startswith(b"wOF2") else None  # a damaged cache entry is remade, never served


def _write(path: Path, data: bytes) -> None:
    """Atomically, so a concurrent build never reads half a font; a cache that cannot be written is skipped."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
