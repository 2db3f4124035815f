"""Citations and bibliography: the same input gives the same text as ``pandoc --citeproc``.

The conformance suite formats ``fixtures/citations/citations.md`` (every key once, then locators
with ``-``, ``--`` and ``–`` ranges, prefixes and suffixes, narrative citations with locators,
author suppression, several keys in a cluster, repeated citations for ibid) against a reference
set of 43 works, given as BibTeX, CSL-JSON and CSL-YAML, in each tested style, and compares every
citation (or note) and every bibliography entry with what pandoc itself prints for the same
Markdown. Pandoc is run here on the Markdown; the build runs it on our JSON document: equal text
pins our document, our mapping of pandoc's output, note placement and punctuation.
"""

from __future__ import annotations

import functools
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from markupsafe import Markup

from briefing.config import BuildConfig
from briefing.csl_style import STYLE_ALIASES, TESTED_STYLES, bundled_styles_dir
from briefing.errors import Diagnostics
from briefing.model_html import HtmlWriter, RenderContext, WrittenCitation, WrittenEntry
from briefing.model_text import Citations, Inline, RenderedCitation
from briefing.pandoc import pandoc_path
from briefing.pipeline import check
from briefing.render_html import make_environment

from .conftest import PROJECT_DIR

FIXTURES = Path(__file__).parent / "fixtures" / "citations"
REFERENCE_FILES = ("references.bib", "references.json", "references.yaml")
CITATIONS_MD = (FIXTURES / "citations.md").read_text(encoding="utf-8")
CITATIONS = [p for p in CITATIONS_MD.split("\n\n")[1:] if p.strip()]
"""One citation a paragraph, in reading order."""


# -- running pandoc on Markdown, and the build ----------------------------------------------------


def normalise(text: str) -> str:
    """Compare as a reader reads: no markup, straight quotes, single spaces."""
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    text = text.translate(str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "}))
    return re.sub(r"\s+", " ", text).replace("↩︎", "").strip()


def style_file(style: str) -> Path:
    return bundled_styles_dir() / f"{STYLE_ALIASES.get(style, style)}.csl"


@functools.cache
def pandoc_output(style: str, references: str, text: str = CITATIONS_MD, language: str = "en") -> (
        tuple[tuple[str, ...], dict[str, str]]):
    """(each paragraph's citation, {key: entry}) as ``pandoc --citeproc`` formats the Markdown."""
    document = text + "\n::: {#refs}\n:::\n"
    command = [str(pandoc_path()), "--citeproc", "--csl", str(style_file(style)), "--from", "markdown", "--to", "html",
               "--bibliography", str(FIXTURES / references), "--wrap=none", "-M", f"lang={language}"]
    out = subprocess.run(command, input=document, capture_output=True, text=True, check=True).stdout
    body, _, notes = out.partition('<section id="footnotes"')
    body, _, refs = body.partition('<div id="refs"')
    paragraphs = re.findall(r"<p>(.*?)</p>", body, re.S)
    if notes:  # a note style: the citation is the footnote's text
        footnotes = dict(re.findall(r'<li id="fn(\d+)"[^>]*>(.*?)</li>', notes, re.S))
        paragraphs = [re.sub(r'<a href="#fn(\d+)"[^>]*>.*?</a>', lambda m: footnotes[m[1]], p, flags=re.S)
                      for p in paragraphs]
    entries = re.findall(r'<div id="ref-([^"]+)" class="csl-entry"[^>]*>(.*?)</div>\s*(?=<div id="ref-|</div>\s*$)',
                         refs, re.S)
    return tuple(normalise(p) for p in paragraphs), {key: normalise(entry) for key, entry in entries}


def build_citations(folder: Path, style: str, references: str = "references.json", text: str = CITATIONS_MD,
                    extra: str = "") -> Citations:
    """Our citations for ``text``, in a briefing whose references are one of the fixture files."""
    suffix = Path(references).suffix
    (folder / "sections").mkdir(parents=True, exist_ok=True)
    (folder / "briefing.yaml").write_text(
        f'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\nreferences: refs{suffix}\n'
        f"citation-style: {style}\n{extra}", encoding="utf-8")
    (folder / "sections" / "one.md").write_text(text, encoding="utf-8")
    shutil.copy(FIXTURES / references, folder / f"refs{suffix}")
    report = Diagnostics()
    prepared = check(BuildConfig(content_dir=folder, use_cache=False), report)
    assert [str(d) for d in report if d.severity.value == "error"] == []
    return prepared.citations


def html_of(inlines: tuple[Inline, ...]) -> str:
    """Formatted text as the page gets it (the writer of the document model)."""
    return HtmlWriter(RenderContext((), {}, lambda name, **values: "")).inlines(inlines)


def as_read(citation: RenderedCitation) -> str:
    """A citation as the reader sees it: for a note style, the text plus the footnote's."""
    return normalise(html_of(citation.inlines) + html_of(citation.note or ()))


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory):
    """Our formatting of the fixture document, by (style, reference file), computed once."""
    cache: dict[tuple[str, str], Citations] = {}

    def get(style: str, references: str = "references.json") -> Citations:
        if (style, references) not in cache:
            folder = tmp_path_factory.mktemp(f"{style}-{Path(references).suffix[1:]}")
            cache[style, references] = build_citations(folder, style, references)
        return cache[style, references]

    return get


