"""A figure or table that would leave a hole is placed after the paragraph that follows it.

The engine moves a block that does not fit to the next page and leaves the rest of the page
white. LaTeX's ``[tp]`` placement lets the text run on instead: the paragraphs after the float
fill the page, and the float opens the next one. WeasyPrint has no floats to the page top, so
the build does it: after the body's layout, a float that opens a page after one left more than
a quarter empty is moved, in the HTML, past the next paragraph, and the body is laid out again.
A move that does not make the pages fuller is undone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

MAX_MOVES_PER_FLOAT = 2
"""Paragraphs a float may be moved past: further, and it strays from the text that cites it."""

_PARAGRAPH = re.compile(
    r"\s*(?:</section>\s*<section\b[^>]*>\s*)?(?:<h[1-6]\b[^>]*>.*?</h[1-6]>\s*)*<p\b[^>]*>.*?</p>", re.DOTALL,
)
"""The next paragraph, with the section break and headings before it when the float ends its section:
as in LaTeX, a float may open the next page inside the next section rather than leave a hole."""


def place_floats(html: str, moves: Mapping[str, int]) -> str:
    """The HTML with each float (by id) moved past the ``moves[id]`` paragraphs that follow it.

    Only paragraphs are passed (with the headings before them): never a list or another float,
    so floats keep their order.
    """
    for float_id, count in moves.items():
        element = _float_element(html, float_id)
        if element is None or count < 1:
            continue
        end = element.end()
        for _ in range(count):
            paragraph = _PARAGRAPH.match(html, end)
            if paragraph is None:
                break
            end = paragraph.end()
        if end == element.end():
            continue
        html = html[: element.start()] + html[element.end() : end] + "\n" + element.group(0) + html[end:]
    return html


def movable(html: str, float_id: str, moves: Mapping[str, int]) -> bool:
    """Whether the float can go past one more paragraph."""
    count = moves.get(float_id, 0)
    if count >= MAX_MOVES_PER_FLOAT:
        return False
    return place_floats(html, {float_id: count + 1}) != place_floats(html, {float_id: count})


def _float_element(html: str, float_id: str) -> re.Match[str] | None:
    """The figure or table with this id, whole (neither nests its own kind in our markup)."""
    quoted = re.escape(float_id)
    for tag in ("figure", "table"):
        pattern = re.compile(rf"<{tag}\b[^>]*\bid=\"{quoted}\"[^>]*>.*?</{tag}>", re.DOTALL)
        found = pattern.search(html)
        if found is not None:
            return found
    return None
