"""The body text's lines as a reader sees them in a PDF: the measure, hyphenated line ends.

Body text is the serif at the most common size; headings, captions and tables (the sans),
footnotes and block quotes (smaller) are left out. A *full* line reaches the right edge of the
text: justified, so not the last line of a paragraph.
"""

from __future__ import annotations

import functools
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pdfplumber

from .helpers import plumber

HYPHENS = "-\u2010\u00ad"


@dataclass(frozen=True)
class BodyLine:
    page: int
    text: str
    x0: float
    x1: float
    full: bool

    @property
    def hyphenated(self) -> bool:
        """Ends with a hyphen after a letter: a word broken at the line end."""
        return len(self.text) > 1 and self.text[-1] in HYPHENS and self.text[-2].isalpha()


def _is_body(char: dict[str, object], size: float) -> bool:
    font = str(char.get("fontname", ""))
    return "Sans" not in font and abs(float(char["size"]) - size) < 0.2  # type: ignore[arg-type]


def body_size(pdf: pdfplumber.PDF) -> float:
    sizes: Counter[float] = Counter()
    for page in pdf.pages:
        sizes.update(round(float(c["size"]), 1) for c in page.chars if "Sans" not in str(c.get("fontname", "")))
    return sizes.most_common(1)[0][0]


def body_lines(path: Path, skip_first: int = 1) -> list[BodyLine]:
    """Every body line after the cover, in reading order; ``full`` marks the justified ones.

    Read once per file version: several tests measure the same shared build, and reading every
    character of a long PDF takes seconds.
    """
    stat = path.stat()
    return list(_body_lines(path.resolve(), stat.st_size, stat.st_mtime_ns, skip_first))


@functools.cache
def _body_lines(path: Path, size: int, mtime_ns: int, skip_first: int) -> tuple[BodyLine, ...]:
    lines: list[BodyLine] = []
    with plumber(path) as pdf:
        size = body_size(pdf)
        for number, page in enumerate(pdf.pages, start=1):
            if number <= skip_first:
                continue
            body = page.filter(lambda obj: obj.get("object_type") != "char" or _is_body(obj, size))
            found = body.extract_text_lines(strip=True, return_chars=False)
            if not found:
                continue
            right = max(float(line["x1"]) for line in found)
            for line in found:
                lines.append(BodyLine(number, str(line["text"]), float(line["x0"]), float(line["x1"]),
                                      float(line["x1"]) >= right - 1.5))
    return tuple(lines)


def median_measure(lines: list[BodyLine]) -> float:
    """Median characters (spaces included) of a full line."""
    return statistics.median(len(line.text) for line in lines if line.full)


def hyphenated_share(lines: list[BodyLine]) -> float:
    return sum(line.hyphenated for line in lines) / max(1, len(lines))


def longest_hyphen_run(lines: list[BodyLine]) -> int:
    longest = run = 0
    for line in lines:
        run = run + 1 if line.hyphenated else 0
        longest = max(longest, run)
    return longest
