"""Automatic hyphens read as the word they break; the HTML the engine lays out; read back from PDFs."""

from __future__ import annotations

import re
import subprocess
from io import BytesIO
from pathlib import Path
from typing import Any

import pdfplumber
import pikepdf
import pytest
from PIL import Image, ImageChops

from briefing.engine_html import prepare_for_engine, reserve_automatic_hyphen, separate_spaces_before_inline
from briefing.pdf_hyphens import _rewrite, mark_automatic_hyphens
from briefing.pipeline import BuildResult

from .helpers import page_texts, pdf_of

FONTS = Path(__file__).resolve().parent.parent / "templates" / "fonts"
PROSE = ("The relationship between the two states has been durable and incomprehensible to outsiders; the F-14 "
         "fleet, the US-Iran talks and the E3/EU+3 format characteristically outlived internationalisation, and "
         "unconstitutionally long-lived arrangements persisted. The well-known-thing went on and on.")


def _write(tmp_path: Path, name: str, mark: bool, body: str = PROSE, width_mm: int = 52) -> Path:
    from weasyprint import HTML

    css = (f"@font-face {{ font-family: Body; src: url({(FONTS / 'NotoSerif-Regular.ttf').as_uri()}) }}"
           f"@page {{ size: {width_mm + 10}mm 150mm; margin: 5mm }}"
           "p { font: 10pt Body; text-align: justify; hyphens: auto; hyphenate-character: '\\2010';"
           " hyphenate-limit-chars: 6 3 3 }")
    html = f"<html lang='en'><head><title>t</title><style>{css}</style></head><body><p>{body}</p></body></html>"
    document = HTML(string=prepare_for_engine(html)).render(pdf_tags=True)
    path = tmp_path / f"{name}.pdf"
    counted: list[int] = []
    document.write_pdf(path, finisher=(lambda doc, pdf: counted.append(mark_automatic_hyphens(doc, pdf))) if mark else None,
                       pdf_tags=True)
    assert counted != [0]
    return path


def _pdftotext(path: Path, *options: str) -> str:
    return subprocess.run(["pdftotext", *options, "-enc", "UTF-8", str(path), "-"],
                          capture_output=True, check=True, text=True).stdout


def test_hyphenated_words_extract_whole_and_typed_hyphens_stay(tmp_path: Path) -> None:
    path = _write(tmp_path, "marked", mark=True)
    with pdfplumber.open(path) as pdf:  # pdfminer ignores /ActualText: it shows what is drawn
        drawn = pdf.pages[0].extract_text()
    assert drawn.count("\u2010\n") >= 3, drawn
    for options in ((), ("-raw",), ("-layout",)):
        text = _pdftotext(path, *options)
        assert "\u2010" not in text
        words = set(re.findall(r"[\w/+-]+", text))
        assert {"incomprehensible", "characteristically", "internationalisation"} <= words, (options, text)
        assert {"F-14", "US-Iran"} <= words, (options, text)
        broken = [line.split()[-1].removesuffix("\u2010") for line in drawn.splitlines() if line.endswith("\u2010")]
        assert not set(broken) & words, broken  # no half word left on its own


def test_marking_the_hyphens_changes_no_pixel(tmp_path: Path) -> None:
    images = []
    for name, mark in (("plain", False), ("marked", True)):
        path = _write(tmp_path, name, mark)
        subprocess.run(["pdftoppm", "-r", "100", "-png", str(path), str(tmp_path / name)], check=True)
        images.append(Image.open(next(tmp_path.glob(f"{name}-*.png"))).convert("RGB"))
    assert ImageChops.difference(*images).getbbox() is None


def _operators(path: Path) -> list[tuple[list[Any], str]]:
    with pikepdf.open(path) as pdf:
        return [(list(operands), str(operator)) for operands, operator in pikepdf.parse_content_stream(pdf.pages[0])]


def _actual_texts(path: Path) -> list[str]:
    """The /ActualText of every span, checking that each opens and closes inside one MCID sequence."""
    stack: list[str] = []
    spans = []
    for operands, operator in _operators(path):
        if operator in ("BDC", "BMC"):
            properties = operands[1] if len(operands) > 1 else {}
            if "/ActualText" in properties:
                assert stack[-1:] == ["mcid"]  # inside the line's marked content, never around another span
                spans.append(str(properties["/ActualText"]))
                stack.append("span")
            else:
                stack.append("mcid" if "/MCID" in properties else "other")
        elif operator == "EMC":
            stack.pop()
    assert not stack
    return spans


def test_the_spans_nest_inside_the_tagged_content(tmp_path: Path) -> None:
    spans = _actual_texts(_write(tmp_path, "marked", mark=True))
    assert "" in spans  # the rest of a word, at the start of a line, says nothing
    assert any(spans)  # the hyphen says the rest of the word


