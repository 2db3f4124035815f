"""Laid-out pages -> a warning for each page before the back matter left more than a quarter empty.

A page may end short only where the next one opens a level-1 section (a chapter, the contents,
the back matter): elsewhere the white is a figure or table that did not fit and moved on, and
the reader sees a hole. Found after layout, located at the first words of the next page.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

from .errors import Diagnostics, SourceLocation
from .fonts import first_occurrence
from .page_boxes import classes_of, flow_boxes, page_fill

MAX_EMPTY_SHARE = 0.25
BACK_MATTER = ("chronology", "references")
OPENING_CLASSES = ("front-heading", "back-heading", "cover")


def short_pages(pages: list[Any]) -> Iterator[tuple[int, Any, float]]:
    """Each page before the back matter left more than a quarter empty where it may not be:
    its number, the page after it, and the empty share."""
    for number, (page, following) in enumerate(pairwise(pages[1:]), start=2):
        if _holds_back_matter(page):
            return
        if _opens_section(following):
            continue
        empty = 1 - page_fill(page)
        if empty > MAX_EMPTY_SHARE:
            yield number, following, empty


def holes(pages: list[Any]) -> float:
    """The white of every short page beyond what is allowed: what moving a float should lower."""
    return sum(empty - MAX_EMPTY_SHARE for _, _, empty in short_pages(pages))


def stranded_floats(pages: list[Any]) -> list[str]:
    """The ids of the figures and tables that open a page after a short one: they did not fit, and left a hole."""
    found = (_opening_float(following) for _, following, _ in short_pages(pages))
    return [float_id for float_id in found if float_id]


def check_page_fill(
    pages: list[Any], texts: dict[Path, str], where: SourceLocation, report: Diagnostics, edition_name: str,
) -> None:
    for number, following, empty in short_pages(pages):
        found = _first_texts(following)
        first = max(found, key=len, default="")
        located = next((at for text in sorted(found, key=len, reverse=True) if len(text) >= 8
                        if (at := first_occurrence(text[:40], texts))), None)
        report.warning(located or where,
                       f"{edition_name}, page {number} is {100 * empty:.0f} % empty: what follows "
                       f"('{first[:40]}', page {number + 1}) did not fit even after the figures "
                       "and tables that would leave a hole were moved past the next paragraph; "
                       "shorten the text before it, or move a figure or table further")


def _opens_section(page: Any) -> bool:
    """The page starts with a level-1 heading (before any text)."""
    from weasyprint.formatting_structure import boxes

    for box in flow_boxes(page._page_box, footnotes=False):
        if box.element_tag == "h1" or any(name in OPENING_CLASSES for name in classes_of(box)):
            return True
        if isinstance(box, boxes.TextBox) and box.text.strip():
            return False
    return False


def _opening_float(page: Any) -> str | None:
    """The id of the figure or table the page starts with, before any text outside it."""
    from weasyprint.formatting_structure import boxes

    for box in flow_boxes(page._page_box, footnotes=False):
        if box.element_tag in ("figure", "table") and box.element is not None and box.element.get("id"):
            return str(box.element.get("id"))
        if isinstance(box, boxes.TextBox) and box.text.strip():
            return None
    return None


def _holds_back_matter(page: Any) -> bool:
    return any(name in BACK_MATTER for box in flow_boxes(page._page_box, footnotes=False) for name in classes_of(box))


def _first_texts(page: Any, count: int = 8) -> list[str]:
    """The page's first runs of text, to find where it comes from in the content."""
    from weasyprint.formatting_structure import boxes

    flow = flow_boxes(page._page_box, footnotes=False)
    found = (box.text.strip() for box in flow if isinstance(box, boxes.TextBox) and box.text.strip())
    return [text for text, _ in zip(found, range(count), strict=False)]