# -- the fixture ---------------------------------------------------------------------------------


def test_the_reference_set_is_large_and_mixed() -> None:
    items = json.loads((FIXTURES / "references.json").read_text(encoding="utf-8"))
    bib = (FIXTURES / "references.bib").read_text(encoding="utf-8")
    types = {item["type"] for item in items}
    assert len(items) >= 40
    assert len(re.findall(r"^@(?!string)\w+\{", bib, re.M)) == len(items), "the same works in BibTeX"
    assert {"book", "chapter", "article-journal", "article-newspaper", "report", "thesis", "webpage",
            "legal_case", "treaty"} <= types
    assert any("editor" in i and "author" not in i for i in items), "an edited volume"
    for feature in ("{{United Nations}}", "van Beethoven", "de la Fontaine", "{\\\"u}", "\\url{", "``", "''",
                    "--", "crossref", "\\textsuperscript", "\\ldots", "\\dots"):
        assert feature in bib, feature
    years = [(i["author"][0].get("family"), i["issued"]["date-parts"][0][0]) for i in items if "author" in i]
    assert len(years) > len(set(years)), "one author twice in one year"


def test_the_citation_forms_are_all_there() -> None:
    for form in ("p. 45", "pp. 276--78", "pp. 276-78", "pp. 276–78", "chap. 2--3", "para. 4", "sec. 3.2",
                 "[see @", "-@", "@ganji2006a [p. 40]", "; @", "emphasis added"):
        assert form in CITATIONS_MD, form
    assert len(CITATIONS) > len(set(CITATIONS)), "a repeated citation (ibid)"


# -- conformance with pandoc ---------------------------------------------------------------------


CONFORMANCE = [pytest.param(style, references, marks=pytest.mark.slow, id=f"{style}-{references}")
               for style in TESTED_STYLES for references in REFERENCE_FILES]


@pytest.mark.parametrize(("style", "references"), CONFORMANCE)
def test_citations_and_bibliography_match_pandoc(ours, style: str, references: str) -> None:
    expected_citations, expected_entries = pandoc_output(style, references)
    citations = ours(style, references)
    got = tuple(as_read(c) for c in citations.clusters)
    assert len(got) == len(expected_citations) == len(CITATIONS)
    differences = [f"{source}\n  pandoc: {want}\n  ours:   {have}"
                   for source, want, have in zip(CITATIONS, expected_citations, got, strict=True) if want != have]
    assert differences == []
    entries = {entry.key: normalise(html_of(entry.inlines)) for entry in citations.bibliography}
    assert list(entries) == list(expected_entries), "the same works, in the same order"
    differences = [f"{key}\n  pandoc: {want}\n  ours:   {entries[key]}"
                   for key, want in expected_entries.items() if want != entries[key]]
    assert differences == []


def test_language_reaches_the_processor(tmp_path: Path) -> None:
    """Terms ("u. a.", "herausgegeben von", "Hrsg.", "o. J."), quotation marks and dates follow ``language``."""
    text = "# Eins\n\n[@npt1968]\n\n[@gasiorowski2004]\n\n[@fitzpatrick2017]\n\n[@eia2024]\n\n[@nyt1988]\n"
    german = build_citations(tmp_path / "de", "chicago-author-date", text=text, extra="language: de-DE\n")
    expected_citations, expected_entries = pandoc_output("chicago-author-date", "references.json", text, "de-DE")
    assert tuple(as_read(c) for c in german.clusters) == expected_citations
    entries = {e.key: normalise(html_of(e.inlines)) for e in german.bibliography}
    assert entries == expected_entries
    assert as_read(german.clusters[2]) == "(Fitzpatrick u. a. 2017)"
    assert "Gasiorowski, Mark J., und Malcolm Byrne, Hrsg. 2004." in entries["gasiorowski2004"]
    assert "The New York Times, Juli 5." in entries["nyt1988"]
    assert '„Iran: Country analysis brief“'.replace("“", '"') in entries["eia2024"]
    english = build_citations(tmp_path / "en", "chicago-author-date", text=text)
    assert as_read(english.clusters[2]) == "(Fitzpatrick et al. 2017)"


