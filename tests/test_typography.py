"""Typography a reader checks on the page: running heads, chronology dates, URL breaks."""

from __future__ import annotations

import re
from pathlib import Path

import pdfplumber
import pytest

from briefing.config import BuildConfig, Variant
from briefing.pipeline import BuildResult, build

from .conftest import ContentTree
from .helpers import page_texts

pytestmark = pytest.mark.slow

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"


def _pdf(result: BuildResult) -> Path:
    return next(o.path for o in result.outputs if o.path.suffix == ".pdf")


def _running_head(page: pdfplumber.page.Page) -> str:
    """The right-hand running head: the words at the top right, above the text area."""
    mm = 72 / 25.4
    words = [w for w in page.extract_words() if 15 * mm < w["top"] < 24 * mm and w["x0"] > page.width / 2]
    return " ".join(w["text"] for w in sorted(words, key=lambda w: w["x0"]))


def _section_starts(page: pdfplumber.page.Page) -> list[tuple[float, str]]:
    """(top, "2 Title") of each numbered level-1 heading on the page: the 15 pt lines."""
    lines: dict[float, list[dict[str, object]]] = {}
    for word in page.extract_words(extra_attrs=["size"]):
        if abs(float(word["size"]) - 15) < 0.5:
            lines.setdefault(round(float(word["top"])), []).append(word)
    starts = [(top, " ".join(str(w["text"]) for w in sorted(words, key=lambda w: float(w["x0"]))))
              for top, words in sorted(lines.items())]
    return [(top, text) for top, text in starts if re.match(r"\d ", text)]


def test_running_heads_name_the_section_in_force_at_the_top(us_iran_build: BuildResult) -> None:
    text_top = 26 * 72 / 25.4  # the A4 top margin
    in_force = None
    checked = 0
    with pdfplumber.open(_pdf(us_iran_build)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            starts = _section_starts(page)
            opening = starts[0][1] if starts and starts[0][0] < text_top + 8 else in_force
            head = _running_head(page)
            if opening is not None and re.match(r"\d ", head):
                assert head == opening, f"page {number}"
                checked += 1
            if starts:
                in_force = starts[-1][1]
    assert checked >= 5


def test_a_heading_can_give_its_running_head_a_short_form(content_tree: ContentTree, tmp_path: Path) -> None:
    long_title = "Diplomatic channels, back channels and the long history of mediation"
    body = "\n\n".join(["A paragraph of text that fills the page [@ref1]. " * 12] * 8)
    folder = content_tree({"sections/one.md": f"# {long_title} {{#sec-one short=\"Channels\"}}\n\n{body}\n"})
    config = BuildConfig(folder, tmp_path / "out", (Variant.PDF,), cache_dir=tmp_path / "cache", epoch=0)
    with pdfplumber.open(_pdf(build(config))) as pdf:
        heads = [_running_head(page) for page in pdf.pages[3:]]
    assert "Channels" in heads
    assert not any("Diplomatic" in head for head in heads)


def test_chronology_dates_stay_on_one_line(us_iran_build: BuildResult) -> None:
    text = "\n".join(page_texts(_pdf(us_iran_build)))
    chronology = text.split("\nChronology\n", 1)[1].split("\nReferences\n", 1)[0]
    assert re.search(rf"(?m)^\d{{1,2}} ({MONTHS}) \d{{4}}", chronology)
    assert not re.search(rf"(?m)^\d{{1,2}} ({MONTHS})$", chronology), "a date broken before its year"


def test_urls_never_break_after_a_hyphen(us_iran_build: BuildResult) -> None:
    text = "\n".join(page_texts(_pdf(us_iran_build)))
    references = text.split("\nReferences\n", 1)[1]
    assert "https://" in references
    assert not re.search(r"(?m)-$", references), "a line of the references ends with a hyphen"