def test_a_split_shows_the_same_glyphs_with_the_same_moves() -> None:
    operation = b"[<0047> 0 <0058> -406.7 <0003> <0af3>] TJ"
    assert _rewrite(operation, [(0, 1, ""), (3, 4, "able")]) == [
        b"/Span <</ActualText ()>> BDC", b"[<0047>] TJ", b"EMC",
        b"[0 <0058> -406.7 <0003>] TJ",
        b"/Span <</ActualText <feff00610062006c0065>>> BDC", b"[<0af3>] TJ", b"EMC"]


def test_a_typed_hyphen_character_is_set_as_the_keyboard_hyphen() -> None:
    assert reserve_automatic_hyphen("<p>anti\u2010war &#8208; x&#x2010;y</p>") == "<p>anti-war - x-y</p>"


def test_a_space_after_a_run_of_words_moves_into_the_inline_element_after_it() -> None:
    html = ("<p><i>JNS</i>. May. <a class='url'><span class='url-part'>https://</span></a> and then "
            "<span class='name'>Kinzer</span> (<a class=\"citation citation-short\">A 1</a>) so we see "
            "<a class='crossref'>S</a>, <a href='#c'>8</a></p>")
    assert separate_spaces_before_inline(html) == (
        "<p><i>JNS</i>. May.<a class='url'><span class='url-part'> https://</span></a> and then"
        "<span class='name'> Kinzer</span> (<a class=\"citation citation-short\">A 1</a>) so we see "
        "<a class='crossref'>S</a>, <a href='#c'>8</a></p>")  # kept unbroken, or one word: left as they are
    untouched = ("<style>p { x: 1 } <span>a</style><pre>a b <b>c</b></pre>"
                 "<p>talks in the capital <span lang=\"zh\">北京</span></p>")  # a CJK font would draw the space
    assert separate_spaces_before_inline(untouched) == untouched


def _lines(body: str, width_mm: float, prepare: bool = True) -> list[str]:
    from weasyprint import HTML

    css = (f"@font-face {{ font-family: Body; src: url({(FONTS / 'NotoSerif-Regular.ttf').as_uri()}) }}"
           f"@page {{ size: {width_mm + 20}mm 100mm; margin: 10mm }} p {{ font: 10pt Body; margin: 0 }}")
    html = f"<style>{css}</style><p>{body}</p>"
    document = HTML(string=prepare_for_engine(html) if prepare else html).render()
    with pdfplumber.open(BytesIO(document.write_pdf())) as pdf:
        return [str(line["text"]) for line in pdf.pages[0].extract_text_lines()]


def test_a_run_ending_in_a_space_before_a_link_breaks_at_its_last_space() -> None:
    """Left alone, the engine breaks "Aaa." / "bbb ccc dd." when the run's last space does not fit (the JNS entry)."""
    plain, linked = "Aaa. bbb ccc dd. eeeeeeee fff", "<i>Aaa</i>. bbb ccc dd. <a href='https://example.org/'>eeeeeeee</a> fff"
    widths = [26 + step / 4 for step in range(24)]
    expected = {width: _lines(plain, width) for width in widths}
    assert any(lines[0] == "Aaa. bbb ccc dd." for lines in expected.values())
    assert any(_lines(linked, width, prepare=False)[0] == "Aaa." for width in widths)  # the engine's slip
    assert {width: _lines(linked, width) for width in widths} == expected


@pytest.mark.slow  # it reads the long briefing's build
def test_no_reference_breaks_after_its_first_word(us_iran_build: BuildResult) -> None:
    path = pdf_of(us_iran_build)
    references = "".join(page_texts(path)[-4:])
    assert "JNS. 2025." in references
    assert not re.search(r"(?m)^\S+\.$\n(19|20)\d\d", references), "a label alone on its line, its year below"
    assert not re.search(r"(?m)\bp\.$", references), "'p.' at a line end, its page on the next"
    text = "\n".join(page_texts(path))
    for title in ("JNS", "DW", "NDTV", "CNN"):  # one-word italics in citations: never split inside
        for cut in range(1, len(title)):
            assert not re.search(rf"(?m)\b{title[:cut]}$\n{title[cut:]}\b", text), f"'{title}' split"


def test_a_word_broken_over_several_lines_reads_whole(tmp_path: Path) -> None:
    word = "Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetz"
    path = _write(tmp_path, "long", mark=True, body=f"Das {word} gilt.", width_mm=25)
    assert _pdftotext(path).count("\u2010") == 0
    flat = re.sub(r"\s+", "", _pdftotext(path, "-raw"))
    assert word in flat
    spans = _actual_texts(path)
    assert len(spans) >= 4
    assert any(len(text) > 3 for text in spans)
