"""The theme: logo, colours, figure palette, font folder and template overrides, read back from the outputs.

Fonts for the themes are made from the vendored Noto files, renamed with fontTools (and subset
where a test needs a font that lacks a character), so the tests need nothing from the network.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import textwrap
from collections import Counter
from functools import cache
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from fontTools import subset
from fontTools.ttLib import TTFont
from PIL import Image

from briefing import colour_vision
from briefing.cli import main
from briefing.config import DEFAULT_TEMPLATES_DIR
from briefing.figure_palette import OKABE_ITO

from .conftest import MINIMAL_FILES

LATIN = "".join(chr(c) for c in range(0x20, 0x7F)) + "–—‘’“”…·•é"
"""What the test fonts draw: the content of the test briefings and nothing more."""

ACCENT = "#8a1538"
PALETTE = ["#0d2b5e", "#c0392b", "#e69f00", "#a8dcf5"]
"""Lightness 18.5, 44.7, 70.6 and 85: apart in greyscale and for each colour-vision deficiency."""

TIMELINE = """\
categories:
  war: War
  talks: Talks
events:
  - {id: a, date: "2001-02-03", title: Start, category: war, sources: [ref1]}
  - {id: b, date: "2003-05-01", title: Talks open, category: talks}
  - {id: c, date: "2005-09-10", title: Ceasefire, category: war}
"""

SECTION = """\
# One {#sec-one}

Text citing [@ref1], set in the theme's serif, with a figure.

