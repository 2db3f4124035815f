"""A figure or table that would leave a hole gives way to the paragraph after it (LaTeX's [tp])."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pdfplumber
import pytest

from briefing.config import BuildConfig, Variant
from briefing.floats import movable, place_floats
from briefing.pipeline import build

from .conftest import US_IRAN_DIR, ContentTree

FIGURE = '<figure class="timeline-figure" id="fig-a"><img src="a.svg"><figcaption>A</figcaption></figure>'


def test_a_float_moves_past_the_paragraphs_after_it_and_no_further() -> None:
    html = f"<section><p>one</p>\n{FIGURE}\n<p>two</p>\n<p>three</p>\n<ul><li>list</li></ul></section>"
    assert place_floats(html, {"fig-a": 1}) == (
        f"<section><p>one</p>\n\n<p>two</p>\n{FIGURE}\n<p>three</p>\n<ul><li>list</li></ul></section>"
    )
    moved_twice = place_floats(html, {"fig-a": 2})
    assert moved_twice.index("<p>three</p>") < moved_twice.index(FIGURE) < moved_twice.index("<ul>")
    assert place_floats(html, {"fig-a": 3}) == moved_twice  # never past a list: floats keep their order
    assert not movable(html, "fig-a", {"fig-a": 2})
    assert place_floats(html, {"fig-other": 1}) == html


def test_a_float_ending_its_section_opens_the_next_page_inside_the_next_section() -> None:
    html = f'<section class="chapter"><p>one</p>\n{FIGURE}\n</section>\n<section class="chapter">\n<h1>Two</h1>\n<p>two</p>'
    moved = place_floats(html, {"fig-a": 1})
    assert moved.index("<h1>Two</h1>") < moved.index("<p>two</p>") < moved.index(FIGURE)
    assert moved.count("<section") == moved.count("</section>") + 1  # still balanced as before


def test_a_figure_that_would_leave_a_hole_gives_way_to_the_next_paragraph(
    content_tree: ContentTree, tmp_path: Path,
) -> None:
    # 26 sentences leave about a third of page 3 free: too little for the 90 mm figure
    before = "Talks resumed in the spring and broke off again in the summer of that year. " * 26
    after = "The paragraph after the figure fills the page the figure left. " * 14
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"><rect width="400" height="300"/></svg>'
    folder = content_tree({
        "sections/one.md": f"# One\n\n{before} [@ref1]\n\n![A tall figure](images/tall.svg){{#fig-tall height=90mm}}\n\n"
                           f"{after}\n\n{after}\n",
        "images/tall.svg": svg,
    })
    config = BuildConfig(folder, tmp_path / "out", (Variant.PDF,), cache_dir=tmp_path / "cache", epoch=0)
    result = build(config)
    assert not [d for d in result.report.warnings if " % empty" in str(d)]
    with pdfplumber.open(result.outputs[0].path) as pdf:
        pages = [page.extract_text() or "" for page in pdf.pages]
    figure_page = next(number for number, text in enumerate(pages) if "Figure 1. A tall figure" in text)
    # the figure opens the next page; the paragraph after it in the source filled the hole
    assert "The paragraph after the figure" in pages[figure_page - 1]
    text = "\n".join(pages)
    assert text.index("The paragraph after the figure") < text.index("Figure 1. A tall figure")

    # the next build of the same body places the figure as remembered: one layout, the same bytes
    first = result.outputs[0].path.read_bytes()
    again = build(replace(config, output_dir=tmp_path / "again"))
    assert again.outputs[0].path.read_bytes() == first
    memory = json.loads(next((tmp_path / "cache" / "layout").glob("*-pdf-*.json")).read_text(encoding="utf-8"))
    assert memory["moves"] == {"fig-tall": 1}
    assert memory["body_layouts"] == 1


@pytest.mark.slow
def test_a_float_stranded_by_an_earlier_move_is_moved_too(tmp_path: Path) -> None:
    """In the US-Iran booklet, Figure 2 moved twice pushes Figure 3 off page 14, leaving it a third empty."""
    config = BuildConfig(US_IRAN_DIR, tmp_path / "out", (Variant.BOOKLET,), cache_dir=tmp_path / "cache", epoch=0)
    result = build(config)
    assert not [str(d) for d in result.report.warnings if " % empty" in str(d)]
    memory = json.loads(next((tmp_path / "cache" / "layout").glob("*-booklet-*.json")).read_text(encoding="utf-8"))
    assert memory["moves"].get("fig-2025") == 1
