"""The measure, hyphenation and line breaks, read from the PDFs as a reader sees them."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pdfplumber
import pytest

from briefing.config import BuildConfig, Paper, Variant
from briefing.errors import Diagnostics, SourceLocation
from briefing.line_checks import check_lines
from briefing.model_html import runs_html
from briefing.model_text import Run
from briefing.pipeline import BuildResult, build
from briefing.text_finish import TextPass

from .body_lines import body_lines, hyphenated_share, longest_hyphen_run, median_measure
from .conftest import US_IRAN_DIR, ContentTree
from .helpers import html_of, page_texts, pdf_of, plumber

ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


@pytest.mark.slow
def test_body_text_sets_60_to_75_characters_a_line(us_iran_build: BuildResult) -> None:
    lines = body_lines(pdf_of(us_iran_build))
    assert sum(line.full for line in lines) > 100
    assert 60 <= median_measure(lines) <= 75


@pytest.mark.slow
@pytest.mark.parametrize("variant", [Variant.PDF, Variant.BOOKLET])
def test_letter_paper_and_the_booklet_keep_their_measure(tmp_path: Path, variant: Variant) -> None:
    """One edition a test, so that two workers share the work."""
    config = BuildConfig(content_dir=US_IRAN_DIR, output_dir=tmp_path / "out", variants=(variant,),
                         paper=Paper.LETTER, cache_dir=tmp_path / "cache")
    path = pdf_of(build(config))
    lines = body_lines(path)
    assert 60 <= median_measure(lines) <= 75, path.name
    assert hyphenated_share(lines) <= 0.08, path.name
    assert longest_hyphen_run(lines) <= 2, path.name


@pytest.mark.slow
def test_few_lines_end_hyphenated_and_never_three_in_a_row(us_iran_build: BuildResult) -> None:
    lines = body_lines(pdf_of(us_iran_build))
    assert any(line.hyphenated for line in lines)  # hyphenation is on, only sparing
    assert hyphenated_share(lines) <= 0.08
    assert longest_hyphen_run(lines) <= 2


@pytest.mark.slow
def test_names_and_citations_are_never_hyphenated(us_iran_build: BuildResult) -> None:
    """A word broken at a line end is a common word: not a capitalised name inside a sentence,
    not inside a parenthesis that a citation opens ("(Abra- / hamian 2008)")."""
    lines = body_lines(pdf_of(us_iran_build))
    for line, after in pairwise(lines):
        if not line.hyphenated:
            continue
        *before, broken = line.text[:-1].split()
        if len(broken) < 4:
            continue  # a break after a word's own hyphen ("Al-/Awsat"): print.css hyphenates after 4 letters
        if before and before[-1][-1] not in ".:!?" and broken[0].isupper():
            pytest.fail(f"a name is hyphenated: {broken}-{after.text.split()[0]}")
        opened = line.text.rfind("(")
        assert opened <= line.text.rfind(")"), f"hyphenated inside a parenthesis: {line.text[-30:]}"


def _source_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.suffix in (".md", ".yaml"))


@pytest.mark.slow
def test_captions_headings_and_tables_are_never_hyphenated(us_iran_build: BuildResult) -> None:
    """A sans line (captions, headings, tables) ends with a hyphen only where the word has one."""
    source = _source_text(US_IRAN_DIR)
    with plumber(pdf_of(us_iran_build)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            sans = page.filter(lambda o: o.get("object_type") != "char" or "Sans" in str(o.get("fontname", "")))
            lines = [str(line["text"]) for line in sans.extract_text_lines(strip=True)]
            for line, after in pairwise(lines):
                if re.search(r"[a-z]-$", line):
                    word = f"{line.split()[-1]}{after.split()[0]}"
                    assert word in source, f"page {number}: '{word}' is hyphenated"


@pytest.mark.slow
def test_no_zero_width_characters_reach_the_text(us_iran_build: BuildResult, starter_build: BuildResult) -> None:
    for result in (us_iran_build, starter_build):
        text = "\n".join(page_texts(pdf_of(result)))
        assert not ZERO_WIDTH.search(text)
    html = html_of(starter_build)
    assert not ZERO_WIDTH.search(html)
    assert "&#8203;" not in html


@pytest.mark.slow
def test_brackets_stay_with_what_they_enclose(us_iran_build: BuildResult) -> None:
    lines = body_lines(pdf_of(us_iran_build))
    for line in lines:
        assert line.text[-1] not in "([", f"page {line.page}: a line ends with an opening bracket: {line.text[-30:]}"
        assert line.text[0] not in ")],.;:!?", f"page {line.page}: a line starts with closing punctuation: {line.text}"
    text = "\n".join(page_texts(pdf_of(us_iran_build)))
    # A short citation (14 characters) never breaks inside: "(JNS" at a line end, "2025)" opening the next.
    assert not re.search(r"\([^()\n]{1,7}\n\d{4}[a-z]?\)", text)


@pytest.mark.slow
def test_automatic_hyphens_extract_as_the_whole_word(us_iran_build: BuildResult) -> None:
    """Drawn as U+2010 (pdfplumber, which ignores /ActualText, sees it); read as the word by poppler."""
    path = pdf_of(us_iran_build)
    lines = body_lines(path)
    broken = [(line, after) for line, after in pairwise(lines) if line.text.endswith("\u2010")]
    assert len(broken) >= 5
    text = "".join(page_texts(path))
    assert "\u2010" not in text  # U+2010 matches nothing a reader types
    words = set(re.findall(r"\w+", text))
    for line, after in broken:
        joined = line.text.split()[-1].removesuffix("\u2010") + after.text.split()[0]  # "(rhet" + "oric)."
        for whole in re.findall(r"\w+", joined):
            assert whole in words, f"{line.text[-20:]!r} / {after.text[:20]!r}: '{whole}' is not in the text"


def _names(text: str, language: str = "en") -> str:
    return runs_html([n for n in TextPass(language).inlines((Run(text),)) if isinstance(n, Run)])


def test_capitalised_words_inside_a_sentence_are_marked_as_names() -> None:
    marked = _names("Supreme Leader Khamenei said. Diplomatic talks in Switzerland")
    assert '<span class="name">Khamenei</span>' in marked
    assert '<span class="name">Switzerland</span>' in marked
    assert '<span class="name">Diplomatic</span>' not in marked  # a sentence's first word may be any word
    assert _names("Die Verhandlungen", "de-DE") == "Die Verhandlungen"  # German capitalises every noun


def _laid_out(body: str, width_mm: float, hyphens: str = "auto") -> list[object]:
    from weasyprint import HTML

    css = (f"@page {{ size: {width_mm + 20}mm 200mm; margin: 10mm }} p {{ text-align: justify; hyphens: {hyphens};"
           " hyphenate-limit-chars: 5 2 2; font: 10pt serif }")
    pages: list[object] = HTML(string=f"<html lang='en'><style>{css}</style><p>cover</p>"
                               f"<p style='break-before: page'>{body}</p></html>").render().pages
    return pages


def test_the_layout_check_finds_a_long_measure_and_hyphens_in_a_row(tmp_path: Path) -> None:
    source = tmp_path / "one.md"
    words = "incomprehensibilities characteristically unconstitutionally internationalisation "
    source.write_text(words, encoding="utf-8")
    report = Diagnostics()
    check_lines(_laid_out(words * 40, 30), {source: words}, SourceLocation(tmp_path / "page.html"), report, "digital edition")
    messages = [str(w) for w in report.warnings]
    assert any("in a row end with a hyphen" in m and m.startswith(str(source)) for m in messages), messages
    assert any("body lines end with a hyphen" in m for m in messages), messages

    report = Diagnostics()
    prose = "The relationship between the two states has been one of the most durable problems of the age. "
    check_lines(_laid_out(prose * 60, 190, "manual"), {}, SourceLocation(tmp_path / "page.html"), report, "digital edition")
    assert any("characters (median of" in str(w) for w in report.warnings), [str(w) for w in report.warnings]

    report = Diagnostics()
    check_lines(_laid_out(prose * 60, 128, "manual"), {}, SourceLocation(tmp_path / "page.html"), report, "digital edition")
    assert not report.warnings  # about 70 characters a line


def _opens_level_one(page: pdfplumber.page.Page, text_top: float) -> bool:
    """The page's first line (below the running head) is a 15 pt heading."""
    chars = [c for c in page.chars if c["top"] > text_top - 2 and c["top"] < page.height - 30 * 72 / 25.4]
    first = min(chars, key=lambda c: c["top"], default=None)
    return first is not None and abs(float(first["size"]) - 15) < 0.5