::: {#fig-all .timeline}
The events.
:::

## Two

More text; see @fig-all.
"""


def brand_font(source: str, target: Path, family: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(_brand_font(source, family))


@cache
def _brand_font(source: str, family: str, text: str | None = LATIN, licence: bool = True) -> bytes:
    """A vendored Noto font renamed to ``family`` (and subset to ``text``): a stand-in for an organisation's font."""
    font = TTFont(DEFAULT_TEMPLATES_DIR / "fonts" / source)
    if text is not None:
        options = subset.Options()
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(font)
    style = source.removesuffix(".ttf").split("-")[1]
    for record in font["name"].names:
        if record.nameID in (1, 16):
            record.string = family
        elif record.nameID == 4:
            record.string = f"{family} {style}"
        elif record.nameID == 6:
            record.string = f"{family.replace(' ', '')}-{style}"
    if not licence:
        font["name"].removeNames(nameID=13)
        font["name"].removeNames(nameID=14)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def make_tree(root: Path, theme_yaml: str | None = None, sections: str = SECTION) -> Path:
    """A content tree: briefings.yaml naming theme/, the theme folder (logo, fonts), one briefing 'brief'."""
    folder = root / "brief"
    for name, text in {**MINIMAL_FILES, "timeline.yaml": TIMELINE, "sections/one.md": sections}.items():
        write(folder / name, text)
    write(root / "briefings.yaml", "organization: Example Desk\ntheme: theme/\n")
    write(root / "theme" / "theme.yaml", theme_yaml or f"""\
        logo: logo.png
        colors:
          accent: "{ACCENT}"
          ink: "#202020"
        palette: {json.dumps(PALETTE)}
        fonts:
          folder: fonts
          body: Brand Serif
          heading: Brand Sans
        """)
    logo = Image.new("RGB", (240, 80), ACCENT)
    logo.paste((255, 255, 255), (100, 20, 220, 60))
    logo.save(root / "theme" / "logo.png")
    fonts = root / "theme" / "fonts"
    for source, family in (("NotoSerif-Regular.ttf", "Brand Serif"), ("NotoSerif-Bold.ttf", "Brand Serif"),
                           ("NotoSerif-Italic.ttf", "Brand Serif"), ("NotoSans-Regular.ttf", "Brand Sans"),
                           ("NotoSans-Bold.ttf", "Brand Sans")):
        brand_font(source, fonts / f"{family.replace(' ', '')}-{source.split('-')[1]}", family)
    return folder


def check(root: Path, capsys: pytest.CaptureFixture[str], folder: str = "brief") -> tuple[int, str]:
    """``briefing check`` from the tree's root (where briefings.yaml is found): its status and messages."""
    capsys.readouterr()
    cwd = Path.cwd()
    os.chdir(root)
    try:
        status = main(["check", folder])
    finally:
        os.chdir(cwd)
    return status, capsys.readouterr().err


# -- colour vision --------------------------------------------------------------------------


def test_ciede2000_matches_sharmas_published_pairs() -> None:
    """Pairs 1, 7 and 17 of Sharma, Wu & Dalal (2005), Table 1."""
    assert colour_vision.ciede2000((50, 2.6772, -79.7751), (50, 0, -82.7485)) == pytest.approx(2.0425, abs=1e-4)
    assert colour_vision.ciede2000((50, 0, 0), (50, -1, 2)) == pytest.approx(2.3669, abs=1e-4)
    assert colour_vision.ciede2000((50, 2.5, 0), (73, 25, -18)) == pytest.approx(27.1492, abs=1e-4)


def test_okabe_ito_stays_apart_for_every_deficiency_and_red_green_does_not() -> None:
    assert not [c for c in colour_vision.collisions(OKABE_ITO) if c.viewer != "greyscale"]
    # A red and a green of equal lightness: distinct to most readers, one colour to a deuteranope.
    clashes = colour_vision.collisions(("#c0504d", "#6f8f3a"))
    assert [(c.first, c.second) for c in clashes] == [(0, 1)]
    assert clashes[0].viewer in ("greyscale", "deuteranopia", "protanopia")
    assert colour_vision.collisions(tuple(PALETTE)) == []


# -- located errors, before any layout ------------------------------------------------------


def test_missing_logo_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_tree(tmp_path, 'logo: brand/logo.svg\ncolors: {accent: "#8a1538"}\n')
    status, err = check(tmp_path, capsys)
    assert status == 1
    assert "theme/theme.yaml:1:7: error: file 'brand/logo.svg' not found" in err


def test_logo_outside_the_content_tree_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = tmp_path / "tree"
    make_tree(tree, "logo: ../../outside.png\n")
    Image.new("RGB", (4, 4)).save(tmp_path / "outside.png")
    (tree / "theme" / "linked.png").symlink_to(tmp_path / "outside.png")
    status, err = check(tree, capsys)
    assert "theme/theme.yaml:1:7: error: '../../outside.png' points outside the content tree ('tree/')" in err
    write(tree / "theme" / "theme.yaml", "logo: linked.png\n")  # a link out is refused the same way
    status, err = check(tree, capsys)
    assert status == 1
    assert "theme/theme.yaml:1:7: error: 'linked.png' points outside the content tree" in err


def test_theme_paths_obey_the_content_path_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One set of rules for every path content names: control characters and absolute paths too."""
    make_tree(tmp_path, 'logo: "logo\\x7f.png"\ntemplates: /etc\n')
    status, err = check(tmp_path, capsys)
    assert status == 1
    assert "theme/theme.yaml:1:12: error: U+007F is a control char" in err
    assert ("theme/theme.yaml:2:12: error: '/etc' is an absolute path; paths are relative to the file they are "
            "written in") in err


def test_a_pipe_in_a_font_or_override_folder_is_refused_not_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Opening a named pipe would wait forever for a writer: the build names it instead."""
    make_tree(tmp_path)
    os.mkfifo(tmp_path / "theme" / "fonts" / "Waiting.ttf")
    (tmp_path / "templates" / "partials").mkdir(parents=True)
    os.mkfifo(tmp_path / "templates" / "partials" / "cover.html")
    status, err = check(tmp_path, capsys)
    assert status == 1
    assert "error: font 'fonts/Waiting.ttf' is not a regular file" in err
    assert "templates/partials/cover.html: error: template override 'partials/cover.html' is not a regular file" in err


def test_logo_goes_through_the_image_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_tree(tmp_path, "logo: logo.svg\n")
    uses = "".join(f'<use href="#g{i}"/><use href="#g{i}"/>' for i in range(1))
    nested = "".join(f'<g id="g{i + 1}"><use href="#g{i}"/><use href="#g{i}"/><use href="#g{i}"/>'
                     f'<use href="#g{i}"/></g>' for i in range(10))
    write(tmp_path / "theme" / "logo.svg",
          f'<svg xmlns="http://www.w3.org/2000/svg"><g id="g0"><rect/></g>{nested}{uses}</svg>')
    status, err = check(tmp_path, capsys)
    assert status == 1
    assert "theme/theme.yaml:1:7: error: image 'theme/logo.svg' expands to more than 20,000 elements" in err


def test_palette_colliding_in_greyscale_names_both_colours(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_tree(tmp_path, 'palette:\n  - "#0d2b5e"\n  - "#e69f00"\n  - "#56b4e9"\n')
    status, err = check(tmp_path, capsys)
    assert status == 1
    assert ("theme/theme.yaml:4:5: error: palette colours 2 '#e69f00' and 3 '#56b4e9' print as the same grey "
            "(lightness L* 0.8 apart, at least 8 needed)") in err


def test_palette_colliding_for_a_deficiency_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # matplotlib's red and green: lightness 47 and 58 (apart in grey), one colour to a deuteranope.
    make_tree(tmp_path, 'palette: ["#d62728", "#2ca02c"]\n')
    status, err = check(tmp_path, capsys)
    assert status == 1
    assert ("theme/theme.yaml:1:22: error: palette colours 1 '#d62728' and 2 '#2ca02c' look alike with deuteranopia "
            "(CIEDE2000 4.6, at least 8 needed)") in err


def test_font_folder_missing_glyphs_is_located_in_the_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_tree(tmp_path, "fonts: {folder: fonts, body: Brand Serif}\n",
              sections="# One\n\nA name: Erdős [@ref1].\n")
    status, err = check(tmp_path, capsys)
    assert status == 1
    assert ("brief/sections/one.md:3:12: error: 'ő' (U+0151) is not in the theme's body font 'Brand Serif' "
            "(BrandSerif-Bold.ttf, BrandSerif-Italic.ttf, BrandSerif-Regular.ttf)") in err


def test_unknown_font_family_and_theme_key_suggest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_tree(tmp_path, "colours: {accent: '#123456'}\nfonts: {folder: fonts, body: Brand Serf}\n")
    status, err = check(tmp_path, capsys)
    assert status == 1
    assert "theme/theme.yaml:1:1: error: unknown key 'colours' in the theme (it is 'colors' here)" in err
    assert "theme/theme.yaml:2:30: error: body font 'Brand Serf' is not in 'fonts' (did you mean 'Brand Serif'?)" in err


def test_override_linking_out_of_the_tree_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = tmp_path / "tree"
    make_tree(tree)
    secret = write(tmp_path / "secret.html", "secret text")
    (tree / "templates" / "partials").mkdir(parents=True)
    (tree / "templates" / "partials" / "cover.html").symlink_to(secret)
    write(tree / "brief" / "templates" / "partials" / "covr.html", "x")
    status, err = check(tree, capsys)
    assert status == 1
    assert ("templates/partials/cover.html: error: template override 'partials/cover.html' is a link to a file "
            "outside the content tree ('tree/')") in err
    assert ("brief/templates/partials/covr.html: error: template override 'partials/covr.html' replaces no built-in "
            "template (did you mean 'partials/cover.html'?)") in err


@pytest.mark.parametrize(("expression", "message"), [
    ("{{ ''.__class__.__mro__ }}", "access to attribute '__class__' of 'str' object is unsafe"),
    ("{% for parts in figures.values() %}{{ parts[0].svg_path.parent.joinpath('x').read_text() }}{% endfor %}",
     "access to attribute 'parent' of 'PosixPath' object is unsafe"),
    ("{{ asset_url('../../secret.txt') }}", "asset_url: '../../secret.txt' is outside the briefing folder"),
])
def test_override_cannot_reach_python_or_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], expression: str, message: str
) -> None:
    """Overrides run in Jinja's sandbox: no dunder attributes, no methods of paths, no files from outside."""
    folder = make_tree(tmp_path)
    write(tmp_path / "secret.txt", "SECRET")
    write(folder / "templates" / "partials" / "web" / "timeline_figure.html", f"<figure>\n{expression}\n</figure>\n")
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["build", "brief", "--out", "out", "--variant", "html"]) == 1
    err = capsys.readouterr().err
    assert f"brief/templates/partials/web/timeline_figure.html:2: error: template: {message}" in err
    assert "SECRET" not in err
    assert not (tmp_path / "out" / "brief.html").exists()


