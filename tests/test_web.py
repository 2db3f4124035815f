"""The web edition in a real browser: headless Chromium at phone and desktop widths, light and dark.

Screenshots are kept (in ``$BRIEFING_SCREENSHOTS`` when set, else a temporary folder) for a
person to look at; the assertions check what a reader would notice: sideways scrolling, the
marking, notes and citations that lead somewhere and back, the line length, figure sizes.
"""

from __future__ import annotations

import itertools
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from briefing.config import BuildConfig, Variant
from briefing.pipeline import build

from .browser import Browser, chromium
from .conftest import US_IRAN_DIR, ContentTree

pytestmark = pytest.mark.slow

WIDTHS = (390, 1280)
CLASSIFICATION = "UNCLASSIFIED // FOR PUBLIC RELEASE"


@pytest.fixture(scope="module")
def us_iran_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("web")
    config = BuildConfig(US_IRAN_DIR, out, (Variant.HTML,), cache_dir=tmp_path_factory.mktemp("cache"), epoch=0)
    (output,) = build(config).outputs
    return output.path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as started:
        yield started


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("BRIEFING_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(browser: Browser, path: Path, width: int, scheme: str = "light") -> Any:
    page = browser.context.new_page()  # type: ignore[attr-defined]
    page.set_viewport_size({"width": width, "height": 900})
    page.emulate_media(color_scheme=scheme, media="screen")
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page


def _in_view(page: Any, selector: str) -> bool:
    return bool(page.evaluate(
        """(selector) => {
            const box = document.querySelector(selector).getBoundingClientRect();
            return box.bottom > 0 && box.top < window.innerHeight && box.height > 0;
        }""",
        selector,
    ))


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", WIDTHS)
def test_no_sideways_scrolling_and_a_readable_measure(
    browser: Browser, us_iran_html: Path, shots: Path, width: int, scheme: str
) -> None:
    page = _open(browser, us_iran_html, width, scheme)
    page.screenshot(path=str(shots / f"us-iran-{width}-{scheme}.png"))
    page.screenshot(path=str(shots / f"us-iran-{width}-{scheme}-full.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.evaluate("document.body.scrollWidth") <= width
    measures = page.evaluate(
        """() => [...document.querySelectorAll('main section.chapter > p')].map((p) => {
            const probe = document.createElement('span');
            probe.textContent = '0'.repeat(100);
            probe.style.whiteSpace = 'nowrap';
            p.appendChild(probe);
            const ch = probe.getBoundingClientRect().width / 100;
            probe.remove();
            return p.getBoundingClientRect().width / ch;
        })"""
    )
    assert len(measures) > 20
    assert max(measures) <= 75
    if width >= 1280:
        assert min(measures) >= 55  # a desktop reader gets a full line, not a phone column
    page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_marking_is_a_banner_at_the_top_and_the_bottom(browser: Browser, us_iran_html: Path, width: int) -> None:
    page = _open(browser, us_iran_html, width)
    top, bottom = page.locator(".marking-top"), page.locator(".marking-bottom")
    assert top.inner_text().upper() == CLASSIFICATION
    assert top.is_visible()
    assert _in_view(page, ".marking-top")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    assert _in_view(page, ".marking-top")  # it stays as the reader scrolls
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert bottom.inner_text().upper() == CLASSIFICATION
    assert bottom.is_visible()
    assert _in_view(page, ".marking-bottom")
    page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_notes_link_to_their_text_and_back(browser: Browser, us_iran_html: Path, shots: Path, width: int) -> None:
    page = _open(browser, us_iran_html, width)
    page.locator("a.note-ref").first.click()
    assert page.evaluate("location.hash") == "#fn-1"
    assert page.evaluate("document.querySelector(':target').id") == "fn-1"
    assert _in_view(page, "#fn-1")
    page.screenshot(path=str(shots / f"us-iran-{width}-note.png"))
    page.locator("#fn-1 a.note-back").click()
    assert page.evaluate("location.hash") == "#fnref-1"
    assert _in_view(page, "#fnref-1")
    page.screenshot(path=str(shots / f"us-iran-{width}-note-back.png"))
    page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_citations_link_to_the_bibliography_and_back(browser: Browser, us_iran_html: Path, width: int) -> None:
    page = _open(browser, us_iran_html, width)
    citation = page.locator("main section.chapter a.citation").first
    citation_id = citation.get_attribute("id")
    href = citation.get_attribute("href")
    citation.click()
    assert page.evaluate("location.hash") == href
    assert page.evaluate("document.querySelector(':target').tagName") == "LI"
    assert _in_view(page, href)
    back = page.locator(f'{href} .cited-in a[href="#{citation_id}"]')
    assert back.count() == 1
    back.click()
    assert page.evaluate("location.hash") == f"#{citation_id}"
    assert _in_view(page, f"#{citation_id}")
    page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_figures_are_never_larger_than_in_print(browser: Browser, us_iran_html: Path, shots: Path, width: int) -> None:
    page = _open(browser, us_iran_html, width)
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('figure img')].map((img) => [img.clientWidth, img.naturalWidth])"""
    )
    assert sizes
    for shown, natural in sizes:
        assert 0 < shown <= natural + 0.5
    # The timeline's labels: at print size, so no larger than the body text around them.
    assert max(natural for _, natural in sizes) <= 160 / 25.4 * 96 + 1  # A4 text width, in CSS pixels
    # ... and not much smaller on a phone either: the figure scrolls sideways in its own box instead.
    timelines = page.evaluate("""() => [...document.querySelectorAll('.timeline-figure img')].map(
        (img) => [img.clientWidth, img.naturalWidth])""")
    assert timelines, "the US–Iran briefing has timeline figures"
    assert all(shown >= 0.9 * natural for shown, natural in timelines)
    if width < 600:
        page.locator(".timeline-figure").first.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"us-iran-{width}-figure.png"))
    page.close()


def test_sidenotes_beside_the_text_on_a_wide_screen_only(browser: Browser, us_iran_html: Path, shots: Path) -> None:
    wide = _open(browser, us_iran_html, 1280)
    wide.locator("#fnref-1").scroll_into_view_if_needed()
    wide.screenshot(path=str(shots / "us-iran-1280-sidenote.png"))
    note = wide.evaluate(
        """() => {
            const note = document.querySelector('#fnref-1 + .sidenote').getBoundingClientRect();
            const text = document.querySelector('main').getBoundingClientRect();
            return [note.left, note.right, text.right, window.innerWidth];
        }"""
    )
    left, right, text_right, viewport = note
    assert left >= text_right
    assert right <= viewport
    wide.close()
    narrow = _open(browser, us_iran_html, 390)
    assert not narrow.locator("#fnref-1 + .sidenote").is_visible()
    narrow.close()


def test_nothing_is_fetched_and_nothing_runs(browser: Browser, us_iran_html: Path) -> None:
    browser.requests.clear()
    page = _open(browser, us_iran_html, 1280)
    assert browser.requests == [us_iran_html.as_uri()]
    assert page.evaluate("document.scripts.length") == 0
    fonts = page.evaluate("""async () => { await document.fonts.ready;
        return [...document.fonts].filter((f) => f.status === 'loaded').map((f) => f.family); }""")
    assert {"Noto Serif", "Noto Sans"} <= {family.strip('"') for family in fonts}
    page.close()


def test_landmarks_headings_language_and_alt_text(browser: Browser, us_iran_html: Path) -> None:
    page = _open(browser, us_iran_html, 1280)
    assert page.evaluate("document.documentElement.lang") == "en"
    levels = page.evaluate("() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map((h) => +h.tagName[1])")
    assert levels[0] == 1
    assert levels.count(1) == 1
    assert all(after <= before + 1 for before, after in itertools.pairwise(levels))
    for role in ("banner", "navigation", "main", "contentinfo"):
        assert page.get_by_role(role).count() >= 1, role
    assert page.evaluate("[...document.images].every((img) => img.alt.trim().length > 0)")
    assert page.locator('main span[lang="fa"]').inner_text() == "علی خامنه‌ای"  # marked in the content
    page.keyboard.press("Tab")
    skip = page.evaluate("[document.activeElement.textContent, document.activeElement.getAttribute('href')]")
    assert skip == ["Skip to the text", "#main"]
    page.keyboard.press("Enter")
    assert _in_view(page, "#main")
    page.close()


def test_dark_text_is_readable(browser: Browser, us_iran_html: Path) -> None:
    page = _open(browser, us_iran_html, 1280, "dark")
    colours = page.evaluate(
        """() => ['main p', 'main h2', 'a.citation', '.toc a', 'figcaption', '.cited-in'].map((s) => {
            const element = document.querySelector(s);
            return [getComputedStyle(element).color, getComputedStyle(document.documentElement).backgroundColor];
        })"""
    )
    for foreground, background in colours:
        assert _contrast(foreground, background) >= 4.5, (foreground, background)
    page.close()


def test_a_wide_table_scrolls_in_its_own_box_on_a_phone(
    browser: Browser, content_tree: ContentTree, tmp_path: Path, shots: Path
) -> None:
    header = " | ".join(f"Column {n}" for n in range(12))
    row = " | ".join("Measurements" for _ in range(12))
    folder = content_tree({"sections/one.md": textwrap.dedent(f"""\
        # One {{#sec-one}}

        Text citing [@ref1].[^a]

        | {header} |
        |{"---|" * 12}
        | {row} |

        Table: A wide table {{#tbl-wide}}

        [^a]: A note.
        """)})
    (output,) = build(BuildConfig(folder, tmp_path / "out", (Variant.HTML,), cache_dir=tmp_path / "cache", epoch=0)).outputs
    page = _open(browser, output.path, 390)
    page.screenshot(path=str(shots / "wide-table-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.evaluate("""() => { const box = document.querySelector('#sec-one ~ .table-scroll');
        return [box.scrollWidth, box.clientWidth, getComputedStyle(box).overflowX]; }""")
    assert box[0] > box[1]
    assert box[2] == "auto"
    page.close()


def _contrast(foreground: str, background: str) -> float:
    def luminance(colour: str) -> float:
        values = [float(v) for v in colour[colour.index("(") + 1: colour.index(")")].replace(",", " ").split()[:3]]
        linear = [(c / 255) / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in values]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_the_print_stylesheet_prints_the_text_not_the_navigation(browser: Browser, us_iran_html: Path, shots: Path) -> None:
    page = _open(browser, us_iran_html, 800)
    page.emulate_media(media="print")
    page.screenshot(path=str(shots / "us-iran-print.png"))
    assert not page.locator("nav.toc").is_visible()
    assert not page.locator(".sidenote").first.is_visible()
    assert page.locator("#notes").is_visible()
    assert page.locator(".marking-top").evaluate("(e) => getComputedStyle(e).position") == "static"
    page.close()


@pytest.mark.parametrize("width", [768, 1024, 1440])
def test_in_between_widths_never_scroll_sideways(browser: Browser, us_iran_html: Path, shots: Path, width: int) -> None:
    page = _open(browser, us_iran_html, width)
    page.screenshot(path=str(shots / f"us-iran-{width}-light.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.close()
