"""The PDF's tags, read back as a screen reader would: links, tables, notes, contents, languages."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest
import regex

from briefing.config import BuildConfig, Variant
from briefing.pipeline import BuildResult, build

from .conftest import US_IRAN_DIR, ContentTree
from .helpers import pdf_of, plumber

pytestmark = pytest.mark.slow


def _elements(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    """Every structure element, in reading order."""
    found: list[pikepdf.Dictionary] = []

    def walk(element: pikepdf.Object) -> None:
        if not isinstance(element, pikepdf.Dictionary) or "/S" not in element:
            return
        found.append(element)
        kids = element.get("/K")
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            walk(kid)

    for top in pdf.Root.StructTreeRoot.K:
        walk(top)
    return found


def _descendants(element: pikepdf.Dictionary) -> Iterator[pikepdf.Dictionary]:
    kids = element.get("/K")
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield kid
            yield from _descendants(kid)


def _marked_ids(element: pikepdf.Dictionary) -> Iterator[tuple[int, int]]:
    """(page object number, MCID) of the content under an element."""
    for node in [element, *_descendants(element)]:
        kids = node.get("/K")
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, int):
                yield node.Pg.objgen[0], int(kid)


def _named_pages(pdf: pikepdf.Pdf) -> dict[str, int]:
    pages = {page.objgen[0]: number for number, page in enumerate(pdf.pages, 1)}
    names = pdf.Root.Names.Dests.Names
    return {str(names[i]): pages[names[i + 1][0].objgen[0]] for i in range(0, len(names), 2)}


@pytest.fixture(scope="module")
def us_iran(us_iran_build: BuildResult) -> Iterator[pikepdf.Pdf]:
    with pikepdf.open(pdf_of(us_iran_build)) as pdf:
        yield pdf


def test_links_say_where_they_lead(us_iran: pikepdf.Pdf) -> None:
    named = _named_pages(us_iran)
    descriptions: dict[str, set[str]] = defaultdict(set)
    for page in us_iran.pages:
        for annot in page.get("/Annots", []):
            if annot.get("/Subtype") == "/Link" and "/Dest" in annot:
                descriptions[str(annot.Dest)].add(str(annot.Contents))
    assert len(descriptions) > 100
    assert not [d for ds in descriptions.values() for d in ds if re.match(r"(ref|cite|sec|fig|tbl|fn)-", d)]
    (cnn,) = descriptions["ref-cnn2025"]
    assert cnn.startswith("Reference: CNN. 2025. “A US Strike on Iran Could Open")
    sections = {dest: d for dest, (d, *_) in descriptions.items() if dest.startswith("sec-")}
    assert len(sections) >= 10
    for dest, description in sections.items():
        number = re.fullmatch(r"Section \d+(?:\.\d+)? \S.*, page (\d+)", description)
        assert number, description
        assert int(number.group(1)) == named[dest], description  # the page the heading is on
    backlinks = [d for dest, ds in descriptions.items() if dest.startswith("cite-") for d in ds]
    assert backlinks
    assert all(re.fullmatch(r"Citation on page \d+", d) for d in backlinks)
    assert {"Table 1", "Figure 1"} <= {d.split(",")[0] for ds in descriptions.values() for d in ds}


def test_the_chronology_is_one_table_with_its_header_read_once(us_iran: pikepdf.Pdf) -> None:
    elements = _elements(us_iran)
    tables = [e for e in elements if e.S == "/Table"]
    chronology = max(tables, key=lambda t: sum(1 for e in _descendants(t) if e.S == "/TR"))
    rows = [e for e in _descendants(chronology) if e.S == "/TR"]
    assert len({row.Pg.objgen for row in rows}) >= 3  # laid out over several pages…
    assert len(tables) == 3  # …and still one of the briefing's three tables
    heads = [e for e in _descendants(chronology) if e.S == "/THead"]
    assert len(heads) == 1
    assert len(rows) == 1 + sum(1 for line in (US_IRAN_DIR / "timeline.yaml").read_text().splitlines()
                                if re.match(r"\s*- id:", line))
    header_ids = {str(e.ID) for e in _descendants(heads[0]) if e.S == "/TH"}
    cells = [e for e in _descendants(chronology) if e.S == "/TD"]
    named = [{str(h) for h in cell.A.Headers} for cell in cells]
    assert cells
    assert all(len(headers) == 1 and headers <= header_ids for headers in named)  # its column's
    assert set().union(*named) == header_ids


def test_repeated_headers_are_drawn_but_not_read(us_iran_build: BuildResult) -> None:
    with plumber(pdf_of(us_iran_build)) as pdf:
        header_pages = [p for p in pdf.pages if re.search(r"^Date\s+Event\s+Sources$", p.extract_text(), re.M)]
        assert len(header_pages) >= 3
        for page in header_pages[1:]:
            date = next(c for c in page.chars if c["text"] == "D" and c["fontname"].endswith("Bold"))
            assert date.get("mcid") is None  # an artifact: outside the tags


def test_footnotes_are_notes_and_the_contents_a_toc(us_iran: pikepdf.Pdf) -> None:
    counts = Counter(str(e.S) for e in _elements(us_iran))
    footnotes = sum(len(re.findall(r"^\[\^[^\]]+\]:", p.read_text(), re.M)) for p in US_IRAN_DIR.glob("sections/*.md"))
    assert footnotes >= 2
    assert counts["/Note"] == footnotes
    note_ids = [str(e.ID) for e in _elements(us_iran) if e.S == "/Note"]
    assert len(set(note_ids)) == footnotes  # PDF/UA-1 asks each Note for an ID of its own
    assert counts["/TOC"] == 1
    toc = next(e for e in _elements(us_iran) if e.S == "/TOC")
    items = [e for e in _descendants(toc) if e.S == "/TOCI"]
    assert len(items) >= 15
    assert all(any(d.S == "/Link" for d in _descendants(item)) for item in items)
    assert not [e for e in _descendants(toc) if e.S in ("/L", "/LI", "/LBody")]


def test_persian_is_tagged_persian(us_iran_build: BuildResult, us_iran: pikepdf.Pdf) -> None:
    persian = [e for e in _elements(us_iran) if str(e.get("/Lang", "")) == "fa"]
    assert persian
    tagged = {ids for e in persian for ids in _marked_ids(e)}
    with plumber(pdf_of(us_iran_build)) as pdf:
        arabic_script = [(page.page_obj.pageid, c["mcid"]) for page in pdf.pages for c in page.chars
                         if regex.match(r"\p{Script=Arabic}", c["text"])]
    assert arabic_script
    assert set(arabic_script) <= tagged


def test_a_line_with_persian_keeps_the_leading(us_iran_build: BuildResult) -> None:
    with plumber(pdf_of(us_iran_build)) as pdf:
        page = next(p for p in pdf.pages if any(regex.match(r"\p{Script=Arabic}", c["text"]) for c in p.chars))
        baselines = sorted({round(c["matrix"][5], 2) for c in page.chars if 10 < c["size"] < 11}, reverse=True)  # 10.5 pt body
        persian = {round(c["matrix"][5], 2) for c in page.chars if regex.match(r"\p{Script=Arabic}", c["text"])}
    (line,) = persian
    at = baselines.index(line)
    gaps = [round(a - b, 2) for a, b in zip(baselines[at - 2:at + 3], baselines[at - 1:at + 3], strict=False)]
    assert len(gaps) == 4
    assert max(gaps) - min(gaps) < 0.1, gaps  # the lines around it are as far apart as any two


def test_runs_in_other_scripts_are_found_in_prose_and_data(content_tree: ContentTree, tmp_path: Path) -> None:
    folder = content_tree({
        "sections/one.md": "# One\n\nThe Kremlin (Москва) and the Knesset (הכנסת) spoke [@ref1].\n",
        "timeline.yaml": """\
            events:
              - id: start
                date: "2001-02-03"
                title: Talks in Muscat (مسقط)
                sources: [ref1]
            """,
    })
    config = BuildConfig(folder, tmp_path / "out", (Variant.PDF, Variant.HTML), cache_dir=tmp_path / "cache", epoch=0)
    outputs = {o.path.suffix: o.path for o in build(config).outputs}
    html = outputs[".html"].read_text(encoding="utf-8")
    for marked in ('<span lang="ru">Москва</span>', '<span lang="he">הכנסת</span>', '<span lang="ar">مسقط</span>'):
        assert marked in html
    with pikepdf.open(outputs[".pdf"]) as pdf:
        languages = Counter(str(e.Lang) for e in _elements(pdf) if "/Lang" in e)
    assert {"ru", "he", "ar"} <= set(languages)  # the chronology's title too


def test_the_starter_s_tags_too(starter_build: BuildResult) -> None:
    """A second briefing, so the box walk and the engine's tags are matched on more than one layout."""
    with pikepdf.open(pdf_of(starter_build)) as pdf:
        counts = Counter(str(e.S) for e in _elements(pdf))
        contents = [str(a.Contents) for page in pdf.pages for a in page.get("/Annots", []) if "/Dest" in a]
    assert counts["/Note"] == 1
    assert counts["/TOC"] == 1
    assert counts["/Table"] == 3  # the options table, the chronology and the revision history
    assert contents
    assert not [c for c in contents if re.match(r"(ref|cite|sec|fig|tbl)-", c)]


