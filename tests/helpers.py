"""Reading PDFs as a reader would: text per page, outline, fonts, links."""

from __future__ import annotations

import functools
import re
import subprocess
from pathlib import Path

import pdfplumber
import pikepdf
from pypdf import PdfReader


def page_texts(path: Path) -> list[str]:
    """The text of each page as poppler's pdftotext reads it (fast; positions are not needed here)."""
    stat = path.stat()
    return list(_page_texts(path.resolve(), stat.st_size, stat.st_mtime_ns))


@functools.cache
def _page_texts(path: Path, size: int, mtime_ns: int) -> tuple[str, ...]:
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    pages = result.stdout.decode("utf-8").split("\f")
    return tuple(pages[:-1] if pages and not pages[-1].strip() else pages)


def plumber_page_texts(path: Path) -> list[str]:
    """pdfplumber's text, for the tests that check how its word grouping reads a page."""
    with pdfplumber.open(path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


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