# -- the themed build, read back -------------------------------------------------------------


@pytest.fixture(scope="module")
def themed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The themed tree built once (digital, print, handout and web editions), with a partial override."""
    root = tmp_path_factory.mktemp("themed")
    make_tree(root)
    cover = (DEFAULT_TEMPLATES_DIR / "partials" / "cover.html").read_text(encoding="utf-8")
    write(root / "templates" / "partials" / "cover.html",
          cover.replace('<div class="cover-title-block">', '<p class="cover-tagline">Independent since 1999</p>\n'
                                                          '  <div class="cover-title-block">'))
    cwd = Path.cwd()
    os.chdir(root)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SOURCE_DATE_EPOCH", "1750000000")
            status = main(["build", "--quiet", "brief", "--out", "out", "--variant", "pdf", "--variant", "print",
                           "--variant", "handout", "--variant", "html"])
    finally:
        os.chdir(cwd)
    assert status == 0
    return root


def _rgb(hex_colour: str) -> tuple[float, ...]:
    return tuple(round(int(hex_colour[i : i + 2], 16) / 255, 3) for i in (1, 3, 5))


@pytest.mark.slow
def test_logo_is_on_the_cover_and_in_the_running_heads(themed: Path) -> None:
    for name in ("brief.pdf", "brief-print.pdf"):
        with pdfplumber.open(themed / "out" / name) as pdf:
            cover = [image for image in pdf.pages[0].images if image["srcsize"] == (240, 80)]
            assert len(cover) == 1, name  # on the cover once: its running copy shows from the next page
            assert cover[0]["top"] < pdf.pages[0].height / 3  # near the top
            heads = [page.page_number for page in pdf.pages[1:]  # in the top margin
                     if any(image["srcsize"] == (240, 80) and image["bottom"] < page.height * 0.16
                            for image in page.images)]
            assert heads, f"{name}: no page carries the logo in its head"
            if name == "brief.pdf":  # every page after the cover
                assert heads == list(range(2, len(pdf.pages) + 1))
            else:  # facing pages: on the versos, with the briefing's title, away from the spine
                assert all(number % 2 == 0 for number in heads)
    with pdfplumber.open(themed / "out" / "brief-handout.pdf") as pdf:
        assert [image["srcsize"] for image in pdf.pages[0].images].count((240, 80)) == 1  # the head's, not twice
    html = (themed / "out" / "brief.html").read_text(encoding="utf-8")
    assert 'class="masthead-logo" src="data:image/png;base64,' in html


@pytest.mark.slow
def test_accent_colour_and_print_black_ink(themed: Path) -> None:
    with pdfplumber.open(themed / "out" / "brief.pdf") as pdf:
        chars = [c for page in pdf.pages for c in page.chars]
        title = [c for c in pdf.pages[0].chars if c["size"] > 20]
        assert {tuple(round(v, 3) for v in c["non_stroking_color"]) for c in title} == {_rgb(ACCENT)}
        body = [c for c in chars if c["fontname"].split("+")[-1] == "Brand-Serif" and c["text"].isalpha()]
        colours = Counter(tuple(round(v, 3) for v in c["non_stroking_color"]) for c in body)
        assert colours.most_common(1)[0][0] == _rgb("#202020")  # the theme's ink: the text
        assert colours[_rgb(ACCENT)] > 0  # the accent: citations and cross-references
    with pdfplumber.open(themed / "out" / "brief-print.pdf") as pdf:
        body = [c for page in pdf.pages for c in page.chars  # body text and links, notes and captions aside
                if c["fontname"].split("+")[-1] == "Brand-Serif" and c["text"].isalpha() and c["size"] >= 9.5]
        assert len(body) > 50
        assert {tuple(round(v, 3) for v in c["non_stroking_color"]) for c in body} == {(0.0, 0.0, 0.0, 1.0)}
        title = [c for c in pdf.pages[0].chars if c["size"] > 20]
        _c, m, _y, k = title[0]["non_stroking_color"]
        assert len(title[0]["non_stroking_color"]) == 4
        assert m > 0.8
        assert k > 0.4


@pytest.mark.slow
def test_theme_fonts_are_embedded_and_their_licence_is_in_the_manifest(themed: Path) -> None:
    with pikepdf.open(themed / "out" / "brief.pdf") as pdf:
        names = {str(font.BaseFont).split("+")[-1] for page in pdf.pages
                 for font in (page.Resources.get("/Font") or {}).values()}
    assert names == {"Brand-Serif", "Brand-Serif-Italic", "Brand-Sans", "Brand-Sans-Bold"}  # no Noto: all drawn
    manifest = json.loads((themed / "out" / "brief.manifest.json").read_text(encoding="utf-8"))
    fonts = {font["path"]: font for font in manifest["theme"]["fonts"]}
    assert fonts["theme/fonts/BrandSerif-Regular.ttf"]["family"] == "Brand Serif"
    assert "SIL Open Font License" in fonts["theme/fonts/BrandSerif-Regular.ttf"]["licence"]
    assert {entry["path"] for entry in manifest["theme"]["files"]} >= {
        "theme/theme.yaml", "theme/logo.png", "templates/partials/cover.html"}


@pytest.mark.slow
def test_the_web_edition_wears_the_theme_in_light_and_dark(themed: Path) -> None:
    """The theme's fonts travel inside the page, first in the stacks; on a dark page its accent keeps its hue."""
    html = (themed / "out" / "brief.html").read_text(encoding="utf-8")
    faces = re.findall(r'font-family: "([^"]+)";\s*font-style: (\w+);\s*font-weight: (\d+);[^}]*?'
                       r'base64,([A-Za-z0-9+/=]+)', html)
    brand = {(family, style, weight): data for family, style, weight, data in faces if family.startswith("Brand")}
    assert set(brand) >= {("Brand Serif", "normal", "400"), ("Brand Sans", "normal", "700")}
    font = TTFont(io.BytesIO(base64.b64decode(brand[("Brand Serif", "normal", "400")])))
    assert font["name"].getDebugName(1) == "Brand Serif"
    assert 60 < len(font.getBestCmap()) < 1000  # the page's characters and the Latin repertoire: a subset
    assert re.search(r'--serif: "Brand Serif", "Noto Serif"', html)
    assert re.search(r'--sans: "Brand Sans", "Noto Sans"', html)
    dark = html[html.index("@media (prefers-color-scheme: dark)"):]
    accent = re.search(r"--accent: (#[0-9a-f]{6});", dark)
    assert accent is not None
    assert colour_vision.contrast_ratio(accent.group(1), "#15191e") >= 4.5
    assert accent.group(1) != "#a9c7e8"  # not the stock colour: the theme's, lightened
    red, green, blue = (int(accent.group(1)[i : i + 2], 16) for i in (1, 3, 5))
    assert red > max(green, blue)  # a red brand stays red