@pytest.mark.parametrize(("language", "expected"), [("en", "(Doe, n.d.)"), ("de", "(Doe, o. J.)"), ("fr", "(Doe, s. d.)")])
def test_no_date_follows_the_language(content_tree, language: str, expected: str) -> None:
    folder = content_tree({
        "briefing.yaml": f'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\nreferences: refs.yaml\n'
                         f"language: {language}\n",
        "refs.yaml": "- id: doe\n  type: book\n  title: Undated\n  author: [{family: Doe, given: Jane}]\n",
        "sections/one.md": "# One\n\nText [@doe].\n",
    })
    report = Diagnostics()
    citations = check(BuildConfig(content_dir=folder, use_cache=False), report).citations
    assert normalise(html_of(citations.clusters[0].inlines)) == expected


# -- the bugs of issue 13, each pinned -----------------------------------------------------------


def _cite(citations: Citations, source: str) -> str:
    return as_read(citations.clusters[CITATIONS.index(source)])


def _entry(citations: Citations, key: str) -> str:
    return next(normalise(html_of(e.inlines)) for e in citations.bibliography if e.key == key)


@pytest.mark.slow
def test_a_locator_is_not_the_page_range(ours) -> None:
    for style in ("chicago-author-date", "chicago-notes-bibliography"):
        entry = _entry(ours(style), "solomon1999")
        assert "275–316" in entry, style
        assert ": 290" not in entry, style


@pytest.mark.slow
def test_double_hyphen_ranges_are_en_dashes(ours) -> None:
    chicago = ours("chicago-author-date")
    for written in ("[@solomon1999, pp. 276--78]", "[@solomon1999, pp. 276-78]", "[@solomon1999, pp. 276–78]"):
        assert _cite(chicago, written) == "(Solomon et al. 1999, 276–78)", written
    assert _cite(chicago, "@sick1985 [pp. 12--15, emphasis added]") == "Sick (1985, 12–15, emphasis added)"
    assert "iv–xii" in _entry(chicago, "npt1968")


@pytest.mark.slow
def test_a_narrative_citation_takes_its_locator(ours) -> None:
    assert _cite(ours("chicago-author-date"), "@ganji2006a [p. 40]") == "Ganji (2006a, 40)"
    assert _cite(ours("apa"), "@ganji2006a [p. 40]") == "Ganji (2006a, p. 40)"
    assert "[p." not in _cite(ours("ieee"), "@ganji2006a [p. 40]")


@pytest.mark.slow
def test_bibtex_markup_names_and_crossref(ours) -> None:
    chicago = ours("chicago-author-date", "references.bib")
    assert _entry(chicago, "beethoven1990").startswith("Beethoven, Ludwig van. 1990.")
    assert _entry(chicago, "lafontaine1995").startswith("Fontaine, Jean de la, and John von Neumann. 1995.")
    assert "\"'A Quoted Title': Bargaining" in _entry(chicago, "solomon1999")
    treaty = _entry(chicago, "npt1968")
    assert "pp. iv–xii of the 19th printing… at https://example.org/npt …" in treaty
    assert "r̆l" not in treaty
    assert "ọts" not in treaty
    assert "\\" not in treaty
    assert "Oxford Handbook of Iranian Foreign Policy" in _entry(chicago, "maloney2018"), "crossref is followed"
    assert _entry(chicago, "unyearbook2022").startswith("United Nations. 2022.")


def test_a_style_without_bibliography(ours) -> None:
    notes = ours("chicago-notes")
    assert notes.note_style
    assert notes.bibliography == ()
    assert all(c.note for c in notes.clusters if not c.inlines)


# -- our side: notes, links, cache ---------------------------------------------------------------


@pytest.mark.slow
def test_note_style_citations_are_notes(ours) -> None:
    notes = ours("chicago-notes-bibliography")
    first = notes.clusters[CITATIONS.index("[see @abrahamian2013, pp. 12-14; @crist2012, ch. 3]")]
    assert notes.note_style
    assert first.inlines == ()
    assert first.note is not None
    assert normalise(html_of(first.note)).startswith("See Abrahamian, The Coup")
    narrative = notes.clusters[CITATIONS.index("@pollack2004")]
    assert html_of(narrative.inlines) == "Pollack", "cited before: the short form"
    assert normalise(html_of(narrative.note or ())).startswith("The Persian Puzzle")


