"""Writing systems: the vendored Indic, Thai, Georgian, Armenian and Ethiopic faces, and a theme's fallback fonts (CJK)."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
import regex
from fontTools.ttLib import TTFont

from briefing.cli import main
from briefing.config import DEFAULT_TEMPLATES_DIR, BuildConfig, Variant
from briefing.model_html import runs_html
from briefing.pipeline import BuildResult, build
from briefing.text_finish import TextPass
from briefing.web_fonts import web_fonts

from .conftest import MINIMAL_FILES, build_once
from .helpers import html_of, page_texts, pdf_of, plumber

CJK_FONT = Path(__file__).parent / "fixtures" / "fonts" / "NotoSansCJKsc-Subset.otf"
"""Noto Sans CJK SC cut down to the test sentences (tests/fixtures/fonts/README.md)."""

QUOTED = {
    "Devanagari": ("क्षत्रिय", "हिन्दी"),
    "Bengali": ("বাংলাদেশ",),
    "Tamil": ("தமிழ்நாடு", "ஸ்ரீலங்கா"),
    "Thai": ("ประเทศไทย", "กรุงเทพมหานคร"),
    "Georgian": ("საქართველო",),
    "Armenian": ("Հայաստան",),
    "Ethiopic": ("ኢትዮጵያ",),
}
"""Names a reader searches for in the PDF, one script each (words whose every glyph maps back to its text)."""

THAI_WORDS = ["รัฐบาล", "ไทย", "ประกาศ", "ว่า", "การ", "เจรจา", "สันติภาพ", "ระหว่าง", "สอง", "ประเทศ",
              "จะ", "มี", "ขึ้น", "ต่อไป", "ใน", "สัปดาห์", "หน้า", "ที่", "กรุงเทพ"]
"""One long Thai sentence, written (as Thai is) without spaces: the line breaker must find its words."""

NOTE = "A long English note that takes room"
SECTION = f"""\
# Names in their own scripts {{#sec-one}}

The warrior caste, {QUOTED["Devanagari"][0]} (kshatriya), and the language {QUOTED["Devanagari"][1]}; \
**{QUOTED["Devanagari"][1]} in bold**. Bengali: {QUOTED["Bengali"][0]}, রবীন্দ্রনাথ ঠাকুর, কোলকাতা.
Tamil: {" ".join(QUOTED["Tamil"])}, கொழும்பு. Thai: {" ".join(QUOTED["Thai"])}, ดำเนิน.
Georgian: {QUOTED["Georgian"][0]}. Armenian: {QUOTED["Armenian"][0]}. Amharic: {QUOTED["Ethiopic"][0]} [@ref1].

## {QUOTED["Devanagari"][1]} and ภาษาไทย in a heading

| Script | Sample | Note | Also | More |
| --- | --- | --- | --- | --- |
| Thai | {"".join(THAI_WORDS)} | {NOTE} in the table | Another {NOTE.lower()} | A third {NOTE.lower()} too |