def test_a_text_colour_too_pale_to_read_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_tree(tmp_path, 'colors: {accent: "#1f3b5a", ink: "#b0b0b0"}\n')
    status, err = check(tmp_path, capsys)
    assert status == 0
    assert ("theme/theme.yaml:1:34: warning: ink '#b0b0b0' stands 2.2:1 against white paper; at least 4.5:1 reads "
            "(WCAG 2 AA): choose a darker colour") in err
    assert "accent" not in err


def test_wcag_contrast_of_known_pairs() -> None:
    assert colour_vision.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert colour_vision.contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the AA grey
    assert colour_vision.lightened("#8a1538", "#15191e", 4.5) != "#8a1538"


@pytest.mark.slow
def test_partial_override_and_palette_reach_the_outputs(themed: Path) -> None:
    with pdfplumber.open(themed / "out" / "brief.pdf") as pdf:
        assert "Independent since 1999" in (pdf.pages[0].extract_text() or "")
    svgs = list((themed / ".cache").rglob("*.svg"))
    drawn = "".join(path.read_text(encoding="utf-8") for path in svgs)
    assert PALETTE[0] in drawn
    assert PALETTE[1] in drawn
    assert OKABE_ITO[0] not in drawn


@pytest.mark.slow
def test_editing_the_logo_rebuilds(themed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cwd = Path.cwd()
    os.chdir(themed)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SOURCE_DATE_EPOCH", "1750000000")
            capsys.readouterr()
            assert main(["build", "brief", "--out", "out", "--variant", "html"]) == 0
            assert main(["build", "brief", "--out", "out", "--variant", "html"]) == 0
            assert "up to date" in capsys.readouterr().err
            Image.new("RGB", (240, 80), "#0d2b5e").save(themed / "theme" / "logo.png")
            assert main(["build", "brief", "--out", "out", "--variant", "html"]) == 0
            assert "up to date" not in capsys.readouterr().err
    finally:
        os.chdir(cwd)