def test_reference_text_is_never_read_as_html(content_tree) -> None:
    folder = content_tree({
        "refs.yaml": '- id: ref1\n  type: book\n  title: "<script>x</script> & the *Vincennes*"\n'
                     '  author: [{family: "O<b>", given: Jane}]\n  issued: {date-parts: [[2001]]}\n',
        "sections/one.md": "# One\n\nText [<u>see</u> @ref1, p. <b>4</b>].\n",
    })
    report = Diagnostics()
    citations = check(BuildConfig(content_dir=folder, use_cache=False), report).citations
    cluster = html_of(citations.clusters[0].inlines)
    assert cluster == "(&lt;u&gt;see&lt;/u&gt; O 2001, &lt;b&gt;4&lt;/b&gt;)", "raw HTML in YAML: dropped"
    entry = html_of(citations.bibliography[0].inlines)
    assert "<script>" not in entry.lower()
    assert "&amp; the <i>Vincennes</i>" in entry, "Markdown in CSL-YAML, as Pandoc reads it"


def test_the_cache_is_keyed_by_content_not_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from briefing import citations as module

    text = "# One\n\n[@kinzer2003, p. 4] and [@crist2012].\n"
    folder = tmp_path / "brief"
    first = _cached_build(folder, text)
    assert len(list((tmp_path / "cache" / "citations").glob("*.json"))) == 1

    def no_pandoc(*args: object, **kwargs: object) -> None:
        raise AssertionError("pandoc ran although the cache holds the answer")

    monkeypatch.setattr(module, "run_pandoc", no_pandoc)
    moved = _cached_build(folder, "# One\n\n\n\nSome text first.\n[@kinzer2003, p. 4] and [@crist2012].\n")
    assert moved.clusters == first.clusters
    assert moved.bibliography == first.bibliography
    with pytest.raises(AssertionError, match="pandoc ran"):
        _cached_build(folder, "# One\n\n[@kinzer2003, p. 5] and [@crist2012].\n")


def test_a_damaged_cache_is_ignored(tmp_path: Path) -> None:
    text = "# One\n\n[@kinzer2003, p. 4].\n"
    good = _cached_build(tmp_path / "brief", text)
    for entry in (tmp_path / "cache" / "citations").glob("*.json"):
        entry.write_text('{"clusters": [["x"]], "bibliography": 3}', encoding="utf-8")
    assert _cached_build(tmp_path / "brief", text) == good


def _cached_build(folder: Path, text: str) -> Citations:
    (folder / "sections").mkdir(parents=True, exist_ok=True)
    (folder / "briefing.yaml").write_text(
        'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\nreferences: refs.json\n', encoding="utf-8")
    (folder / "sections" / "one.md").write_text(text, encoding="utf-8")
    shutil.copy(FIXTURES / "references.json", folder / "refs.json")
    report = Diagnostics()
    prepared = check(BuildConfig(content_dir=folder, cache_dir=folder.parent / "cache"), report)
    assert [str(d) for d in report if d.severity.value == "error"] == []
    return prepared.citations


# -- choosing styles, nocite and back-links -------------------------------------------------------


@pytest.mark.parametrize(("alias", "style"), sorted(STYLE_ALIASES.items()))
def test_short_style_names(tmp_path: Path, alias: str, style: str) -> None:
    text = "# One\n\n[@kinzer2003]\n"
    by_alias = build_citations(tmp_path / "a", alias, text=text)
    by_name = build_citations(tmp_path / "b", style, text=text)
    assert (by_alias.clusters, by_alias.bibliography) == (by_name.clusters, by_name.bibliography)


def test_style_from_a_csl_file(tmp_path: Path) -> None:
    folder = tmp_path / "brief"
    folder.mkdir()
    shutil.copy(style_file("apa"), folder / "house.csl")
    citations = build_citations(folder, "house.csl", text="# One\n\n[@kinzer2003, p. 4]\n")
    assert as_read(citations.clusters[0]) == "(Kinzer, 2003, p. 4)"


def test_a_dependent_style_uses_its_bundled_parent(tmp_path: Path) -> None:
    folder = tmp_path / "brief"
    folder.mkdir()
    (folder / "dependent.csl").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" '
        'version="1.0">\n  <info>\n    <title>A journal</title>\n    <id>x</id>\n'
        '    <link href="http://www.zotero.org/styles/apa" rel="independent-parent"/>\n  </info>\n</style>\n',
        encoding="utf-8")
    citations = build_citations(folder, "dependent.csl", text="# One\n\n[@kinzer2003, p. 4]\n")
    assert as_read(citations.clusters[0]) == "(Kinzer, 2003, p. 4)"


