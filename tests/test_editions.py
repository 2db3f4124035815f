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
from .helpers import briefing_yaml, check_problems, output_named, page_texts, plumber

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
    with plumber(editions["-print"]) as pdf:  # body text and links: solid black, no tint
        body = [c for page in pdf.pages for c in page.chars  # letters and digits: list bullets are decoration
                if c["size"] >= 9.5 and c["fontname"].split("+")[-1] in ("Noto-Serif", "Noto-Serif-Italic")
                and c["text"].isalnum()]
        assert len(body) > 200
        colours = {tuple(round(v, 3) for v in c["non_stroking_color"]) for c in body}
        assert colours == {(0.0, 0.0, 0.0, 1.0)}, colours
        rules = [line for page in pdf.pages for line in page.lines + page.rects  # rules and table lines
                 if line["x1"] - line["x0"] > 100 and 0 < line.get("linewidth", 0) <= 1]
        assert rules
        inks = {tuple(round(v, 3) for v in line["stroking_color"][:3]) for line in rules}
        assert inks == {(0.0, 0.0, 0.0)}, "rules print in black ink alone"
        assert sum(1 for line in rules if line["stroking_color"][3] == 1) >= len(rules) - 2  # figures' axes may be tints


def _text_fill(page: pdfplumber.page.Page, top_mm: float, bottom_mm: float) -> float:
    """The share of the text area's height down to its lowest line (margin boxes excluded)."""
    top, bottom = top_mm * MM, page.height - bottom_mm * MM
    lows = [c["bottom"] for c in page.chars if top <= c["top"] and c["bottom"] <= bottom]
    return (max(lows, default=top) - top) / (bottom - top)


@pytest.mark.parametrize("briefing", ["starter", "us-iran"])
def test_handout_is_one_page_or_two_with_a_well_filled_second(
    editions: dict[str, Path], request: pytest.FixtureRequest, briefing: str
) -> None:
    if briefing == "starter":
        path = editions["-handout"]
    else:
        path = output_named(request.getfixturevalue("us_iran_build"), "us-iran-relations-handout.pdf")
    with plumber(path) as pdf:
        assert len(pdf.pages) in (1, 2)
        if len(pdf.pages) == 2:
            assert _text_fill(pdf.pages[1], 26, 24) >= 0.5


def test_handout_rewrites_references_to_what_it_leaves_out(editions: dict[str, Path]) -> None:
    text = " ".join(" ".join(page_texts(editions["-handout"])).split())
    assert "Bottom line. Shared data" in text
    assert "are in Figure 1." in text  # the figure the key judgments cite is in the handout
    assert "(see “Outlook” in the full briefing)" in text  # a section it does not contain
    assert "Section 2" not in text


