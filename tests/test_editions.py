"""The print-shop, handout and booklet editions, read back from their files."""

from __future__ import annotations

import re
from pathlib import Path

import pdfplumber
import pikepdf
import pytest

from briefing.config import BuildConfig, Variant
from briefing.errors import ContentError, Diagnostics
from briefing.pipeline import BuildResult, build

from .conftest import ContentTree, build_once
from .helpers import page_texts

pytestmark = pytest.mark.slow

MM = 72 / 25.4


@pytest.fixture(scope="module")
def editions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from briefing.cli import STARTER_DIR

    result = build_once(tmp_path_factory, STARTER_DIR, tuple(Variant))
    return {output.path.name.removeprefix("starter").removesuffix(".pdf") or "pdf": output.path for output in result.outputs}


def test_print_edition_is_pdf_x4_with_bleed_and_trim(editions: dict[str, Path]) -> None:
    with pikepdf.open(editions["-print"]) as pdf:
        intents = pdf.Root.OutputIntents
        assert str(intents[0].S) == "/GTS_PDFX"
        assert str(intents[0].OutputConditionIdentifier) == "CGATS TR 001"  # the registered name of US SWOP
        profile = intents[0].DestOutputProfile.read_bytes()
        assert profile[12:20] == b"prtrCMYK"  # a CMYK output profile
        assert "PDF/X-4" in str(pdf.open_metadata().get("pdfx:GTS_PDFXVersion"))
        for page in pdf.pages:
            trim = [float(v) for v in page.TrimBox]
            bleed = [float(v) for v in page.BleedBox]
            media = [float(v) for v in page.MediaBox]
            assert trim[2] - trim[0] == pytest.approx(210 * MM, abs=0.5)  # A4 trim
            for t, b, sign in zip(trim, bleed, (-1, -1, 1, 1), strict=True):
                assert (b - t) * sign == pytest.approx(3 * MM, abs=0.01)
            for b, m, sign in zip(bleed, media, (-1, -1, 1, 1), strict=True):
                assert (m - b) * sign > 5 * MM  # room for crop marks outside the bleed


def test_print_edition_draws_crop_marks_in_registration_colour(editions: dict[str, Path]) -> None:
    with pikepdf.open(editions["-print"]) as pdf:
        streams = b"".join(c.read_bytes() for c in pdf.pages[0].obj.Contents)
        assert b"1 1 1 1 k 1 1 1 1 K" in streams
        assert streams.count(b" l S") == 8


def test_print_edition_text_is_black_ink(editions: dict[str, Path]) -> None:
    with pikepdf.open(editions["-print"]) as pdf:
        colour_spaces = pdf.pages[1].Resources.ColorSpace
        assert "/DefaultRGB" in colour_spaces
        content = pdf.pages[1].obj.Contents
        data = b"".join(c.read_bytes() for c in content) if isinstance(content, pikepdf.Array) else content.read_bytes()
        assert b"/DeviceCMYK cs" in data
        assert b" rg\n" not in data  # no RGB on a text-only page
    with pdfplumber.open(editions["-print"]) as pdf:  # body text and links: solid black, no tint
        body = [c for page in pdf.pages for c in page.chars  # letters and digits: list bullets are decoration
                if c["size"] >= 9.5 and c["fontname"].split("+")[-1] in ("Noto-Serif", "Noto-Serif-Italic")
                and c["text"].isalnum()]
        assert len(body) > 200
        colours = {tuple(round(v, 3) for v in c["non_stroking_color"]) for c in body}
        assert colours == {(0.0, 0.0, 0.0, 1.0)}, colours


def test_handout_is_at_most_two_pages_with_the_essentials(editions: dict[str, Path]) -> None:
    texts = page_texts(editions["-handout"])
    assert len(texts) <= 2
    text = "\n".join(texts)
    for expected in ("Regional Water Security", "UNCLASSIFIED", "As of 1 June 2025", "Key judgments", "Figure 1.", "Sources"):
        assert expected in text
    assert "Gleick" not in text  # cited in the sections, not on the handout


def test_handout_overflow_names_what_to_cut(content_tree: ContentTree, tmp_path: Path) -> None:
    judgments = "".join(f"  - Judgment {n}: " + "a long sentence of analysis, " * 30 + "[@ref1].\n" for n in range(12))
    folder = content_tree(
        {
            "briefing.yaml": 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\nreferences: refs.yaml\n'
            "summary: |\n" + judgments
        }
    )
    report = Diagnostics()
    with pytest.raises(ContentError):
        build(BuildConfig(content_dir=folder, output_dir=tmp_path / "out", variants=(Variant.HANDOUT,),
                          cache_dir=tmp_path / "cache"), report)
    messages = [str(d) for d in report]
    assert len(messages) == 1
    assert re.fullmatch(
        r".*templates/handout\.html: error: the handout needs [3-9] pages, the limit is 2: the list of sources "
        r"overflow onto page 3; shorten the summary or choose a timeline figure with fewer events",
        messages[0],
    ), messages[0]
    assert not (tmp_path / "out").exists()


def test_booklet_sheets_hold_pages_in_saddle_stitch_order(editions: dict[str, Path]) -> None:
    digital_pages = len(page_texts(editions["pdf"]))
    padded = -(-digital_pages // 4) * 4
    with pdfplumber.open(editions["-booklet"]) as pdf:
        assert len(pdf.pages) == padded // 2
        seen = []
        for sheet in pdf.pages:
            assert sheet.width > sheet.height  # landscape
            halves = (sheet.crop((0, 0, sheet.width / 2, sheet.height)),
                      sheet.crop((sheet.width / 2, 0, sheet.width, sheet.height)))
            seen.append(tuple(_page_number(half.extract_text() or "") for half in halves))
    expected = []
    for k in range(padded // 4):
        expected += [(padded - 2 * k, 2 * k + 1), (2 * k + 2, padded - 1 - 2 * k)]
    # the cover (page 1) carries no page number; blanks carry none either
    readable = [tuple(n if n and n <= digital_pages and n != 1 else None for n in pair) for pair in expected]
    assert seen == readable


def _page_number(text: str) -> int | None:
    match = re.search(r"Page (\d+) of \d+", text)
    return int(match[1]) if match else None


def test_booklet_keeps_text_and_vectors(editions: dict[str, Path]) -> None:
    with pikepdf.open(editions["-booklet"]) as pdf:
        images = [image for page in pdf.pages for image in page.get_images()]
        assert images == []  # nothing rasterised
    assert "Regional Water Security" in page_texts(editions["-booklet"])[0]


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_paper_sizes_and_figures_fit(tmp_path_factory: pytest.TempPathFactory, paper: str) -> None:
    from briefing.cli import STARTER_DIR
    from briefing.model import Paper

    out = tmp_path_factory.mktemp(paper)
    config = BuildConfig(content_dir=STARTER_DIR, output_dir=out, variants=(Variant.PDF,), paper=Paper(paper),
                         cache_dir=tmp_path_factory.mktemp("cache"))
    result: BuildResult = build(config)
    with pikepdf.open(result.outputs[0].path) as pdf:
        width, height = (float(v) for v in pdf.pages[0].MediaBox[2:])
    expected = {"a4": (595.3, 841.9), "letter": (612.0, 792.0)}[paper]
    assert (width, height) == pytest.approx(expected, abs=0.5)
    with pdfplumber.open(result.outputs[0].path) as pdf:
        for page in pdf.pages:
            for char in page.chars:
                assert char["x0"] >= 0, f"text off the page: {char['text']!r}"
                assert char["x1"] <= page.width, f"text off the page: {char['text']!r}"