def test_only_works_cited_plus_nocite(tmp_path: Path) -> None:
    text = "# One\n\nSee [@kinzer2003] and [@crist2012; @kinzer2003].\n"
    citations = build_citations(tmp_path, "chicago-author-date", text=text, extra="nocite: [parsi2017]\n")
    assert [(e.key, e.cited_in) for e in citations.bibliography] == [
        ("crist2012", (1,)), ("kinzer2003", (0, 1)), ("parsi2017", ())]


def test_nocite_star_lists_every_reference(tmp_path: Path) -> None:
    citations = build_citations(tmp_path, "apa", text="# One\n\nText.\n", extra='nocite: ["*"]\n')
    assert len(citations.bibliography) == len(json.loads((FIXTURES / "references.json").read_text()))


def _partial(name: str, **values: object) -> str:
    from briefing.i18n import load_language

    env = make_environment(PROJECT_DIR / "templates")
    english = load_language("en", PROJECT_DIR / "templates")
    return env.get_template(f"partials/{name}.html").render(t=english, **values)


def test_each_citation_has_an_anchor_and_each_entry_links_back() -> None:
    citation = WrittenCitation(Markup("(Kinzer 2003)"), ("kinzer2003",), 12)
    assert _partial("citation", citation=citation) == (
        '<a class="citation citation-short" id="cite-12" href="#ref-kinzer2003">(Kinzer 2003)</a>')
    entries = [WrittenEntry("kinzer2003", Markup("Kinzer, Stephen."), (12, 40)), WrittenEntry("parsi2017", Markup("Parsi."))]
    # the pages come from the body's layout: the first citation on each page links back
    references = _partial("references", bibliography=entries, cited_pages={"kinzer2003": ((12, 3), (40, 7))})
    assert ('<span class="cited-on">cited on pp.&nbsp;<a href="#cite-12">3</a>, <a href="#cite-40">7</a></span>'
            in references)
    assert references.count("cited-on") == 1, "a work listed by nocite is cited nowhere"


def test_a_note_citation_is_a_footnote() -> None:
    citation = WrittenCitation(Markup("Pollack"), ("pollack2004",), 3, note=Markup("<i>The Persian Puzzle</i>."))
    assert _partial("citation", citation=citation) == (
        '<span class="citation citation-note" id="cite-3">Pollack'
        '<span class="footnote" data-pdf-tag="Note"><i>The Persian Puzzle</i>.</span></span>')  # tagged a Note


# -- errors, located and exact ----------------------------------------------------------------

BIB_BRIEFING = 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\nreferences: refs.bib\n'
JSON_BRIEFING = 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\nreferences: refs.json\n'
YAML_BRIEFING = 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\nreferences: refs.yaml\n'
STYLE_HEAD = ('<?xml version="1.0" encoding="utf-8"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" '
              'version="1.0">\n<info><title>x</title><id>x</id></info>\n')


def _with_style(body: str) -> dict[str, str]:
    return {"briefing.yaml": YAML_BRIEFING + "citation-style: house.csl\n", "house.csl": STYLE_HEAD + body + "</style>\n"}


