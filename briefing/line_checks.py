"""Laid-out lines -> what a typographer checks in the body text, as layout warnings.

The measure (characters per full line), how many lines end hyphenated and how many in a row,
and brackets a line break separates from what they enclose. CSS sets the rules (``print.css``:
the measure, ``hyphenate-limit-*``); the engine cannot enforce "never three hyphens in a row",
so this reads the lines it laid out and locates each fault in the content.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from .errors import Diagnostics, SourceLocation
from .fonts import first_occurrence
from .page_boxes import flow_boxes, text_of

MEASURE = (60, 75)
"""Comfortable characters per full line of body text, spaces included."""
MIN_FULL_LINES = 20
"""Fewer full lines say nothing about the measure (a one-page starter)."""
MAX_HYPHENATED_SHARE = 0.08
MAX_HYPHENS_IN_A_ROW = 2
HYPHENS = "-\u2010"
OPENING = "(["
CLOSING = ")],.;:!?"


@dataclass(frozen=True)
class Line:
    """One laid-out line of a body paragraph, in reading order."""

    page: int
    text: str
    full: bool
    """Reaches the right edge: a justified line, not the last of its paragraph."""
    paragraph: int
    """Which paragraph fragment it belongs to: a run of hyphens is counted across one."""

    @property
    def hyphenated(self) -> bool:
        return len(self.text) > 1 and self.text[-1] in HYPHENS and self.text[-2].isalpha()


def body_lines(pages: list[Any]) -> list[Line]:
    """The lines of justified paragraphs (the body text), page by page; the cover is left out."""
    from weasyprint.formatting_structure import boxes

    lines: list[Line] = []
    paragraph = 0
    for number, page in enumerate(pages[1:], start=2):
        for box in flow_boxes(page._page_box):
            if not (isinstance(box, boxes.BlockBox) and box.element_tag == "p"
                    and box.style["text_align_all"] == "justify"):
                continue
            paragraph += 1
            right = box.content_box_x() + box.width
            for line in (child for child in box.children if isinstance(child, boxes.LineBox)):
                text = text_of(line).strip()
                if text:
                    end = max((c.position_x + c.margin_width() for c in line.children), default=0.0)
                    lines.append(Line(number, text, end >= right - 1, paragraph))
    return lines


def check_lines(
    pages: list[Any], texts: dict[Path, str], where: SourceLocation, report: Diagnostics, edition_name: str,
) -> None:
    """Warn about the measure, hyphenation and brackets separated from their content."""
    lines = body_lines(pages)
    full = [len(line.text) for line in lines if line.full]
    if len(full) >= MIN_FULL_LINES:
        median = statistics.median(full)
        if not MEASURE[0] <= median <= MEASURE[1]:
            report.warning(where, f"{edition_name}: body lines hold {median:.0f} characters (median of {len(full)} full lines); "
                                  f"{MEASURE[0]}-{MEASURE[1]} read comfortably: change the measure in print.css")
    hyphenated = [line for line in lines if line.hyphenated]
    if len(hyphenated) > max(MAX_HYPHENATED_SHARE * len(lines), MAX_HYPHENS_IN_A_ROW):
        report.warning(where, f"{edition_name}: {len(hyphenated)} of {len(lines)} body lines end with a hyphen "
                              f"({100 * len(hyphenated) / len(lines):.0f} %, at most {100 * MAX_HYPHENATED_SHARE:.0f} % "
                              "read well): raise hyphenate-limit-zone in print.css")
    for run in _hyphen_runs(lines):
        first = run[0]
        report.warning(_locate(first.text, texts) or where,
                       f"{edition_name}, page {first.page}: {len(run)} lines in a row end with a hyphen, from "
                       f"'{first.text[-30:]}'; reword one of them or mark a word that must not break")
    for before, after in pairwise(lines):
        if before.paragraph != after.paragraph:
            continue
        if before.text[-1] in OPENING or after.text[0] in CLOSING:
            mark = before.text[-1] if before.text[-1] in OPENING else after.text[0]
            report.warning(_locate(before.text, texts) or where,
                           f"{edition_name}, page {before.page}: a line break separates '{mark}' from its text: "
                           f"'{before.text[-25:]}' / '{after.text[:25]}'")


def _hyphen_runs(lines: list[Line]) -> Iterator[list[Line]]:
    run: list[Line] = []
    for line in [*lines, Line(0, "", False, -1)]:
        if line.hyphenated and (not run or run[-1].paragraph == line.paragraph):
            run.append(line)
            continue
        if len(run) > MAX_HYPHENS_IN_A_ROW:
            yield run
        run = [line] if line.hyphenated else []


def _locate(text: str, texts: dict[Path, str]) -> SourceLocation | None:
    """The content line that holds the end of a laid-out line: its last words, as few as are found."""
    words = text.rstrip(HYPHENS + OPENING).split()
    for count in (4, 3, 2, 1):
        tail = " ".join(words[-count:])
        if len(words) >= count and len(tail) >= 4 and (found := first_occurrence(tail, texts)):
            return found
    return None