Table: Samples {{#tbl-samples}}
"""


@pytest.fixture(scope="session")
def scripts_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    folder = tmp_path_factory.mktemp("scripts") / "brief"
    for name, text in {**MINIMAL_FILES, "sections/one.md": SECTION}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text) if name != "sections/one.md" else text, encoding="utf-8")
    return build_once(tmp_path_factory, folder, (Variant.PDF, Variant.HTML), name="scripts")


@pytest.mark.slow
def test_each_script_prints_in_its_noto_face_and_extracts(scripts_build: BuildResult) -> None:
    pdf_path = pdf_of(scripts_build)
    text = re.sub(r"\s+", "", "".join(page_texts(pdf_path)))
    with plumber(pdf_path) as pdf:
        chars = [c for page in pdf.pages for c in page.chars]
    for script, words in QUOTED.items():
        assert all(word in text for word in words), script  # found by a reader's search (line breaks aside)
        fonts = {c["fontname"].split("+")[-1] for c in chars if regex.match(rf"\p{{Script={script}}}", c["text"])}
        assert f"Noto-Serif-{script}" in fonts, fonts  # body text: the serif face
        assert fonts <= {f"Noto-{kind}-{script}{weight}" for kind in ("Serif", "Sans") for weight in ("", "-Bold")}
    devanagari = {c["fontname"].split("+")[-1] for c in chars if c["text"].startswith("ह")}
    assert {"Noto-Serif-Devanagari", "Noto-Serif-Devanagari-Bold", "Noto-Sans-Devanagari-Bold"} <= devanagari  # heading
    assert "\u25cc" not in text  # no mark cut from its letter (HarfBuzz draws a dotted circle for one)


@pytest.mark.slow
def test_conjuncts_are_shaped_not_spelled_out(scripts_build: BuildResult) -> None:
    """Shaped, one glyph stands for several letters: the conjunct क्ष (ka, virama, ssa), ন্দ্র in Bengali."""
    with plumber(pdf_of(scripts_build)) as pdf:
        glyphs = {c["text"] for page in pdf.pages for c in page.chars}
    assert "क्ष" in glyphs
    assert "ন্দ্র" in glyphs
    assert "ஸ்ரீ" in glyphs


@pytest.mark.slow
def test_a_long_thai_sentence_breaks_between_words_in_a_narrow_cell(scripts_build: BuildResult) -> None:
    html = html_of(scripts_build)
    assert "".join(THAI_WORDS) in html  # no <wbr> every 18 letters: the words are the line breaker's to find
    with plumber(pdf_of(scripts_build)) as pdf:
        page = next(p for p in pdf.pages if "Samples" in (p.extract_text() or ""))
        cell = [c for c in page.chars if regex.match(r"\p{Script=Thai}", c["text"]) and c["top"] > _top(page, "Sample")]
        note = min(c["x0"] for c in page.chars if c["text"] == "N" and c["top"] > _top(page, "Sample") - 2)
    lines: dict[float, list[dict[str, object]]] = {}
    for char in cell:
        lines.setdefault(round(float(char["bottom"])), []).append(char)
    texts = ["".join(str(c["text"]) for c in line) for _, line in sorted(lines.items())]  # drawing order: marks after letters
    assert len(texts) >= 3
    assert "".join(texts) == "".join(THAI_WORDS)
    boundaries = {len("".join(THAI_WORDS[:n])) for n in range(len(THAI_WORDS) + 1)}
    assert all(len("".join(texts[:n])) in boundaries for n in range(1, len(texts)))  # each line ends a word
    assert max(float(c["x1"]) for c in cell) < note  # and stays in its column


def _top(page: pdfplumber.page.Page, word: str) -> float:
    return float(next(w["top"] for w in page.extract_words() if w["text"] == word))


@pytest.mark.slow
def test_runs_are_tagged_with_their_language(scripts_build: BuildResult) -> None:
    html = html_of(scripts_build)
    for language, word in (("hi", "क्षत्रिय"), ("bn", "বাংলাদেশ"), ("ta", "தமிழ்நாடு"), ("th", "ประเทศไทย"),
                           ("ka", "საქართველო"), ("hy", "Հայաստան"), ("am", "ኢትዮጵያ")):
        assert re.search(rf'<span lang="{language}">[^<]*{word}', html), language
    with pikepdf.open(pdf_of(scripts_build)) as pdf:
        languages = {str(element.get("/Lang")) for element in _elements(pdf) if "/Lang" in element}
    assert {"hi", "bn", "ta", "th", "ka", "hy", "am"} <= languages


def _elements(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    stack = list(pdf.Root.StructTreeRoot.K)
    while stack:
        element = stack.pop()
        if isinstance(element, pikepdf.Dictionary) and "/S" in element:
            yield element
            kids = element.get("/K")
            stack.extend(kids if isinstance(kids, pikepdf.Array) else [kids])


def test_a_briefing_in_thai_does_not_mark_its_own_script() -> None:
    def marked(text: str, language: str) -> str:
        return runs_html(TextPass(language).text(text).runs)

    assert marked("ประเทศไทย and 北京", "th") == 'ประเทศไทย and <span lang="zh">北京</span>'
    assert marked("हिन्दी और বাংলা", "hi") == 'हिन्दी और <span lang="bn">বাংলা</span>'


def test_web_subsets_keep_the_parts_the_browser_shapes_with() -> None:
    """HarfBuzz draws ำ as ํ + า and a split vowel (ো, ொ) as its halves, each looked up by character."""
    faces = {face.family: face for face in web_fonts("ดำเนิน কোলকাতা கொழும்பு", DEFAULT_TEMPLATES_DIR / "fonts", None)}
    wanted = {"Noto Serif Thai": "\u0e4d\u0e32", "Noto Serif Bengali": "\u09c7\u09be", "Noto Serif Tamil": "\u0bc6\u0bbe"}
    for family, parts in wanted.items():
        font = TTFont(io.BytesIO(base64.b64decode(faces[family].data_uri.split(",", 1)[1])))
        assert set(map(ord, parts)) <= set(font.getBestCmap()), family
    assert "Noto Serif Devanagari" not in faces  # only the faces the page needs


# --------------------------------------------------------------------------- a theme's fallback fonts (CJK)

CJK_SECTION = """\
# Quotations {#sec-one}

The ministry (外交部) said: 「会谈将继续」. Tokyo is 東京 (ひらがな, カタカナ); Seoul is 서울 [@ref1].

::: {#fig-t .timeline}
The talks.
:::
"""
CJK_TIMELINE = """\
events:
  - {id: a, date: "2001-02-03", title: Talks in 北京, summary: 外交部发言人表示会谈将继续。, sources: [ref1]}
  - {id: b, date: "2003-05-01", title: Talks open}
"""


def _cjk_tree(root: Path, fonts_yaml: str) -> Path:
    folder = root / "brief"
    for name, text in {**MINIMAL_FILES, "sections/one.md": CJK_SECTION, "timeline.yaml": CJK_TIMELINE}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    (root / "briefings.yaml").write_text("theme: theme/\n", encoding="utf-8")
    (root / "theme" / "fonts").mkdir(parents=True)
    (root / "theme" / "theme.yaml").write_text(fonts_yaml, encoding="utf-8")
    shutil.copy(CJK_FONT, root / "theme" / "fonts" / CJK_FONT.name)
    return folder


@pytest.fixture(scope="module")
def cjk_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cjk")
    folder = _cjk_tree(root, "fonts:\n  folder: fonts\n  fallback: [Noto Sans CJK SC]\n")
    build(BuildConfig(folder, root / "out", (Variant.PDF, Variant.HTML), cache_dir=root / "cache", epoch=0))
    return root / "out"


@pytest.mark.slow
def test_a_theme_fallback_font_draws_what_no_vendored_font_does(cjk_build: Path) -> None:
    with pdfplumber.open(cjk_build / "brief.pdf") as pdf:
        chars = [c for page in pdf.pages for c in page.chars]
    cjk = [c for c in chars if regex.match(r"[\p{Script=Han}\p{Script=Hiragana}\p{Script=Hangul}]", c["text"])]
    assert {c["fontname"].split("+")[-1] for c in cjk} == {"Noto-Sans-CJK-SC", "Noto-Sans-CJK-SC-Bold"}  # bold: synthetic
    drawn = "".join(c["text"] for c in cjk)
    assert all(word in drawn for word in ("外交部", "東京", "ひらがな", "서울", "北京"))  # prose, chronology, figure
    line = next(c for c in cjk if c["text"] == "外")
    latin = {c["fontname"].split("+")[-1] for c in chars
             if c["text"].isascii() and c["text"].isalpha() and c["page_number"] == line["page_number"]
             and abs(c["bottom"] - line["bottom"]) < 3}
    assert latin == {"Noto-Serif"}  # it adds characters; the body stays Noto Serif
    svg = "".join(path.read_text(encoding="utf-8") for path in (cjk_build.parent / "cache").rglob("*.svg"))
    # The web edition's figure draws its label's glyphs as shapes (an image cannot use the page's fonts).
    assert "Talks in 北京" in svg
    assert '<path id="NotoSansCJKsc-Regular-' in svg, "北京 is not drawn from the fallback font"
    manifest = json.loads((cjk_build / "brief.manifest.json").read_text(encoding="utf-8"))
    (font,) = manifest["theme"]["fonts"]
    assert font["family"] == "Noto Sans CJK SC"
    assert "SIL Open Font License" in font["licence"]


@pytest.mark.slow
def test_the_web_edition_carries_the_fallback_font_last_and_cut_to_what_it_draws(cjk_build: Path) -> None:
    html = (cjk_build / "brief.html").read_text(encoding="utf-8")
    assert re.search(r'--serif: "Noto Serif",[^;]*"Noto Sans Math", "Noto Sans CJK SC", Georgia, serif;', html)
    assert re.search(r'--sans: "Noto Sans",[^;]*"Noto Sans Math", "Noto Sans CJK SC", system-ui, sans-serif;', html)
    data = re.search(r'font-family: "Noto Sans CJK SC";[^}]*?base64,([A-Za-z0-9+/=]+)', html)
    assert data is not None
    cmap = set(TTFont(io.BytesIO(base64.b64decode(data.group(1)))).getBestCmap())
    assert {ord(c) for c in "外交部東京서울"} <= cmap
    assert ord("a") not in cmap  # Latin is Noto Serif's: the fallback carries only what it is there for


def _check(root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    capsys.readouterr()
    monkeypatch.chdir(root)
    main(["check", "--quiet", "brief"])
    return [line for line in capsys.readouterr().err.splitlines() if ": error: " in line or ": warning: " in line]


def test_a_fallback_family_must_be_in_the_folder_and_not_the_body(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    _cjk_tree(tmp_path, "fonts:\n  folder: fonts\n  body: Noto Sans CJK SC\n  fallback: [Noto Sans CJK Sc, Noto Sans CJK SC]\n")
    assert _check(tmp_path, capsys, monkeypatch) == [
        "theme/theme.yaml:4:14: error: fallback font 'Noto Sans CJK Sc' is not in 'fonts' (did you mean "
        "'Noto Sans CJK SC'?); its families: Noto Sans CJK SC",
        "theme/theme.yaml:4:32: error: fallback font 'Noto Sans CJK SC' is already the theme's body or heading font",
    ]


def test_without_a_fallback_each_missing_script_is_one_error_that_says_how_to_fix_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    _cjk_tree(tmp_path, "colors: {accent: '#123456'}\n")
    errors = _check(tmp_path, capsys, monkeypatch)
    assert [line.split(" error: ")[1].split(" in none")[0] for line in errors] == [
        "'外' (U+5916) and 18 more (交部「会谈将继续」東…) are",  # the timeline's 北京, 发言人… too: one font for all
        "'ひ' (U+3072) and 6 more (らがなカタナ) are",
        "'서' (U+C11C) and 1 more (울) are",
    ]
    assert [line.split(": error:")[0] for line in errors] == [
        "brief/sections/one.md:3:15", "brief/sections/one.md:3:48", "brief/sections/one.md:3:70"]
    assert all("in a theme's font folder and name its family under 'fallback:'" in line for line in errors)
    assert "(such as Noto Sans CJK JP)" in errors[1]
    assert "(such as Noto Sans CJK KR)" in errors[2]
