"""Document parts a reader checks: appendices, lists of figures and tables, revision history, image sizes."""

from __future__ import annotations

import contextlib
import json
import re
import textwrap
from pathlib import Path

import pdfplumber
import pytest

from briefing.config import PAGE_GEOMETRY, BuildConfig, Variant
from briefing.errors import ContentError, Diagnostics
from briefing.image_size import image_size
from briefing.model import ImageSize, Paper
from briefing.pipeline import BuildResult, check

from .conftest import MINIMAL_FILES, ContentTree, build_once
from .helpers import outline_titles, output_named, plumber, plumber_page_texts, solid_png, toc_entries

FILLER = "\n\n".join(["A paragraph that takes room on the page, as a briefing's prose does [@ref1]. " * 6] * 7)

PARTS_FILES = {
    "briefing.yaml": """\
        title: Parts of a briefing
        date: "2025-06-01"
        version: "1.0"
        classification: UNCLASSIFIED
        sections: [sections/one.md]
        appendices: [appendices/a.md, appendices/b.md]
        lists: [figures]
        lot: true
        revisions:
          - {date: "2025-05-01", version: "0.9", note: Draft for comment.}
          - {date: "2025-06-01", version: "1.0", note: "First issue, with the \\"method\\" appendix."}
        references: refs.yaml
        timeline: timeline.yaml
        """,
    "sections/one.md": """\
        # One {#sec-one}

        Text citing [@ref1]; the method is in @sec-method and the tables in @sec-data-tables.

        ::: {#fig-t .timeline}
        Events of the period [@ref1].
        :::

        FILLER

        ![A grey box](images/box.png){#fig-box width=40%}

        | A | B |
        |---|---|
        | 1 | 2 |

        Table: Numbers in the text {#tbl-n}
        """,
    "appendices/a.md": """\
        # Method {#sec-method}

        How it was done [@ref1].

        ## Detail {#sec-detail}

        FILLER
        """,
    "appendices/b.md": """\
        # Data {#sec-data}

        ## Tables {#sec-data-tables}

        | X | Y |
        |---|---|
        | 3 | 4 |

        Table: Data of the appendix

        ![A tall box](images/box.png){height=30mm}

        ![A short box](images/box.png){height=10% width=200px}
        """,
}


