"""The web edition's HTML, read as data: unique ids, links with targets, notes in reading order, fonts inline."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import Markup

from briefing.config import BuildConfig, Variant
from briefing.pipeline import build
from briefing.render_web import backlinks, demote_headings, scrolling_tables, sidenote_copy

from .conftest import ContentTree
from .helpers import briefing_yaml


class _Page(HTMLParser):
    """Ids, in-page links, headings, images and scripts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []
        self.headings: list[int] = []
        self.images: list[dict[str, str | None]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        if values.get("id"):
            self.ids.append(str(values["id"]))
        href = values.get("href")
        if href and href.startswith("#"):
            self.links.append(href[1:])
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "img":
            self.images.append(values)


def _read(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def _web(folder: Path, tmp_path: Path) -> str:
    config = BuildConfig(folder, tmp_path / "out", (Variant.HTML,), cache_dir=tmp_path / "cache", epoch=0)
    (output,) = build(config).outputs
    return output.path.read_text(encoding="utf-8")


NOTES = {
    "briefing.yaml": """\
        title: Test Briefing
        date: "2025-06-01"
        classification: SECRET // NOFORN
        summary: |
          - A judgment with a note.[^k]

            [^k]: The summary's note.
        sections: [sections/one.md, sections/two.md]
        references: refs.yaml
        timeline: timeline.yaml
        """,
    "sections/one.md": """\
        # One {#sec-one}

        First citing [@ref1].[^a] Again [@ref1, p. 4].

        ## Sub {#sec-sub}

        | A | B |
        |---|---|
        | 1 | 2 |

        [^a]: The first section's note, citing [@ref1].
        """,
    "sections/two.md": """\
        # Two

        ### Minor

        Second.[^b]

        [^b]: The second section's note.
        """,
}


def test_notes_are_numbered_in_reading_order_and_link_both_ways(content_tree: ContentTree, tmp_path: Path) -> None:
    html = _web(content_tree(NOTES), tmp_path)
    numbers = re.findall(r'<li id="fn-(\d+)">.*?<span class="note-body">(.*?)</span></li>', html, re.S)
    assert [(n, re.sub(r"<[^>]+>", "", body)) for n, body in numbers] == [
        ("1", "The summary’s note."), ("2", "The first section’s note, citing (Doe 2001)."),
        ("3", "The second section’s note."),
    ]
    for n in ("1", "2", "3"):
        assert f'id="fnref-{n}" href="#fn-{n}"' in html
        assert f'href="#fnref-{n}"' in html
    page = _read(html)
    assert len(page.ids) == len(set(page.ids)), "an id appears twice (a sidenote copied one?)"
    assert set(page.links) <= set(page.ids)


def test_the_page_is_one_document_with_a_heading_outline(content_tree: ContentTree, tmp_path: Path) -> None:
    html = _web(content_tree(NOTES), tmp_path)
    page = _read(html)
    assert page.headings[0] == 1
    assert page.headings.count(1) == 1
    assert all(after <= before + 1 for before, after in zip(page.headings, page.headings[1:], strict=False))
    assert "script" not in page.tags
    assert html.count("SECRET // NOFORN</p>") == 2  # the banner at the top and at the bottom
    assert '<div class="table-scroll" tabindex="0"><table>' in html
    assert all(image.get("alt") for image in page.images)


def test_citations_name_where_they_stand(content_tree: ContentTree, tmp_path: Path) -> None:
    html = _web(content_tree(NOTES), tmp_path)
    entry = re.search(r'<li id="ref-ref1">.*?</li>', html, re.S)
    assert entry is not None
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", entry[0]))
    assert text.endswith("Cited in § 1 (1, 2, 3), Chronology")


def test_fonts_travel_inside_the_page_as_woff2(content_tree: ContentTree, tmp_path: Path) -> None:
    plain = _web(content_tree(), tmp_path / "plain")
    faces = re.findall(r'font-family: "([^"]+)";\s*font-style: (\w+);\s*font-weight: (\d+);.*?'
                       r'src: url\("data:font/woff2;base64,([A-Za-z0-9+/=]+)"\)', plain, re.S)
    assert {(family, style, weight) for family, style, weight, _ in faces} == {
        ("Noto Serif", "normal", "400"), ("Noto Serif", "italic", "400"), ("Noto Serif", "normal", "700"),
        ("Noto Serif", "italic", "700"), ("Noto Sans", "normal", "400"), ("Noto Sans", "normal", "700"),
    }
    for *_, data in faces:
        font = base64.b64decode(data)
        assert font.startswith(b"wOF2")
        assert len(font) < 60_000  # a subset, not the 600 kB face
    arabic = _web(content_tree({"sections/one.md": "# One\n\nKhamenei (علی خامنه‌ای) [@ref1].\n"}), tmp_path / "ar")
    assert 'font-family: "Noto Naskh Arabic"' in arabic
    assert 'font-family: "Noto Serif Hebrew"' not in arabic  # a fallback face only when the page needs it
    hebrew = _web(content_tree({"sections/one.md": "# One\n\nThe Knesset (כנסת) \u2192 a vote [@ref1].\n"}),
                  tmp_path / "he")
    assert 'font-family: "Noto Serif Hebrew"' in hebrew
    assert 'font-family: "Noto Sans Hebrew"' in hebrew
    assert re.search(r'font-family: "Noto Sans (Symbols|Symbols 2|Math)"', hebrew)  # the arrow
    assert "url(" not in re.sub(r'url\("data:[^"]+"\)', "", arabic)  # nothing to fetch


def test_no_classification_no_banner(content_tree: ContentTree, tmp_path: Path) -> None:
    files = {"briefing.yaml": briefing_yaml(classification=None, timeline=None)}
    html = _web(content_tree(files), tmp_path)
    assert 'class="marking' not in html


@pytest.mark.parametrize(("html", "expected"), [
    ('<a class="citation" id="cite-3" href="#ref-x">(X 2001)</a>, see <a href="https://e.org">e.org</a>',
     "(X 2001), see e.org"),
    ('<span class="citation citation-note" id="cite-4">Doe</span>', '<span class="citation citation-note">Doe</span>'),
])
def test_a_sidenote_copy_has_no_links_or_ids(html: str, expected: str) -> None:
    assert sidenote_copy(Markup(html)) == expected


def test_section_headings_step_down_and_tables_scroll() -> None:
    assert demote_headings(Markup('<h1 id="a">A</h1><h2>B</h2><h3>C</h3>')) == '<h2 id="a">A</h2><h3>B</h3><h4>C</h4>'
    assert demote_headings(Markup("<h1>A</h1><h3>B</h3><h6>C</h6>")) == "<h2>A</h2><h3>B</h3><h4>C</h4>"  # no gaps
    assert scrolling_tables(Markup("<table><tr><td>1</td></tr></table>")).endswith("</table></div>")


def test_backlinks_group_citations_by_place() -> None:
    places = {0: "key-judgments", 1: "§\u00a01.1", 2: "§\u00a01.1", 3: "chronology", 4: "§\u00a01.1"}
    groups = backlinks((0, 1, 2, 3, 4), places)
    assert [(g.place, g.citations) for g in groups] == [
        ("key-judgments", (0,)), ("§\u00a01.1", (1, 2)), ("chronology", (3,)), ("§\u00a01.1", (4,)),
    ]


def test_a_run_in_another_language_carries_its_lang(content_tree: ContentTree, tmp_path: Path) -> None:
    folder = content_tree({"sections/one.md": "# One\n\nKhamenei ([علی خامنه‌ای]{lang=fa}) [@ref1].\n"})
    assert '(<span lang="fa">علی خامنه‌ای</span>)' in _web(folder, tmp_path)


def test_a_lang_that_is_no_language_tag_is_located(content_tree: ContentTree, tmp_path: Path) -> None:
    from briefing.errors import ContentError, Diagnostics

    folder = content_tree({"sections/one.md": "# One\n\nA [run]{lang=\"not a tag\"} [@ref1].\n"})
    report = Diagnostics()
    with pytest.raises(ContentError):
        build(BuildConfig(folder, tmp_path / "out", (Variant.HTML,), cache_dir=tmp_path / "cache", epoch=0), report)
    assert [str(d) for d in report] == [
        f"{folder / 'sections/one.md'}:3:1: error: lang='not a tag' is not a BCP 47 tag such as 'fa' or 'ar-EG'"
    ]


def test_a_note_style_puts_its_citations_in_the_numbered_notes(content_tree: ContentTree, tmp_path: Path) -> None:
    files = {
        "briefing.yaml": briefing_yaml(classification=None, citation_style="chicago-note-bibliography"),
        "sections/one.md": "# One\n\nA claim [@ref1, p. 4]. A footnote.[^a]\n\n[^a]: Its text.\n",
    }
    html = _web(content_tree(files), tmp_path)
    notes = re.findall(r'<li id="fn-(\d+)">.*?<span class="note-body">(.*?)</span></li>', html, re.S)
    texts = [re.sub(r"<[^>]+>", "", body) for _, body in notes]
    assert [n for n, _ in notes] == ["1", "2"]  # the citation, the footnote: the chronology's source is in its cell
    assert re.search(r'<td class="chronology-sources"><span class="citation citation-source" id="cite-\d+">Doe, ', html)
    assert texts[0].startswith("Jane Doe, ")
    assert "4" in texts[0]
    assert texts[1] == "Its text."
    page = _read(html)
    assert len(page.ids) == len(set(page.ids))
    assert set(page.links) <= set(page.ids)
    assert 'id="cite-0"' in html
    assert 'href="#cite-0"' in html


def test_the_web_edition_speaks_the_briefing_s_language(content_tree: ContentTree, tmp_path: Path) -> None:
    files = {**NOTES, "briefing.yaml": NOTES["briefing.yaml"].replace("classification:", "language: fr\n        classification:")}
    html = _web(content_tree(files), tmp_path)
    assert '<html lang="fr">' in html
    for words in ("Aller au texte", ">Notes</h2>", "Cité dans", ">Chronologie</h2>", "1 juin 2025"):
        assert words in html, words
    body = html.split("<body>", 1)[1]
    for english in ("Skip to the text", "Cited in", "Key judgments", "June", "Notes ", "Back to"):
        assert english not in body, english
