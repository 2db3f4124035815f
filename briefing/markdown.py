"""Markdown sources -> one ParsedDocument: the Markdown stage's entry point.

Every source is parsed and numbered, for the whole document, before anything is rendered, because
cross-references and citations need every target first. The stage's parts, in the order they run:
``markdown_syntax.py`` (markdown-it and Pandoc's syntax as its rules), ``markdown_citations.py``
(citations and cross-references as written), ``markdown_checks.py`` (what markdown-it passes over in
silence), ``markdown_numbering.py`` (headings, figures and tables numbered in reading order) and
``markdown_model.py`` (tokens -> the document model of ``model_text.py``, the only thing later stages see).
"""

from __future__ import annotations

from .errors import Diagnostics, did_you_mean
from .markdown_numbering import DocumentParser
from .model import Briefing
from .model_text import CitationItem, Fragment, Heading, ParsedDocument


def parse_document(briefing: Briefing, report: Diagnostics) -> ParsedDocument:
    """Parse every Markdown source in reading order, number it, and check cross-references."""
    parser = DocumentParser(report)
    bottom_line = parser.parse(briefing.bottom_line) if briefing.bottom_line else None
    summary = parser.parse(briefing.summary) if briefing.summary else None
    sections = []
    for section in briefing.sections:
        fragment = parser.parse(section.source)
        _check_starts_with_title(fragment, report)
        sections.append(fragment)
    parser.start_appendices()
    appendices = []
    for appendix in briefing.appendices:
        fragment = parser.parse(appendix.source)
        _check_starts_with_title(fragment, report)
        appendices.append(fragment)
    event_summaries = [parser.parse(e.summary) if e.summary else None for e in briefing.timeline.events]
    event_citations = []
    for event in briefing.timeline.events:
        items = tuple(CitationItem(s.key, s.location) for s in event.sources)
        event_citations.append(parser.new_cluster(items, event.location) if items else None)
    document = ParsedDocument(summary, sections, event_summaries, event_citations)
    document.targets = parser.targets
    document.timeline_figures = parser.timeline_figures
    document.images = parser.images
    document.citations = parser.citations
    document.bottom_line = bottom_line
    document.appendices = appendices
    lists = briefing.lists
    for asked, count, kind, hint in ((lists.figures, parser.figure_count, "figures", "an image or a timeline figure"),
                                     (lists.tables, parser.table_count, "tables", "a table with a 'Table: ' caption")):
        if asked and not count:
            report.warning(lists.location, f"a list of {kind} is asked for, but the briefing has none ({hint} is listed)")
    for ref_id, location in parser.crossrefs:
        if ref_id not in parser.targets:
            known = [t for t in parser.targets if t.split("-")[0] == ref_id.split("-")[0]]
            report.error(location, f"unknown cross-reference '@{ref_id}'{did_you_mean(ref_id, known)}")
    return document


def _check_starts_with_title(fragment: Fragment, report: Diagnostics) -> None:
    first = fragment.blocks[0] if fragment.blocks else None
    if not isinstance(first, Heading) or first.level != 1:
        report.error(fragment.source.location, "a section file must start with a '# Title' heading")