def test_handout_leaves_out_a_figure_its_key_judgments_do_not_cite(
    content_tree: ContentTree, tmp_path: Path
) -> None:
    folder = content_tree({
        "briefing.yaml": briefing_yaml(classification=None, summary='"- A judgment [@ref1]."'),
        "sections/one.md": "# One\n\nText [@ref1].\n\n::: {#fig-t .timeline}\nThe timeline.\n:::\n",
    })
    config = BuildConfig(folder, tmp_path / "out", (Variant.HANDOUT,), cache_dir=tmp_path / "cache", epoch=0)
    (output,) = build(config).outputs
    text = " ".join(page_texts(output.path))
    assert "A judgment" in text
    assert "Figure 1" not in text


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
    seen = []
    with plumber(editions["-booklet"]) as pdf:
        for sheet in pdf.pages:
            assert sheet.width > sheet.height  # landscape
            halves = (sheet.crop((0, 0, sheet.width / 2, sheet.height)),
                      sheet.crop((sheet.width / 2, 0, sheet.width, sheet.height)))
            seen.append(tuple(_page_number(half.extract_text() or "") for half in halves))
    pages = 2 * len(seen)
    assert pages % 4 == 0
    expected = []
    for k in range(pages // 4):
        expected += [(pages - 2 * k, 2 * k + 1), (2 * k + 2, pages - 1 - 2 * k)]
    # the cover, the blank page behind it and the blank pages that pad the end carry no folio
    for found, wanted in zip(seen, expected, strict=True):
        for number, slot in zip(found, wanted, strict=True):
            assert number in (None, slot)
    numbered = sorted(n for pair in seen for n in pair if n)
    assert numbered == list(range(3, numbered[-1] + 1)), "every page from the key judgments on has its folio"


def test_booklet_is_laid_out_at_the_folded_size(editions: dict[str, Path]) -> None:
    """A5 pages on A4 sheets at their own size: body type at 10 pt, margins that survive the fold."""
    with plumber(editions["-booklet"]) as pdf:
        sheet = pdf.pages[0]
        assert sheet.width == pytest.approx(2 * 148 * MM, abs=1)  # two A5 pages: an A4 sheet (ISO rounds A5 down)
        assert sheet.height == pytest.approx(210 * MM, abs=1)
        body = [c for page in pdf.pages for c in page.chars if c["fontname"].split("+")[-1] == "Noto-Serif"]
        sizes = sorted(round(c["size"], 1) for c in body)
        assert sizes[len(sizes) // 2] >= 9.5  # the median body character
        half = sheet.width / 2
        for page in pdf.pages:
            for char in page.chars:
                inside = char["x0"] - half if char["x0"] >= half else char["x0"]
                width = half - inside if char["x0"] >= half else half - char["x1"]
                if char["x0"] >= half:  # a recto: its inner margin is on the left
                    assert inside >= 15 * MM - 0.5 or char["size"] < 8, char["text"]
                else:  # a verso: on the right
                    assert width >= 15 * MM - 0.5 or char["size"] < 8, char["text"]
    with pikepdf.open(editions["-booklet"]) as pdf:
        assert all("/Annots" not in page.obj for page in pdf.pages), "a booklet is for paper: no links"
        assert str(pdf.Root.Lang) == "en"
        assert str(pdf.docinfo["/Title"]) == "Regional Water Security"
    assert editions["-booklet"].stat().st_size < 2 * editions["pdf"].stat().st_size  # compressed


def test_print_edition_is_bound(editions: dict[str, Path]) -> None:
    """Even page count, the body on a right-hand page, folios on the outer edge of each page."""
    texts = page_texts(editions["-print"])
    assert len(texts) % 2 == 0
    assert "Key judgments" in texts[2]
    blank = [not text.replace("UNCLASSIFIED // FOR PUBLIC RELEASE", "").strip() for text in texts]
    assert blank[1], "the back of the cover is blank"
    with plumber(editions["-print"]) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            trim = [float(v) for v in page.page_obj.attrs["TrimBox"]]
            middle = (trim[0] + trim[2]) / 2
            folio = [w for w in page.extract_words() if w["text"] == "Page"]
            if number == 1 or blank[number - 1]:  # the cover and blank pages carry no folio
                assert not folio
                continue
            assert len(folio) == 1, number
            outer_left = number % 2 == 0  # a verso
            assert (folio[0]["x0"] < middle) == outer_left, f"page {number}: the folio is not on the outer edge"


def _page_number(text: str) -> int | None:
    match = re.search(r"Page (\d+) of \d+", text)
    return int(match[1]) if match else None


def test_booklet_keeps_text_and_vectors(editions: dict[str, Path]) -> None:
    with pikepdf.open(editions["-booklet"]) as pdf:
        images = [image for page in pdf.pages for image in page.get_images()]
        assert images == []  # nothing rasterised
    assert "Regional Water Security" in " ".join(page_texts(editions["-booklet"])[0].split())


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


def test_the_print_shops_profile_condition_and_stitching(content_tree: ContentTree, tmp_path: Path) -> None:
    from briefing.render_pdf import CMYK_PROFILE

    folder = content_tree({"briefing.yaml": briefing_yaml(
        timeline=None, print="{profile: press/shop.icc, condition: FOGRA39, stitched: true}")})
    (folder / "press").mkdir()
    (folder / "press" / "shop.icc").write_bytes(CMYK_PROFILE.read_bytes())
    config = BuildConfig(folder, tmp_path / "out", (Variant.PRINT,), cache_dir=tmp_path / "cache", epoch=0)
    (output,) = build(config).outputs
    with pikepdf.open(output.path) as pdf:
        assert len(pdf.pages) % 4 == 0
        (intent,) = pdf.Root.OutputIntents
        assert str(intent.OutputConditionIdentifier) == "FOGRA39"
        assert intent.DestOutputProfile.read_bytes() == CMYK_PROFILE.read_bytes()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("{profile: shop.icc, condition: FOGRA39}", "'shop.icc' is a mntr / RGB profile; the print edition needs a CMYK "
         "output (prtr) profile"),
        ("{profile: refs.yaml, condition: FOGRA39}", "'refs.yaml' is not an ICC colour profile"),
        ("{profile: ../x.icc, condition: FOGRA39}", "'../x.icc' points outside the briefing folder"),
        ("{stiched: true}", "unknown key 'stiched' in print (did you mean 'stitched'?)"),
        ("{stitched: maybe}", "'stitched' is true or false, found 'maybe'"),
    ],
)
def test_print_settings_are_checked(
    content_tree: ContentTree, capsys: pytest.CaptureFixture[str], setting: str, message: str
) -> None:
    from briefing.render_pdf import srgb_profile

    folder = content_tree({"briefing.yaml": briefing_yaml(classification=None, timeline=None, print=setting)})
    (folder / "shop.icc").write_bytes(srgb_profile().read_bytes())  # a display profile, not a press one
    code, lines = check_problems(folder, capsys)
    assert code == 1
    errors = [line for line in lines if ": error: " in line]
    assert len(errors) == 1
    assert errors[0].startswith(f"{folder / 'briefing.yaml'}:5:")
    assert errors[0].endswith(message)


def test_print_edition_is_the_same_laid_out_alone_or_beside_the_others(tmp_path: Path) -> None:
    """Each edition paginates its own back-links: serial and parallel builds give the same bytes."""
    from briefing.cli import STARTER_DIR

    outputs = {}
    for workers in (1, 2):
        config = BuildConfig(STARTER_DIR, tmp_path / f"out{workers}", (Variant.PDF, Variant.PRINT),
                             cache_dir=tmp_path / "cache", epoch=1_700_000_000, workers=workers)
        result = build(config)
        outputs[workers] = {o.path.name: o.path.read_bytes() for o in result.outputs}
    assert outputs[1] == outputs[2]


def test_every_edition_is_described_once() -> None:
    from briefing.editions import EDITIONS

    assert set(EDITIONS) == set(Variant)
    names = {v: BuildConfig(Path("brief")).output_path(v).name for v in Variant}
    assert names == {Variant.PDF: "brief.pdf", Variant.PRINT: "brief-print.pdf", Variant.HANDOUT: "brief-handout.pdf",
                     Variant.BOOKLET: "brief-booklet.pdf", Variant.HTML: "brief.html"}  # the contract's file names