def _bomb(levels: int) -> str:
    strings = "".join(f"@string{{s{i} = s{i - 1} # s{i - 1}}}\n" for i in range(1, levels))
    return '@string{s0 = "' + "x" * 40 + '"}\n' + strings + f"@book{{ref1, title = s{levels - 1}, year = 2000}}\n"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"sections/one.md": "# One\n\nAs @kinzr2003 argues.\n",
             "briefing.yaml": BIB_BRIEFING, "refs.bib": "@book{kinzer2003, title = {A}, year = 2003}\n"},
            ["sections/one.md:3:4: error: unknown citation key 'kinzr2003' (did you mean 'kinzer2003'?)"],
            id="unknown-key",
        ),
        pytest.param(
            {"briefing.yaml": BIB_BRIEFING,
             "refs.bib": "@book{ref1, title = {A}, year = 2001}\n\n@misc{ref1, title = {B}}\n"},
            ["refs.bib:3:7: error: duplicate reference key 'ref1' (first defined at line 1)"],
            id="duplicate-bib",
        ),
        pytest.param(
            {"briefing.yaml": BIB_BRIEFING,
             "refs.bib": "@book{Smith2000, title = {A}, year = 2000}\n@book{smith2000, title = {B}, year = 2000}\n"},
            ["refs.bib:2:7: error: duplicate reference key 'smith2000': differs only in case from 'Smith2000' "
             "(defined at line 1)"],
            id="duplicate-bib-case",
        ),
        pytest.param(
            {"briefing.yaml": JSON_BRIEFING,
             "refs.json": '[\n  {"id": "ref1", "type": "book", "title": "A"},\n'
                          '  {"id": "ref1", "type": "book", "title": "B"}\n]\n'},
            ["refs.json:3:10: error: duplicate reference key 'ref1' (first defined at line 2)"],
            id="duplicate-json-at-the-second",
        ),
        pytest.param(
            {"refs.yaml": "- id: ref1\n  type: book\n  title: A\n- id: ref1\n  type: book\n  title: B\n"},
            ["refs.yaml:4:7: error: duplicate reference key 'ref1' (first defined at line 1)"],
            id="duplicate-yaml",
        ),
        pytest.param(
            {"briefing.yaml": BIB_BRIEFING.replace("refs.bib", "[a.bib, b.json]"),
             "a.bib": "@book{ref1, title = {A}, year = 2001}\n",
             "b.json": '[\n  {"id": "ref2", "type": "book", "title": "B"},\n  {"id": "ref1", "type": "book"}\n]\n'},
            ["b.json:3:10: error: duplicate reference key 'ref1' (first defined at a.bib:1)"],
            id="duplicate-across-files",
        ),
        pytest.param(
            {"briefing.yaml": BIB_BRIEFING, "refs.bib": "@book{ref1,\n  title = {Unclosed,\n  year = 2001\n}\n"},
            ["refs.bib:5:1: error: malformed BibTeX: unexpected end of input"],
            id="malformed-bib",
        ),
        pytest.param(
            {"briefing.yaml": BIB_BRIEFING, "refs.bib": "@book{ref1, title = {A} year = 2001}\n"},
            ["refs.bib:1:25: error: malformed BibTeX: unexpected 'y'"],
            id="malformed-bib-field",
        ),
        pytest.param(
            {"briefing.yaml": BIB_BRIEFING, "refs.bib": _bomb(30)},
            ["refs.bib:13:9: error: BibTeX @string 's12' expands to 163,840 characters; the limit is 100,000"],
            id="bibtex-string-doubling",
        ),
        pytest.param(
            {"briefing.yaml": BIB_BRIEFING,
             "refs.bib": "@book{ref1, crossref = {ref2}, title = {A}}\n@book{ref2, crossref = {ref1}, title = {B}}\n"},
            ["refs.bib:2:13: error: BibTeX entry 'ref2' inherits from 'ref1', which inherits from it: "
             "crossref and xdata may not form a loop"],
            id="bibtex-crossref-loop",
        ),
        pytest.param(
            {"briefing.yaml": BIB_BRIEFING, "refs.bib": "% nothing yet\n"},
            ["sections/one.md:3:14: error: unknown citation key 'ref1' (the reference files define no entries)"],
            id="empty-reference-file",
        ),
        pytest.param(
            {"briefing.yaml": JSON_BRIEFING, "refs.json": '[\n  {"id": "ref1", "type": "book" "title": "A"}\n]\n'},
            ["refs.json:2:33: error: invalid CSL-JSON: Expecting ',' delimiter"],
            id="malformed-json",
        ),
        pytest.param(
            {"refs.yaml": '- id: ref1\n  type: book\n  issued: {date-parts: [["²"]]}\n'},
            ["refs.yaml:3:11: error: reference 'ref1': 'issued' must be a date such as "
             "2001, 2001-05-01 or {date-parts: [[2001, 5, 1]]}"],
            id="superscript-digit-in-yaml-date",
        ),
        pytest.param(
            {"briefing.yaml": YAML_BRIEFING + "citation-style: chicago-autor-date\n"},
            ["briefing.yaml:5:17: error: unknown citation style 'chicago-autor-date' "
             "(did you mean 'chicago-author-date'?)"],
            id="unknown-style-at-its-line",
        ),
        pytest.param(
            {"briefing.yaml": YAML_BRIEFING + "nocite: [ref1, reff2]\n"},
            ["briefing.yaml:5:16: error: nocite: unknown citation key 'reff2' (did you mean 'ref1'?)"],
            id="unknown-nocite",
        ),
        pytest.param(
            _with_style('<macro name="a"><text macro="b"/></macro>\n<macro name="b"><text macro="a"/></macro>\n'
                        '<citation><layout><text macro="a"/></layout></citation>\n'),
            ["house.csl:5:17: error: CSL macro 'a' calls itself (through 'b'): it would never end"],
            id="csl-recursive-macro",
        ),
        pytest.param(
            _with_style("".join(f'<macro name="m{i}"><text macro="m{i - 1}"/><text macro="m{i - 1}"/></macro>\n'
                                for i in range(1, 30)) + '<macro name="m0"><text value="x"/></macro>\n'
                        '<citation><layout><text macro="m29"/></layout></citation>\n'),
            ["house.csl:19:1: error: CSL macro 'm16' expands to more than 100,000 macro calls"],
            id="csl-macro-doubling",
        ),
        pytest.param(
            _with_style('<bibliography><layout><text variable="title"/></layout></bibliography>\n'),
            ["house.csl:2:1: error: CSL style has no <citation> with a <layout>"],
            id="csl-no-citation",
        ),
        pytest.param(
            _with_style('<citation><layout><text macro="nope"/></layout></citation>\n'),
            ["house.csl:4:19: error: CSL style calls undefined macro 'nope'"],
            id="csl-undefined-macro",
        ),
        pytest.param(
            _with_style('<citation et-al-min="abc"><layout><names variable="author"/></layout></citation>\n'),
            ['house.csl:4:11: error: CSL attribute et-al-min="abc" must be a whole number'],
            id="csl-et-al-min-not-a-number",
        ),
        pytest.param(
            {"briefing.yaml": YAML_BRIEFING + "citation-style: dep.csl\n",
             "dep.csl": STYLE_HEAD.replace("</info>", '<link href="http://example.org/styles/nowhere" '
                                           'rel="independent-parent"/></info>') + "</style>\n"},
            ["dep.csl:3:33: error: dependent style: its parent 'http://example.org/styles/nowhere' is not a bundled "
             "style; put the parent's .csl file in the briefing folder and name it in 'citation-style' "
             "(styles are never downloaded)"],
            id="csl-dependent-parent-unknown",
        ),
    ],
)
def test_citation_problems_are_located(content_tree, files: dict[str, str], expected: list[str]) -> None:
    from .test_validate import problems

    assert problems(content_tree(files)) == expected