@pytest.mark.slow
def test_no_page_before_the_back_matter_is_a_quarter_empty(us_iran_build: BuildResult) -> None:
    mm = 72 / 25.4
    text_top, text_bottom = 26 * mm, (297 - 24) * mm  # the A4 text area (config.py)
    with plumber(pdf_of(us_iran_build)) as pdf:
        pages = pdf.pages
        for number, (page, following) in enumerate(pairwise(pages[1:]), start=2):
            if re.search(r"(?m)^Chronology$", page.extract_text() or ""):
                break  # the back matter
            if _opens_level_one(following, text_top):
                continue
            bottom = max(float(c["bottom"]) for c in page.chars if c["bottom"] < text_bottom)
            empty = (text_bottom - bottom) / (text_bottom - text_top)
            assert empty <= 0.25, f"page {number} is {100 * empty:.0f} % empty"


def test_a_page_left_a_quarter_empty_is_a_located_warning(content_tree: ContentTree, tmp_path: Path) -> None:
    prose = "Talks resumed in the spring and broke off again in the summer of that year. " * 14
    rows = "\n".join(f"| {i} | A row of the table that moves whole |" for i in range(40))
    folder = content_tree({"sections/one.md": f"# One\n\n{prose} [@ref1]\n\n{prose}\n\n{prose}\n\n"
                                              f"| N | Row |\n|---|---|\n{rows}\n\nTable: A tall table {{#tbl-tall}}\n\n"
                                              f"After the table.\n"})
    config = BuildConfig(folder, tmp_path / "out", (Variant.PDF,), cache_dir=tmp_path / "cache", epoch=0)
    warnings = [str(d) for d in build(config).report.warnings if " % empty" in str(d)]
    assert len(warnings) == 1, warnings
    assert re.match(r"\S*sections/one.md:\d+:\d+: warning: digital edition, page 4 is \d+ % empty: what follows", warnings[0])
