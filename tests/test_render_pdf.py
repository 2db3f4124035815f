"""The digital edition, read back as a reader and a screen reader would."""

from __future__ import annotations

import pikepdf
import pytest

from briefing.pipeline import BuildResult

from .helpers import embedded_fonts, html_of, outline_titles, page_texts, pdf_of, plumber, toc_entries

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["starter", "us-iran"])
def built(request: pytest.FixtureRequest) -> BuildResult:
    return request.getfixturevalue("starter_build" if request.param == "starter" else "us_iran_build")


def test_contents_page_numbers_match_the_pages_of_the_headings(built: BuildResult) -> None:
    texts = page_texts(pdf_of(built))
    contents_page = next(i for i, t in enumerate(texts) if "\nContents\n" in f"\n{t}\n")
    entries = toc_entries(texts[contents_page])
    assert len(entries) >= 4
    for number, title, page in entries:
        heading = f"{number} {title}" if number else title
        lines = [line.strip() for line in texts[page - 1].splitlines()]
        assert any(line.startswith(heading) for line in lines), f"'{heading}' is not on page {page}"


def test_bookmarks_match_the_headings(built: BuildResult) -> None:
    titles = outline_titles(pdf_of(built))
    texts = "\n".join(page_texts(pdf_of(built)))
    assert ("Contents" in [t for _, t in titles])
    assert ("References" in [t for _, t in titles])
    numbered = [t for level, t in titles if level == 1 and t[0].isdigit()]
    assert numbered, "sections have bookmarks"
    for _, title in titles:
        assert title.split(" ", 1)[-1] in texts


def test_every_citation_and_cross_reference_is_resolved(built: BuildResult) -> None:
    text = "\n".join(page_texts(pdf_of(built)))
    assert "??" not in text
    assert "[@" not in text
    for prefix in ("@sec-", "@fig-", "@tbl-"):
        assert prefix not in text


def test_marking_and_page_numbers_on_every_page(built: BuildResult) -> None:
    texts = page_texts(pdf_of(built))
    for number, text in enumerate(texts, start=1):
        assert text.count("UNCLASSIFIED") >= 2, f"page {number} lacks the marking at top and bottom"
        if number > 1:
            assert f"Page {number} of {len(texts)}" in text


def test_only_vendored_fonts_are_embedded(built: BuildResult) -> None:
    fonts = embedded_fonts(pdf_of(built))
    assert fonts
    for name, embedded in fonts.items():
        assert embedded, f"{name} is not embedded"
        assert "Noto" in name, f"{name} is not one of the vendored fonts"


def test_code_is_set_in_the_vendored_mono_face(starter_build: BuildResult) -> None:
    """The engine's own "monospace" is the machine's font: a PDF built elsewhere would differ."""
    path = pdf_of(starter_build)
    with plumber(path) as pdf:
        words = [w for page in pdf.pages for w in page.extract_words(extra_attrs=["fontname"])]
    code = [w for w in words if w["text"].startswith("timeline.yaml")]
    assert code, "the starter shows a file name as code"
    assert all(w["fontname"].endswith("Noto-Sans-Mono") for w in code), code


def test_tagged_with_language_and_metadata(built: BuildResult) -> None:
    with pikepdf.open(pdf_of(built)) as pdf:
        assert pdf.Root.MarkInfo.Marked
        assert "/StructTreeRoot" in pdf.Root
        assert str(pdf.Root.Lang) == "en"
        info = pdf.open_metadata()
        assert info.get("dc:title")


def test_footnotes_sit_on_the_page_that_calls_them(starter_build: BuildResult) -> None:
    texts = page_texts(pdf_of(starter_build))
    page = next(i for i, t in enumerate(texts) if "This starter covers surface water only." in t)
    assert "standard reference on water and conflict" in texts[page]


def test_html_preview_is_self_contained(starter_build: BuildResult) -> None:
    html = html_of(starter_build)
    assert "<script" not in html
    assert "file://" not in html
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert 'src="data:image/svg+xml;base64,' in html


def _figure_alts(path) -> list[str]:
    alts: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, pikepdf.Dictionary):
            if node.get("/S") == "/Figure":
                alts.append(str(node.get("/Alt", "")))
            if "/K" in node:
                walk(node.K)
        elif isinstance(node, pikepdf.Array):
            for child in node:
                walk(child)

    with pikepdf.open(path) as pdf:
        walk(pdf.Root.StructTreeRoot)
    return alts


def test_figures_carry_alt_text_and_real_text(us_iran_build: BuildResult) -> None:
    path = pdf_of(us_iran_build)
    alts = _figure_alts(path)
    assert len(alts) >= 3
    assert all(alt.startswith("Timeline of ") for alt in alts)
    assert "19 August 1953, 1953 coup" in alts[0]
    text = "\n".join(page_texts(path))  # labels are text runs with their spaces (pdfplumber: test_figures.py)
    for label in ("1953 coup", "Natanz revealed", "Israel strikes Iran"):
        assert label in text, f"figure label {label!r} is not selectable text"