def test_bibtex_month_superscript_digit_does_not_crash(content_tree) -> None:
    from .test_validate import problems

    folder = content_tree({"briefing.yaml": BIB_BRIEFING,
                           "refs.bib": "@book{ref1, title = {A}, year = {2000}, month = {²}}\n",
                           "sections/one.md": "# One\n\nText [@ref1].\n"})
    assert problems(folder) == []


def test_pandoc_missing_is_one_clear_message(content_tree, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from briefing.errors import ContentError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pypandoc" else real(name, *a))
    folder = content_tree({"sections/one.md": "# One\n\nText [@ref1].\n"})
    report = Diagnostics()
    with pytest.raises(ContentError):
        check(BuildConfig(content_dir=folder, use_cache=False), report)  # a cached result would need no pandoc
    assert [str(d).replace(f"{folder}/", "") for d in report] == [
        "briefing.yaml: error: the citation processor, pandoc, is not installed: "
        "install the Python package 'pypandoc-binary' (run 'make')"]


def test_unknown_key_stops_before_layout(content_tree) -> None:
    from briefing.errors import ContentError

    folder = content_tree({"sections/one.md": "# One\n\n[@nobody]\n"})
    report = Diagnostics()
    with pytest.raises(ContentError):
        check(BuildConfig(content_dir=folder, use_cache=False), report)
    assert [str(d).replace(f"{folder}/", "") for d in report] == [
        "sections/one.md:3:2: error: unknown citation key 'nobody'"]


# -- note styles in the laid-out pages -------------------------------------------------------------


@pytest.mark.slow
def test_note_marks_in_the_built_pdf(content_tree, tmp_path: Path) -> None:
    """No space before the punctuation a note follows, even when the citation starts a source line;
    the punctuation and the mark are one unbreakable piece; two marks side by side are separated."""
    from briefing.cli import main

    from .helpers import page_texts

    folder = content_tree({
        "briefing.yaml": YAML_BRIEFING + "citation-style: chicago-notes\ntimeline: timeline.yaml\n",
        "refs.yaml": "- id: ref1\n  type: book\n  title: First Book\n  author: [{family: Doe, given: Jane}]\n"
                     "  issued: 2001\n- id: ref2\n  type: book\n  title: Second Book\n"
                     "  author: [{family: Roe, given: Rick}]\n  issued: 2002\n",
        "sections/one.md": "# One\n\nThe state knows no limits\n[@ref1]. Two works agree [@ref1] [@ref2] here.\n",
    })
    out = tmp_path / "out"
    assert main(["build", "--quiet", "--out", str(out), "--variant", "pdf", "--variant", "html", str(folder)]) == 0
    text = " ".join(page_texts(out / "brief.pdf"))
    assert "no limits.1 Two" in text
    assert "agree2,3 here" in text
    html_text = (out / "brief.html").read_text(encoding="utf-8")
    # The web edition numbers its notes and links them; the same order: punctuation, then the mark.
    assert 'limits<span class="citation citation-note" id="cite-0">.<a class="note-ref" id="fnref-1"' in html_text
    assert '<sup class="note-separator">,</sup><a class="note-ref" id="fnref-3"' in html_text
    assert "References" not in text, "chicago-notes has no bibliography"
    # A chronology row's source is the note's text in its cell, not a footnote of its own.
    chronology = " ".join(page_texts(out / "brief.pdf")[-1].split()).split("Sources", 1)[1]
    assert chronology.startswith(" 3 February 2001 Start Doe, First Book. As of")  # no mark, no note below
    assert 'class="citation citation-source" id="cite-3">Doe, <i>First Book</i>.</span>' in html_text


def test_pandoc_not_executable_is_one_clear_message(content_tree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.machinery
    import importlib.util

    from briefing.errors import ContentError

    fake = tmp_path / "site" / "pypandoc"
    (fake / "files").mkdir(parents=True)
    (fake / "__init__.py").write_text("", encoding="utf-8")
    (fake / "files" / "pandoc").write_text("not a program", encoding="utf-8")  # no execute permission
    spec = importlib.machinery.ModuleSpec("pypandoc", None, origin=str(fake / "__init__.py"))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: spec if name == "pypandoc" else real(name, *a))
    folder = content_tree({"sections/one.md": "# One\n\nText [@ref1].\n"})
    report = Diagnostics()
    with pytest.raises(ContentError):
        check(BuildConfig(content_dir=folder, use_cache=False), report)
    assert [str(d).replace(f"{folder}/", "") for d in report] == [
        f"briefing.yaml: error: the citation processor, pandoc, is missing or not executable at "
        f"'{fake / 'files' / 'pandoc'}': reinstall the Python package 'pypandoc-binary'"]


@pytest.mark.parametrize("style", ["chicago-notes-bibliography", "chicago-author-date"])
def test_a_citation_in_a_footnote_is_formatted_in_the_note(tmp_path: Path, style: str) -> None:
    """As in Pandoc: in a note style, a citation written in a footnote is the note's text, not a note in a note."""
    text = "# One\n\nText.[^1] More [@crist2012].\n\n[^1]: See [@kinzer2003, p. 4] on this.\n"
    citations = build_citations(tmp_path, style, text=text)
    in_note = next(c for c in citations.clusters if c.keys == ("kinzer2003",))
    assert in_note.note is None
    document = "Text.[^1] More [@crist2012].\n\n[^1]: See [@kinzer2003, p. 4] on this.\n"
    command = [str(pandoc_path()), "--citeproc", "--csl", str(style_file(style)), "--from", "markdown", "--to", "plain",
               "--bibliography", str(FIXTURES / "references.json"), "--wrap=none"]
    out = subprocess.run(command, input=document, capture_output=True, text=True, check=True).stdout
    assert f"See {normalise(html_of(in_note.inlines))} on this." in normalise(out)


def test_several_reference_files(content_tree) -> None:
    folder = content_tree({
        "briefing.yaml": BIB_BRIEFING.replace("refs.bib", "[a.bib, b.json, c.yaml]"),
        "a.bib": "@book{ref1, author = {Doe, Jane}, title = {From BibTeX}, year = 2001}\n",
        "b.json": '[{"id": "ref2", "type": "book", "title": "From JSON", "author": [{"family": "Roe", "given": "R"}],'
                  ' "issued": {"date-parts": [[2002]]}}]\n',
        "c.yaml": "- id: ref3\n  type: book\n  title: From YAML\n  author: [{family: Poe, given: P}]\n  issued: 2003\n",
        "sections/one.md": "# One\n\nAll three [@ref1; @ref2; @ref3].\n",
    })
    report = Diagnostics()
    citations = check(BuildConfig(content_dir=folder, use_cache=False), report).citations
    assert [str(d) for d in report] == []
    assert html_of(citations.clusters[0].inlines) == "(Doe 2001; Roe 2002; Poe 2003)"
    assert [e.key for e in citations.bibliography] == ["ref1", "ref3", "ref2"]