@pytest.fixture(scope="session")
def parts_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The parts briefing in the digital, print, booklet and web editions, built once."""
    folder = tmp_path_factory.mktemp("parts") / "parts"
    for relative, text in {**MINIMAL_FILES, **PARTS_FILES}.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).replace("FILLER", FILLER), encoding="utf-8")
    (folder / "images").mkdir()
    (folder / "images" / "box.png").write_bytes(solid_png(400, 200, (128, 128, 128)))
    return build_once(tmp_path_factory, folder, (Variant.PDF, Variant.PRINT, Variant.BOOKLET, Variant.HTML))


def _heading_page(pages: list[str], heading: str) -> int:
    """The page (1-based) a heading opens on: its own line, not a contents line with leaders."""
    found = [n for n, text in enumerate(pages, 1) if any(line.strip() == heading for line in text.splitlines())]
    assert found, heading
    return found[0]


def _contents(pages: list[str], title: str) -> list[tuple[str | None, str, int]]:
    page = next(text for text in pages if any(line.strip() == title for line in text.splitlines()))
    lines = page.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == title)
    return toc_entries("\n".join(lines[start + 1:]))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["parts.pdf", "parts-print.pdf"])
def test_appendices_are_lettered_in_the_contents_with_their_pages(parts_build: BuildResult, name: str) -> None:
    pages = plumber_page_texts(output_named(parts_build, name))
    entries = {title: page for _, title, page in _contents(pages, "Contents")}
    assert entries["Appendix A Method"] == _heading_page(pages, "Appendix A Method")
    assert entries["Appendix B Data"] == _heading_page(pages, "Appendix B Data")
    assert "A.1 Detail" in entries  # numbered inside the appendix
    assert "B.1 Tables" in entries
    order = [title for _, title, _ in _contents(pages, "Contents")]
    # after the chronology, before the references
    assert order.index("Chronology") < order.index("Appendix A Method") < order.index("References")
    assert _heading_page(pages, "Chronology") < entries["Appendix A Method"] < _heading_page(pages, "References")
    outline = [(level, " ".join(title.split())) for level, title in outline_titles(output_named(parts_build, name))]
    assert outline[-5:] == [(1, "Appendix A Method"), (2, "A.1 Detail"), (1, "Appendix B Data"), (2, "B.1 Tables"),
                            (1, "References")]


@pytest.mark.slow
def test_cross_references_to_appendices_name_them(parts_build: BuildResult) -> None:
    text = " ".join(" ".join(plumber_page_texts(output_named(parts_build, "parts.pdf"))).split())
    assert "the method is in Appendix A and the tables in Appendix B.1." in text
    assert "Section A" not in text


@pytest.mark.slow
def test_appendix_pages_carry_its_running_head(parts_build: BuildResult) -> None:
    mm = 72 / 25.4
    path = output_named(parts_build, "parts.pdf")
    page_number = _heading_page(plumber_page_texts(path), "Appendix B Data")
    with plumber(path) as pdf:
        page = pdf.pages[page_number - 1]
        head = [w["text"] for w in page.extract_words() if 15 * mm < w["top"] < 24 * mm and w["x0"] > page.width / 2]
    assert " ".join(head) == "Appendix B Data"


@pytest.mark.slow
def test_lists_of_figures_and_tables_name_the_pages_of_their_captions(parts_build: BuildResult) -> None:
    pages = plumber_page_texts(output_named(parts_build, "parts.pdf"))
    figures = _contents(pages, "List of figures")
    titles = [title for _, title, _ in figures]
    assert titles[:3] == ["Figure 1 Events of the period", "Figure 2 A grey box", "Figure 3 A tall box"]
    tables = _contents(pages, "List of tables")
    assert [title for _, title, _ in tables][:2] == ["Table 1 Numbers in the text", "Table 2 Data of the appendix"]
    for _, title, page in figures:  # the list of tables follows: its entries are read here too
        label, number = title.split()[:2]
        caption_pages = [n for n, text in enumerate(pages, 1) if f"{label} {number}. " in text]
        assert caption_pages == [page], title


@pytest.mark.slow
def test_revision_history_follows_the_contents_and_is_in_the_manifest(parts_build: BuildResult) -> None:
    pages = plumber_page_texts(output_named(parts_build, "parts.pdf"))
    text = " ".join(pages[1:4])
    assert "Revision history" in text
    assert "1 May 2025 0.9 Draft for comment." in " ".join(text.split())
    manifest = json.loads(output_named(parts_build, "parts.pdf").with_name("parts.manifest.json").read_text(encoding="utf-8"))
    assert manifest["revisions"] == [
        {"date": "2025-05-01", "version": "0.9", "note": "Draft for comment."},
        {"date": "2025-06-01", "version": "1.0", "note": "First issue, with the \u201cmethod\u201d appendix."},
    ]


@pytest.mark.slow
def test_image_attributes_size_the_image(parts_build: BuildResult) -> None:
    path = output_named(parts_build, "parts.pdf")
    text_width_pt = PAGE_GEOMETRY[Paper.A4].text_width_mm * 72 / 25.4
    with plumber(path) as pdf:  # the raster images in reading order: figures 2, 3 and 4 (1 is drawn)
        images = [image for page in pdf.pages for image in sorted(page.images, key=lambda i: i["top"])]
    sizes = {f"Figure {n}. ": [(i["x1"] - i["x0"], i["bottom"] - i["top"])] for n, i in enumerate(images, 2)}
    assert len(images) == 3
    (width, height), = sizes["Figure 2. "]
    assert width == pytest.approx(0.4 * text_width_pt, abs=0.5)  # width=40%
    assert height == pytest.approx(width / 2, abs=0.5)  # proportions kept
    (width, height), = sizes["Figure 3. "]
    assert height == pytest.approx(30 * 72 / 25.4, abs=0.5)  # height=30mm
    assert width == pytest.approx(2 * height, abs=0.5)
    (width, height), = sizes["Figure 4. "]  # height=10% width=200px: fitted inside both, not distorted
    box_height = 0.1 * PAGE_GEOMETRY[Paper.A4].text_height_mm * 72 / 25.4
    assert min(width, 2 * height) == pytest.approx(min(200 * 0.75, 2 * box_height), abs=0.5)
    assert width == pytest.approx(2 * height, abs=0.5)


@pytest.mark.slow
def test_booklet_and_web_editions_hold_the_appendices(parts_build: BuildResult) -> None:
    booklet = " ".join(plumber_page_texts(output_named(parts_build, "parts-booklet.pdf")))
    assert "Appendix A Method" in booklet
    html = output_named(parts_build, "parts.html").read_text(encoding="utf-8")
    assert re.search(r'<a href="#sec-method"><span class="toc-number">Appendix A</span> Method</a>', html)
    assert html.index('id="chronology"') < html.index('id="sec-method"') < html.index('id="references"')
    assert 'href="#sec-data-tables">Appendix&nbsp;B.1</a>' in html
    assert 'class="revisions"' in html.split('class="colophon"')[1]
    # the list of figures, in the web edition's contents, links each figure
    listed = html.split('id="list-of-figures"')[1].split("</ol>")[0]
    assert re.search(r'<a href="#fig-[\w-]+"><span class="toc-number">Figure&nbsp;1</span> ', listed), listed
    assert re.search(r'<img src="data:image/png;base64,[^"]+" alt="A grey box" class="sized" style="width: 40%; height: auto">',
                     html)


# -- bad values: located, all of them in one run ---------------------------------------------


def problems(folder: Path) -> list[str]:
    report = Diagnostics()
    with contextlib.suppress(ContentError):
        check(BuildConfig(content_dir=folder), report)
    return [str(d).replace(f"{folder}/", "") for d in report]


SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
BRIEFING = 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\nreferences: refs.yaml\n'


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"briefing.yaml": BRIEFING + "appendices: [appendices/a.md, sections/one.md, notes.txt]\n"},
            [
                "briefing.yaml:5:14: error: file 'appendices/a.md' not found",
                "briefing.yaml:5:31: error: 'one.md' is listed twice (first at line 3)",
                "briefing.yaml:5:48: error: file 'notes.txt' not found",
            ],
            id="appendix-files",
        ),
        pytest.param(
            {"briefing.yaml": BRIEFING + "appendices: [refs.yaml]\n"},
            ["briefing.yaml:5:14: error: appendix 'refs.yaml' is not a Markdown file (.md)"],
            id="appendix-not-markdown",
        ),
        pytest.param(
            {"briefing.yaml": BRIEFING + "appendices: [a.md]\n", "a.md": "No heading here.\n"},
            ["a.md:1:1: error: a section file must start with a '# Title' heading"],
            id="appendix-without-title",
        ),
        pytest.param(
            {"briefing.yaml": BRIEFING + "appendix: [a.md]\nrevision: []\n"},
            [
                "briefing.yaml:5:1: error: unknown key 'appendix' in briefing.yaml (did you mean 'appendices'?)",
                "briefing.yaml:6:1: error: unknown key 'revision' in briefing.yaml (did you mean 'revisions'?)",
            ],
            id="did-you-mean",
        ),
        pytest.param(
            {"briefing.yaml": BRIEFING + "lists: [figure, maps]\nlof: maybe\n"},
            [
                "briefing.yaml:5:9: error: 'lists' can hold 'figures', 'tables', found 'figure' (did you mean 'figures'?)",
                "briefing.yaml:5:17: error: 'lists' can hold 'figures', 'tables', found 'maps'",
                "briefing.yaml:6:6: error: 'lof' must be true or false, found 'maybe'",
            ],
            id="lists",
        ),
        pytest.param(
            {"briefing.yaml": BRIEFING + 'revisions:\n  - {date: "2025-13-01", note: x}\n  - {version: "2", notes: y}\n'
                                         "  - First issue\n"},
            [
                "briefing.yaml:6:12: error: revision: 'date': '2025-13-01' is not a date (use YYYY-MM-DD)",
                "briefing.yaml:7:5: error: revision: missing required key 'date'",
                "briefing.yaml:7:5: error: revision: missing required key 'note'",
                "briefing.yaml:7:20: error: unknown key 'notes' in a revision (did you mean 'note'?) "
                "(a revision has date, version and note)",
                "briefing.yaml:8:5: error: a revision is a mapping {date, version, note}",
            ],
            id="revisions",
        ),
        pytest.param(
            {"sections/one.md": "# One\n\nText [@ref1].\n\n![A](a.svg){width=wide}\n\n![B](a.svg){width=150%}\n\n"
                                "![C](a.svg){height=0mm}\n\n[span]{width=3cm}\n", "a.svg": SVG},
            [
                "sections/one.md:5:1: error: image width='wide' is not a length (use a number and one of %, mm, cm, "
                "in, pt, px, e.g. width=40% or width=60mm)",
                "sections/one.md:7:1: error: image width='150%': at most 100% (an image is never wider or taller "
                "than the text)",
                "sections/one.md:9:1: error: image height='0mm' is zero (use a number and one of %, mm, cm, in, pt, "
                "px, e.g. height=40% or height=60mm)",
                "sections/one.md:11:1: error: attribute 'width' is only for images (![caption](file){width=40%})",
            ],
            id="image-sizes",
        ),
    ],
)
def test_bad_parts_are_located(content_tree: ContentTree, files: dict[str, str], expected: list[str]) -> None:
    assert problems(content_tree(files)) == expected


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"width": "40%"}, ImageSize("40%")),
        ({"width": "60mm", "height": "2.5cm"}, ImageSize("60mm", "2.5cm")),
        ({"width": "300"}, ImageSize("300px")),  # a bare number is pixels, as in Pandoc
        ({"height": "25%"}, ImageSize(None, None, 0.25)),
        ({"width": "3in", "height": "72pt"}, ImageSize("3in", "72pt")),
    ],
)
def test_image_sizes_read_as_pandoc_reads_them(attributes: dict[str, str], expected: ImageSize) -> None:
    assert image_size(attributes) == (expected, [])


def test_an_empty_list_is_a_warning(content_tree: ContentTree) -> None:
    folder = content_tree({"briefing.yaml": BRIEFING + "lists: [tables]\n"})
    assert problems(folder) == [
        "briefing.yaml:5:1: warning: a list of tables is asked for, but the briefing has none "
        "(a table with a 'Table: ' caption is listed)"
    ]


def test_lists_can_be_given_for_every_briefing_of_a_tree(content_tree: ContentTree, capsys: pytest.CaptureFixture[str]) -> None:
    from briefing.cli import main

    folder = content_tree({"briefing.yaml": BRIEFING})
    (folder.parent / "briefings.yaml").write_text("lists: [figures]\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["check", "--explain", str(folder)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"lists: \(1 entries\)  \[\S*briefings.yaml:1:", out), out


def test_check_explain_names_the_new_keys(content_tree: ContentTree, capsys: pytest.CaptureFixture[str]) -> None:
    from briefing.cli import main

    folder = content_tree({"briefing.yaml": BRIEFING + "lof: true\nappendices: [sections/a.md]\n"
                                                       "revisions: [{date: '2025-06-01', note: First.}]\n",
                           "sections/a.md": "# A\n\nText.\n"})
    capsys.readouterr()
    assert main(["check", "--explain", str(folder)]) == 0
    out = capsys.readouterr().out
    for line in ("lof: true", "appendices: (1 entries)", "revisions: (1 entries)"):
        assert line in out, out


@pytest.mark.slow
def test_parts_follow_the_language(content_tree: ContentTree, tmp_path: Path) -> None:
    from briefing.pipeline import build

    folder = content_tree({
        "briefing.yaml": BRIEFING + "language: fr\nlof: true\nappendices: [annexe.md]\n"
                                    "revisions: [{date: '2025-05-01', note: Premier jet.}]\n",
        "sections/one.md": "# Un {#sec-one}\n\nTexte [@ref1], voir @sec-annexe.\n\n![Une boîte](box.png){width=30mm}\n\n"
                           "Une icône ![icône](box.png){width=5mm} dans le texte.\n",
        "annexe.md": "# Méthode {#sec-annexe}\n\nTexte.\n",
    })
    (folder / "box.png").write_bytes(solid_png(400, 200, (128, 128, 128)))
    result = build(BuildConfig(folder, tmp_path / "out", (Variant.PDF,), cache_dir=tmp_path / "cache", epoch=0))
    pages = plumber_page_texts(output_named(result, "brief.pdf"))
    text = " ".join(" ".join(pages).split())
    for expected in ("voir Annexe A.", "Historique des versions", "1 mai 2025 Premier jet.", "Liste des figures"):
        assert expected in text, expected
    entries = {title: page for _, title, page in _contents(pages, "Sommaire")}
    assert entries["Annexe A Méthode"] == _heading_page(pages, "Annexe A Méthode")
    with pdfplumber.open(output_named(result, "brief.pdf")) as pdf:
        widths = sorted(round((i["x1"] - i["x0"]) * 25.4 / 72, 1) for page in pdf.pages for i in page.images)
    assert widths == [5.0, 30.0]  # the icon in the line too


@pytest.mark.slow
def test_lists_are_tagged_as_contents_and_appendix_links_described(parts_build: BuildResult) -> None:
    import pikepdf

    with pikepdf.open(output_named(parts_build, "parts.pdf")) as pdf:
        roles: list[str] = []

        def walk(element: pikepdf.Object) -> None:
            if isinstance(element, pikepdf.Dictionary) and "/S" in element:
                roles.append(str(element.S))
                kids = element.get("/K")
                for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
                    walk(kid)

        for top in pdf.Root.StructTreeRoot.K:
            walk(top)
        said = [str(a.Contents) for page in pdf.pages for a in page.get("/Annots", []) if "/Contents" in a]
    assert roles.count("/TOC") == 3  # the contents, the list of figures, the list of tables
    assert any(re.fullmatch(r"Appendix A Method, page \d+", text) for text in said), said