@pytest.mark.parametrize(("target", "markup", "link_text", "page", "said"), [
    ("ref-kinzer2003", '<li id="ref-kinzer2003">Kinzer, Stephen. 2003. <i>All the Shah’s Men</i>. Wiley. '
     '<a class="url" href="https://example.org/x">https://example.org/x</a> '
     '<span class="cited-on">cited on pp. <a href="#cite-1"></a></span></li>',
     "(Kinzer 2003)", 5, "Reference: Kinzer, Stephen. 2003. All the Shah’s Men. Wiley."),
    ("sec-oman", '<h2 id="sec-oman"><span class="heading-number">3.1</span> Oman’s role</h2>',
     "Section\u00a03.1", 6, "Section 3.1 Oman’s role, page 6"),
    ("sec-data", '<h1 id="sec-data"><span class="heading-number">Appendix\u00a0A</span> Data</h1>',
     "Appendix\u00a0A", 7, "Appendix A Data, page 7"),
    ("chronology", '<section id="chronology"><h1>Chronology</h1><table/></section>', "", 14, "Chronology, page 14"),
    ("fig-timeline", '<figure id="fig-timeline"><svg/></figure>', "Figure\u00a01", 5, "Figure 1, page 5"),
    ("cite-12", '<a class="citation" id="cite-12" href="#ref-x">(X 2001)</a>', "", 9, "Citation on page 9"),
])
def test_a_link_is_described_by_what_it_leads_to(target: str, markup: str, link_text: str, page: int, said: str) -> None:
    from xml.etree import ElementTree

    from briefing.config import DEFAULT_TEMPLATES_DIR
    from briefing.i18n import load_language
    from briefing.pdf_tags import link_description

    language = load_language("en", DEFAULT_TEMPLATES_DIR)
    assert link_description(target, ElementTree.fromstring(markup), link_text, page, language) == said
