"""Single layout: the body laid out once, the References apart after it, joined into one PDF.

A reader sees what the old layout-twice build gave (tests/layout_twice.py keeps that algorithm):
the same text on every page, outline, link targets, back-link lists and contents numbers; and
one link annotation per back-link where the old build wrote two.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from briefing.cli import STARTER_DIR
from briefing.config import BuildConfig, Variant
from briefing.editions import edition
from briefing.errors import Diagnostics
from briefing.impose import impose_booklet
from briefing.layout_parts import KeptLayouts
from briefing.model import BuildResult
from briefing.pipeline import build
from briefing.render_pdf import write_pdf
from tests.conftest import US_IRAN_DIR, ContentTree
from tests.helpers import outline_titles, page_texts, pdf_of, toc_entries
from tests.layout_twice import layout_twice

BACKLINKS = re.compile(r"cited on pp?\.\s+((?:\d+,\s*)*\d+)")


def long_references_files(works: int = 70, sections: int = 8) -> dict[str, str | None]:
    """A briefing whose References run over several pages: many works, each cited in several sections."""
    refs = "".join(
        f"- id: w{n}\n  type: article-journal\n  title: A study of regional question {n} and its long consequences\n"
        f"  container-title: Journal of Comparative Regional Studies\n  volume: {n % 40 + 1}\n  page: {n}-{n + 20}\n"
        f"  author: [{{family: Author{n}, given: Given}}, {{family: Second{n}, given: Other}}]\n"
        f"  issued: {{date-parts: [[{1950 + n}]]}}\n"
        for n in range(works)
    )
    paragraph = (
        "The argument runs over several lines so that the pages fill and the citations fall on many pages "
        "of the body, some of them twice on one page, which the References name once. "
    )
    files: dict[str, str | None] = {"refs.yaml": refs}
    names = []
    for s in range(sections):
        body = "\n\n".join(
            paragraph * 2 + f"See [@w{(s * 9 + p * 5) % works}; @w{(s * 7 + p) % works}] and [@w{(s + p * 11) % works}]."
            for p in range(9)
        )
        files[f"sections/s{s}.md"] = f"# Part {s} {{#sec-p{s}}}\n\n{body}\n"
        names.append(f"sections/s{s}.md")
    files["briefing.yaml"] = textwrap.dedent(f"""\
        title: Many Sources
        date: "2025-06-01"
        classification: UNCLASSIFIED
        sections: [{", ".join(names)}]
        references: refs.yaml
        timeline: timeline.yaml
        nocite: ["*"]
        """)
    files["sections/one.md"] = None
    files["timeline.yaml"] = "events:\n" + "".join(
        f'  - {{date: "{1990 + n}", title: Event {n}, sources: [w{n * 3}]}}\n' for n in range(6)
    )
    return files


@pytest.fixture(params=["starter", pytest.param("us-iran", marks=pytest.mark.slow)])
def built(request: pytest.FixtureRequest) -> BuildResult:
    """The starter on every run; the long briefing (24 pages, References over two) in the full suite."""
    result: BuildResult = request.getfixturevalue("starter_build" if request.param == "starter" else "us_iran_build")
    return result


def test_backlink_annotations_one_per_number(built: BuildResult) -> None:
    """Each printed back-link page is one link annotation (the engine used to write two)."""
    pdf_path = pdf_of(built)
    texts = page_texts(pdf_path)
    first = next(i for i, text in enumerate(texts) if BACKLINKS.search(_joined(text)))
    with pikepdf.open(pdf_path) as pdf:
        for index in range(first, len(texts)):
            printed = sum(len(m.split(",")) for m in BACKLINKS.findall(_joined(texts[index])))
            internal = [a for a in pdf.pages[index].obj.get("/Annots", []) if "/Dest" in a or _is_goto(a)]
            assert len(internal) == printed, f"page {index + 1}: {printed} back-links, {len(internal)} annotations"
            assert printed > 0


def test_references_part_keeps_tags_outline_and_links(built: BuildResult) -> None:
    """The joined PDF has one structure tree holding the References, every internal link lands."""
    pdf_path = pdf_of(built)
    with pikepdf.open(pdf_path) as pdf:
        tags = _structure_tags(pdf)
        assert tags.count("Document") == 1
        assert "L" in tags
        assert "LI" in tags
        assert tags.count("H1") >= 3
        pages_with_struct = {int(p.obj.get("/StructParents", -1)) for p in pdf.pages}
        assert -1 not in pages_with_struct
        assert len(pages_with_struct) == len(pdf.pages)
        links = _internal_links(pdf)
        assert links
        assert all(target is not None for _, target in links)
        texts = page_texts(pdf_path)
        references_page = next(i for i, text in enumerate(texts) if "cited on" in text)
        # back-links from the References land on earlier pages; citations land on the References
        assert any(source == references_page and target < references_page for source, target in links)
        assert any(source < references_page and target >= references_page for source, target in links)
        # the joined PDF embeds each font once, though two layouts used it
        fonts = {font.objgen: str(font.get("/BaseFont")) for page in pdf.pages
                 for font in page.obj.get("/Resources", {}).get("/Font", {}).values()}
        assert len(fonts) == len(set(fonts.values()))
    assert any("References" in title for _, title in outline_titles(pdf_path))


@pytest.mark.slow
def test_same_pages_as_layout_twice_us_iran(us_iran_build: BuildResult, tmp_path: Path) -> None:
    config = BuildConfig(content_dir=US_IRAN_DIR, output_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
    _assert_same(pdf_of(us_iran_build), config, Variant.PDF, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("variant", [Variant.PRINT, Variant.BOOKLET])
def test_same_pages_as_layout_twice_long_references(
    content_tree: ContentTree, tmp_path: Path, variant: Variant
) -> None:
    """References over several pages, in the bound editions (left and right pages, padding)."""
    folder = content_tree(long_references_files())
    config = BuildConfig(content_dir=folder, output_dir=tmp_path / "out", cache_dir=tmp_path / "cache",
                         variants=(variant,))
    result = build(config)
    texts = page_texts(result.outputs[0].path)
    if variant is Variant.PRINT:
        references = [t for t in texts if re.search(r"cited on\s+pp?\.", t)]
        assert len(references) >= 3, "the References should span several pages"
    _assert_same(result.outputs[0].path, config, variant, tmp_path)


@pytest.mark.slow
def test_wrong_guess_lays_the_body_out_again(content_tree: ContentTree, tmp_path: Path) -> None:
    """A remembered count that no longer holds costs one more layout of the body, and the folios stay right."""
    config, memory, counts = _print_build_remembered(content_tree, tmp_path)
    memory.write_text(json.dumps({**counts, "references": counts["references"] + 2}))
    result = build(config)
    assert json.loads(memory.read_text())["body_layouts"] == 2
    _assert_even_with_true_folios(result.outputs[0].path)
    build(config)  # remembered right this time
    assert json.loads(memory.read_text())["body_layouts"] == 1


@pytest.mark.slow
def test_print_edition_pads_to_an_even_count_without_knowing_the_body(content_tree: ContentTree, tmp_path: Path) -> None:
    """The padding of the print edition does not rest on the body's page count: a body that grew by a page
    since the last build (or a cold build, which cannot know it) is laid out once, and the count is even."""
    config, memory, counts = _print_build_remembered(content_tree, tmp_path)
    assert counts["references"] >= 2
    memory.write_text(json.dumps({**counts, "body": counts["body"] + 1}))  # the other parity
    result = build(config)
    assert json.loads(memory.read_text())["body_layouts"] == 1
    _assert_even_with_true_folios(result.outputs[0].path)


def _print_build_remembered(content_tree: ContentTree, tmp_path: Path) -> tuple[BuildConfig, Path, dict[str, Any]]:
    """A print edition with long References, built once: its config, its remembered counts and their file."""
    folder = content_tree(long_references_files(works=40, sections=5))
    cache = tmp_path / "cache"
    config = BuildConfig(content_dir=folder, output_dir=tmp_path / "out", cache_dir=cache, variants=(Variant.PRINT,))
    build(config)
    memory = next((cache / "layout").glob("*-print-*.json"))
    return config, memory, json.loads(memory.read_text())


def _assert_even_with_true_folios(pdf: Path) -> None:
    """A bound edition's page count is even, and each footer's "Page X of Y" names its own page and the total."""
    texts = page_texts(pdf)
    assert len(texts) % 2 == 0
    for number, text in enumerate(texts, start=1):
        footer = re.search(r"Page (\d+) of (\d+)", text)
        if footer:
            assert (int(footer[1]), int(footer[2])) == (number, len(texts))


def _assert_same(built: Path, config: BuildConfig, variant: Variant, tmp_path: Path) -> None:
    whole = layout_twice(config, variant)
    assert whole.layouts >= 2
    document_id = hashlib.sha256(b"layout twice").hexdigest()
    data = write_pdf(whole.rendered, Diagnostics(), variant, document_id)
    if edition(variant).folded:
        data = impose_booklet(data)
    reference = tmp_path / "layout-twice.pdf"
    reference.write_bytes(data)
    new_texts, old_texts = page_texts(built), page_texts(reference)
    assert len(new_texts) == len(old_texts)
    for number, (new, old) in enumerate(zip(new_texts, old_texts, strict=True), start=1):
        assert new == old, f"page {number} differs"
    assert outline_titles(built) == outline_titles(reference)
    assert _outline_pages(built) == _outline_pages(reference)
    joined = _joined("\n".join(new_texts))
    assert BACKLINKS.findall(joined) == BACKLINKS.findall(_joined("\n".join(old_texts)))
    assert [toc_entries(t) for t in new_texts] == [toc_entries(t) for t in old_texts]
    if edition(variant).pdf_options.get("pdf_tags"):
        with pikepdf.open(built) as new_pdf, pikepdf.open(reference) as old_pdf:
            assert set(_internal_links(new_pdf)) == set(_internal_links(old_pdf))
            assert _structure_tags(new_pdf) == _structure_tags(old_pdf)


def _joined(text: str) -> str:
    """Lines joined, so a back-link list broken over two lines reads as one."""
    return re.sub(r"\s*\n\s*", " ", text)


def _is_goto(annotation: pikepdf.Object) -> bool:
    action = annotation.get("/A")
    return action is not None and action.get("/S") == "/GoTo"


def _internal_links(pdf: pikepdf.Pdf) -> list[tuple[int, int | None]]:
    """(page of the link, page it lands on) for every internal link annotation."""
    page_index = {page.objgen: i for i, page in enumerate(pdf.pages)}
    names = _named_destinations(pdf)
    links = []
    for index, page in enumerate(pdf.pages):
        for annotation in page.obj.get("/Annots", []):
            if annotation.get("/Subtype") != "/Link":
                continue
            destination = annotation.get("/Dest")
            if destination is None and _is_goto(annotation):
                destination = annotation["/A"]["/D"]
            if destination is None:
                continue
            if isinstance(destination, (pikepdf.String, pikepdf.Name)):
                destination = names.get(str(destination))
            target = page_index.get(destination[0].objgen) if destination is not None else None
            links.append((index, target))
    return links


def _named_destinations(pdf: pikepdf.Pdf) -> dict[str, pikepdf.Array]:
    found: dict[str, pikepdf.Array] = {}

    def walk(node: pikepdf.Object) -> None:
        if "/Names" in node:
            items = list(node["/Names"])
            for name, value in zip(items[::2], items[1::2], strict=True):
                found[str(name)] = value["/D"] if isinstance(value, pikepdf.Dictionary) else value
        for kid in node.get("/Kids", []):
            walk(kid)

    names = pdf.Root.get("/Names")
    if names is not None and "/Dests" in names:
        walk(names["/Dests"])
    return found


def _outline_pages(path: Path) -> list[tuple[str, int]]:
    with pikepdf.open(path) as pdf:
        page_index = {page.objgen: i for i, page in enumerate(pdf.pages)}
        names = _named_destinations(pdf)
        result = []
        with pdf.open_outline() as outline:
            stack = list(outline.root)
            while stack:
                item = stack.pop(0)
                destination = item.destination
                if isinstance(destination, (pikepdf.String, pikepdf.Name)):
                    destination = names.get(str(destination))
                if destination is None and item.action is not None:
                    destination = item.action.get("/D")
                page = page_index.get(destination[0].objgen) if destination is not None else -1
                result.append((item.title, page))
                stack[0:0] = list(item.children)
        return result


def _structure_tags(pdf: pikepdf.Pdf) -> list[str]:
    """The structure types of the tag tree, depth first (marked content and annotations left out).

    A Link directly inside a Link is left out: the layout-twice build printed each back-link's
    number in an ``a::after`` box, which the engine tagged (and annotated) as a second link.
    """
    tags: list[str] = []

    def walk(node: pikepdf.Object, parent: str) -> None:
        if isinstance(node, pikepdf.Array):
            for kid in node:
                walk(kid, parent)
        elif isinstance(node, pikepdf.Dictionary):
            kind = str(node["/S"])[1:] if "/S" in node else parent
            if "/S" in node and not (kind == parent == "Link"):
                tags.append(kind)
            if "/K" in node:
                walk(node["/K"], kind)

    walk(pdf.Root["/StructTreeRoot"], "")
    return tags


@pytest.mark.slow
def test_padding_without_references(content_tree: ContentTree, tmp_path: Path) -> None:
    """No References: the second part is only the blank page that makes the print edition even."""
    for paragraphs in range(2, 7):  # until the body has an odd number of pages, whatever the type
        folder = content_tree({
            "briefing.yaml": """\
                title: No Sources
                date: "2025-06-01"
                classification: UNCLASSIFIED
                sections: [sections/one.md, sections/two.md]
                """,
            "sections/one.md": "# One {#sec-one}\n\nText without citations.\n",
            "sections/two.md": "# Two {#sec-two}\n\n" + ("A paragraph of text that runs on. " * 60 + "\n\n") * paragraphs,
            "refs.yaml": None,
            "timeline.yaml": None,
        }, name=f"brief{paragraphs}")
        cache = tmp_path / f"cache{paragraphs}"
        config = BuildConfig(content_dir=folder, output_dir=tmp_path / f"out{paragraphs}", cache_dir=cache,
                             variants=(Variant.PRINT,))
        texts = page_texts(build(config).outputs[0].path)
        counts = json.loads(next((cache / "layout").glob("*.json")).read_text())
        assert counts["references"] == 0
        assert len(texts) % 2 == 0
        if counts["body"] % 2:
            break
    else:
        pytest.fail("no body with an odd page count")
    assert len(texts) == counts["body"] + 1
    assert f"Page {len(texts) - 1} of {len(texts)}" in texts[-2]
    assert [line for line in texts[-1].splitlines() if line.strip()] == ["UNCLASSIFIED", "UNCLASSIFIED"]
    assert "References" not in "".join(texts)


@pytest.mark.slow
def test_watch_lays_out_unchanged_references_once_with_the_bytes_of_a_cold_build(tmp_path: Path) -> None:
    """A long-lived process keeps the References it laid out: the next build whose References' HTML is the
    same uses them, one whose References changed lays them out again, and both give a cold build's bytes."""
    folder = tmp_path / "starter"
    shutil.copytree(STARTER_DIR, folder)
    section = folder / "sections" / "01-background.md"
    original = section.read_text(encoding="utf-8")
    config = BuildConfig(content_dir=folder, output_dir=tmp_path / "out", cache_dir=tmp_path / "cache",
                         variants=(Variant.PDF,), epoch=1750000000)
    kept = KeptLayouts()

    def save_and_build(text: str) -> tuple[bytes, list[object]]:
        section.write_text(text, encoding="utf-8")
        build(config, kept=kept)
        return config.output_path(Variant.PDF).read_bytes(), [k.rendered for k in kept.layouts.values()]

    def cold() -> bytes:
        out = tmp_path / f"cold-{len(list(tmp_path.glob('cold-*')))}"
        cold_config = BuildConfig(content_dir=folder, output_dir=out, cache_dir=out / "cache", variants=(Variant.PDF,),
                                  epoch=1750000000, use_cache=False)
        build(cold_config)
        return cold_config.output_path(Variant.PDF).read_bytes()

    save_and_build(original.replace("Shared rivers", "Edit 0. Shared rivers"))
    _, before = save_and_build(original.replace("Shared rivers", "Edit 1. Shared rivers"))
    data, after = save_and_build(original.replace("Shared rivers", "Edit 2. Shared rivers"))
    assert len(after) == 1
    assert after[0] is before[0], "the same References' HTML should be laid out once"
    assert data == cold()
    references = folder / "references.bib"
    references.write_text(references.read_text(encoding="utf-8").replace("Water in Crisis", "Water at Risk"))
    data, changed = save_and_build(original)
    assert changed[-1] is not before[0]  # the most recently used is last
    assert "Water at Risk" in "".join(page_texts(config.output_path(Variant.PDF)))
    assert data == cold()


def test_a_cold_estimate_spreads_citations_one_number_a_page() -> None:
    """Back-link lists for a cold build's count of the References: citations spread over the body's estimated
    pages after the front matter, each page named once per work, with the digits those pages have."""
    from briefing.citations import BibliographyEntry, Citations
    from briefing.layout_parts import FRONT_PAGES, plausible_backlinks

    entries = (BibliographyEntry("a", "A.", tuple(range(1, 101))), BibliographyEntry("b", "B.", (1, 2, 3)),
               BibliographyEntry("c", "C."))
    cited = plausible_backlinks(Citations((), entries, "style"), body_pages=FRONT_PAGES + 150)
    pages = [page for _, page in cited["a"]]
    assert pages == sorted(set(pages))
    assert (pages[0], pages[-1], len(pages)) == (FRONT_PAGES + 1, FRONT_PAGES + 149, 100)
    assert cited["b"] == ((1, FRONT_PAGES + 1), (2, FRONT_PAGES + 2), (3, FRONT_PAGES + 4))
    assert cited["c"] == ()
