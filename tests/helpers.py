"""Reading PDFs as a reader would: text per page, outline, fonts, links."""

from __future__ import annotations

import functools
import io
import re
import struct
import subprocess
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader

from briefing.cli import main
from briefing.model import BuildResult

BRIEFING_KEYS: dict[str, str] = {
    "title": "Test Briefing",
    "date": '"2025-06-01"',
    "classification": "UNCLASSIFIED",
    "sections": "[sections/one.md]",
    "references": "refs.yaml",
    "timeline": "timeline.yaml",
}
"""The minimal briefing's ``briefing.yaml``, key by key, values as YAML text."""


def briefing_yaml(**keys: str | None) -> str:
    """The minimal ``briefing.yaml`` with ``keys`` changed, added at the end, or removed (None).

    ``_`` in a keyword is ``-`` in the key (``citation_style`` is ``citation-style``); values are YAML
    text, written as given. Keys keep the minimal file's order, so error lines keep their numbers.
    """
    merged = {**BRIEFING_KEYS, **{key.replace("_", "-"): value for key, value in keys.items()}}
    return "".join(f"{key}: {value}\n" for key, value in merged.items() if value is not None)


def pdf_of(result: BuildResult) -> Path:
    """The digital edition (``SLUG.pdf``) a build wrote, else its first PDF."""
    pdfs = [o.path for o in result.outputs if o.path.suffix == ".pdf"]
    return next((path for path in pdfs if path.stem == result.briefing), pdfs[0])


def output_named(result: BuildResult, name: str) -> Path:
    """The output of a build with this file name (``parts-print.pdf``)."""
    return next(o.path for o in result.outputs if o.path.name == name)


def html_of(result: BuildResult) -> str:
    """The web edition a build wrote, as text."""
    return next(o.path for o in result.outputs if o.path.suffix == ".html").read_text(encoding="utf-8")


def png(width: int, height: int, data: bytes | None = None) -> bytes:
    """A greyscale PNG whose header claims ``width`` x ``height``; ``data`` replaces the pixel stream.

    Only four rows of pixels are written, so a huge claimed size costs nothing to make.
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = data if data is not None else zlib.compress(b"\0" * (width + 1) * min(height, 4))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def solid_png(width: int, height: int, colour: str | tuple[int, int, int]) -> bytes:
    """A real RGB PNG of one colour, every pixel written (for images that must lay out and draw)."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def check_problems(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """``briefing check FOLDER``: its exit code and its error and warning lines; never an internal error."""
    capsys.readouterr()
    code = main(["check", str(folder)])
    err = capsys.readouterr().err
    assert "internal error" not in err
    assert "Traceback" not in err
    return code, [line for line in err.splitlines() if ": error: " in line or ": warning: " in line]


def page_texts(path: Path) -> list[str]:
    """The text of each page as poppler's pdftotext reads it (fast; positions are not needed here)."""
    stat = path.stat()
    return list(_page_texts(path.resolve(), stat.st_size, stat.st_mtime_ns))


@functools.cache
def _page_texts(path: Path, size: int, mtime_ns: int) -> tuple[str, ...]:
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    pages = result.stdout.decode("utf-8").split("\f")
    return tuple(pages[:-1] if pages and not pages[-1].strip() else pages)


@contextmanager
def plumber(path: Path) -> Iterator[pdfplumber.PDF]:
    """A PDF opened with pdfplumber once per file version, its pages parsed once, for every test that reads it.

    For the shared builds, which many tests read character by character: parsing a long PDF's
    characters takes seconds, and pdfplumber keeps them on each page once parsed. Read only; the
    files stay open until ``close_plumbed`` (the session's end), as an unclosed file is a warning.
    """
    key, stat = path.resolve(), path.stat()
    version = (stat.st_size, stat.st_mtime_ns)
    cached = _PLUMBED.get(key)
    if cached is None or cached[0] != version:
        if cached is not None:
            cached[1].close()
        cached = _PLUMBED[key] = (version, pdfplumber.open(key))
    yield cached[1]


_PLUMBED: dict[Path, tuple[tuple[int, int], pdfplumber.PDF]] = {}


def close_plumbed() -> None:
    """Close every PDF ``plumber`` opened."""
    for _, pdf in _PLUMBED.values():
        pdf.close()
    _PLUMBED.clear()


def plumber_page_texts(path: Path) -> list[str]:
    """pdfplumber's text, for the tests that check how its word grouping reads a page."""
    stat = path.stat()
    return list(_plumber_page_texts(path.resolve(), stat.st_size, stat.st_mtime_ns))


@functools.cache
def _plumber_page_texts(path: Path, size: int, mtime_ns: int) -> tuple[str, ...]:
    with plumber(path) as pdf:
        return tuple(page.extract_text() or "" for page in pdf.pages)


def outline_titles(path: Path) -> list[tuple[int, str]]:
    """(level, title) of every bookmark, depth first."""
    reader = PdfReader(path)
    titles: list[tuple[int, str]] = []

    def walk(items: list[object], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                titles.append((level, str(item.title)))  # type: ignore[attr-defined]

    walk(reader.outline, 1)
    return titles


def embedded_fonts(path: Path) -> dict[str, bool]:
    """Base font name -> whether the font program is embedded."""
    fonts: dict[str, bool] = {}
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            resources = page.obj.get("/Resources", {})
            for font in resources.get("/Font", {}).values():
                descriptor = _descriptor(font)
                embedded = descriptor is not None and any(
                    key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
                )
                fonts[str(font.get("/BaseFont"))] = embedded
    return fonts


def _descriptor(font: pikepdf.Object) -> pikepdf.Object | None:
    if "/FontDescriptor" in font:
        return font["/FontDescriptor"]
    descendants = font.get("/DescendantFonts")
    if descendants:
        return descendants[0].get("/FontDescriptor")
    return None


TOC_LINE = re.compile(r"^(?:(?P<number>\d+(?:\.\d+)?)\s+)?(?P<title>.+?)\s*(?:\.\s*){2,}\s*(?P<page>\d+)$")


def toc_entries(text: str) -> list[tuple[str | None, str, int]]:
    """(number, title, page) of each contents line with dotted leaders."""
    entries = []
    for line in text.splitlines():
        match = TOC_LINE.match(line.strip())
        if match:
            entries.append((match["number"], match["title"].strip(), int(match["page"])))
    return entries
