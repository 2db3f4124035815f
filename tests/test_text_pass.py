"""The one text pass: every text a reader sees is finished once, in the pipeline, whatever file it came from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from briefing.config import BuildConfig, Variant
from briefing.errors import Diagnostics
from briefing.load import load_content
from briefing.markdown import parse_document
from briefing.model_html import runs_html
from briefing.model_text import Citation, Element, Inline, Run, RunKind, Span, Text, plain_text, walk
from briefing.pipeline import build, check, validate_or_fail
from briefing.text_finish import TextPass

from .conftest import ContentTree
from .helpers import page_texts

BRIEFING = """\
    title: "Iran's 'red lines'"
    subtitle: "The \\"maximum pressure\\" years -- and after..."
    date: "2025-06-01"
    authors: [{name: "Dan O'Brien", affiliation: "The 'Desk'"}]
    organization: O'Neill Institute
    sections: [sections/one.md]
    references: [refs.bib, refs.yaml]
    timeline: timeline.yaml
    revisions: [{date: "2025-05-01", note: "Draft's first \\"round\\""}]
    """
TIMELINE = """\
    categories: {talks: "Talks 'n' deals"}
    events:
      - {date: "2001-02-03", title: "The \\"Muscat\\" channel's start", label: "Muscat's start",
         category: talks, sources: [bib1], summary: "Oman's \\"quiet\\" role [@yaml1]."}
    """
SECTION = """\
    # One's "first"

    Text [@bib1; @yaml1], 'quoted', with `code's "marks"` and <https://example.org/it's>.

    ::: {#fig-one .timeline}
    The channel's "figure".
    :::
    """
BIBTEX = "@book{bib1, author = {Doe, Jane}, title = {Iran's Nuclear ``Question''}, year = 2001}\n"
CSL_YAML = "- id: yaml1\n  type: book\n  title: \"Tehran's 'red lines'\"\n  author: [{family: Roe, given: R}]\n  issued: 2002\n"
FILES = {"briefing.yaml": BRIEFING, "timeline.yaml": TIMELINE, "sections/one.md": SECTION,
         "refs.bib": BIBTEX, "refs.yaml": CSL_YAML}


def _finished(inlines: tuple[Inline, ...]) -> tuple[Inline, ...]:
    return TextPass("en").inlines(inlines)


def test_a_quote_opened_before_an_emphasis_closes_after_it() -> None:
    written = (Run('"'), Span("em", (Run("Iran"),)), Run("'s\" -- rise..."))
    assert plain_text(_finished(written)) == "\u201cIran\u2019s\u201d \u2013 rise\u2026"


def test_code_urls_and_escapes_keep_their_marks() -> None:
    written = (Run("it's "), Run("x = 'a'", RunKind.CODE), Run(" "), Run("https://a.org/it's--x", RunKind.URL),
               Run(" "), Run('"', RunKind.VERBATIM), Run("--"))
    finished = _finished(written)
    assert [r.text for r in finished if isinstance(r, Run)] == [
        "it\u2019s ", "x = 'a'", " ", "https://a.org/it's--x", " ", '"', "\u2013"]  # prose after an escape is prose


def test_a_data_file_text_is_a_str_with_its_runs() -> None:
    title = TextPass("en").text("Iran's talks in Muscat (مسقط)")
    assert isinstance(title, Text)
    assert isinstance(title, str)
    assert title == "Iran\u2019s talks in Muscat (مسقط)"
    assert runs_html(title.runs) == 'Iran\u2019s talks in Muscat (<span lang="ar">مسقط</span>)'


def test_loaders_leave_the_text_as_written_and_the_pipeline_finishes_it(content_tree: ContentTree) -> None:
    """The pass runs in one place: what validation and parsing return is as written; what ``check`` returns is finished."""
    folder = content_tree(FILES)
    report = Diagnostics()
    briefing = validate_or_fail(load_content(folder, report), report)
    document = parse_document(briefing, report)
    assert briefing.metadata.title == "Iran's 'red lines'"
    assert briefing.timeline.events[0].title == 'The "Muscat" channel\'s start'
    assert "'quoted'" in plain_text(document.sections[0].blocks)

    prepared = check(BuildConfig(content_dir=folder, use_cache=False), Diagnostics())
    meta, event = prepared.briefing.metadata, prepared.briefing.timeline.events[0]
    texts = [meta.title, meta.subtitle, meta.organization, meta.authors[0].name, meta.authors[0].affiliation,
             event.title, event.label, prepared.briefing.timeline.categories[0].label, prepared.briefing.revisions[0].note]
    assert all(isinstance(text, Text) for text in texts)
    assert [text for text in texts if re.search("['\"]", str(text))] == []
    assert meta.title == "Iran\u2019s \u2018red lines\u2019"
    section = plain_text(prepared.document.sections[0].blocks)
    assert "\u2018quoted\u2019" in section
    assert "code's \"marks\"" in section
    assert "it's" in section
    summary = prepared.document.event_summaries[0]
    assert summary is not None
    assert plain_text(summary.blocks).startswith("Oman\u2019s \u201cquiet\u201d")
    formatted = [*(c.inlines for c in prepared.citations.clusters), *(e.inlines for e in prepared.citations.bibliography)]
    assert [plain_text(i) for i in formatted if re.search("['\"]", plain_text(i))] == []
    assert any(isinstance(n, Citation) for n in walk(prepared.document.sections[0].blocks))


def test_the_model_has_no_parser_tokens(content_tree: ContentTree) -> None:
    """Later stages see plain typed blocks: a list item is an Element, not markdown-it's tokens."""
    folder = content_tree({"sections/one.md": "# One\n\n- a *b*\n- c\n"})
    prepared = check(BuildConfig(content_dir=folder, use_cache=False), Diagnostics())
    blocks = prepared.document.sections[0].blocks
    items = [n for n in walk(blocks) if isinstance(n, Element) and n.tag == "li"]
    assert len(items) == 2
    assert items[0].children == (Run("a "), Span("em", (Run("b"),)))


@pytest.mark.slow
def test_no_straight_quotes_from_any_file_reach_the_pdf(content_tree: ContentTree, tmp_path: Path) -> None:
    folder = content_tree(FILES)
    config = BuildConfig(folder, tmp_path / "out", (Variant.PDF,), cache_dir=tmp_path / "cache", epoch=0)
    text = "\n".join(page_texts(next(o.path for o in build(config).outputs if o.path.suffix == ".pdf")))
    outside_code = re.sub(r"https?://\s?\S+|code's \"marks\"", "", text)  # a URL may break after its //
    assert [line for line in outside_code.splitlines() if re.search("['\"]", line)] == []
    flat = " ".join(text.split())
    for expected in ("Iran\u2019s \u2018red lines\u2019", "\u201cmaximum pressure\u201d years \u2013 and after\u2026",
                     "Dan O\u2019Brien", "Draft\u2019s first \u201cround\u201d", "channel\u2019s start",
                     "Oman\u2019s \u201cquiet\u201d role", "Iran\u2019s Nuclear", "Tehran\u2019s \u201cRed Lines\u201d",
                     "The channel\u2019s \u201cfigure\u201d", "code's \"marks\"", "example.org/it's"):
        assert expected in flat, expected
