"""Markdown sources -> one ParsedDocument: the Markdown stage's entry point.

Every source is parsed and numbered, for the whole document, before anything is rendered, because
cross-references and citations need every target first. The stage's parts, in the order they run:
``markdown_syntax.py`` (markdown-it and Pandoc's syntax as its rules), ``markdown_citations.py``
(citations and cross-references as written), ``markdown_checks.py`` (what markdown-it passes over in
silence), ``markdown_numbering.py`` (headings, figures and tables numbered in reading order) and, once
citations are formatted, ``markdown_render.py`` (tokens -> HTML).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Diagnostics, did_you_mean
from .markdown_citations import CitationCluster, CitationItem
from .markdown_numbering import DocumentParser, Fragment, Heading, ListEntry, Target
from .model import Briefing, ImageFigure, TimelineFigureSpec


@dataclass
class ParsedDocument:
    """Everything the Markdown stage learnt about the whole briefing."""

    summary: Fragment | None
    sections: list[Fragment]
    event_summaries: list[Fragment | None]
    event_citations: list[CitationCluster | None]
    headings: list[Heading] = field(default_factory=list)
    targets: dict[str, Target] = field(default_factory=dict)
    timeline_figures: list[TimelineFigureSpec] = field(default_factory=list)
    images: list[ImageFigure] = field(default_factory=list)
    citations: list[CitationCluster] = field(default_factory=list)
    bottom_line: Fragment | None = None
    appendices: list[Fragment] = field(default_factory=list)
    figure_list: list[ListEntry] = field(default_factory=list)
    """Every numbered figure, in order: the list of figures."""
    table_list: list[ListEntry] = field(default_factory=list)


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
    document.headings = parser.headings
    document.targets = parser.targets
    document.timeline_figures = parser.timeline_figures
    document.images = parser.images
    document.citations = parser.citations
    document.bottom_line = bottom_line
    document.appendices = appendices
    document.figure_list = parser.figure_list
    document.table_list = parser.table_list
    lists = briefing.lists
    for asked, entries, kind, hint in ((lists.figures, parser.figure_list, "figures", "an image or a timeline figure"),
                                       (lists.tables, parser.table_list, "tables", "a table with a 'Table: ' caption")):
        if asked and not entries:
            report.warning(lists.location, f"a list of {kind} is asked for, but the briefing has none ({hint} is listed)")
    for ref_id, location in parser.crossrefs:
        if ref_id not in parser.targets:
            known = [t for t in parser.targets if t.split("-")[0] == ref_id.split("-")[0]]
            report.error(location, f"unknown cross-reference '@{ref_id}'{did_you_mean(ref_id, known)}")
    return document


def _check_starts_with_title(fragment: Fragment, report: Diagnostics) -> None:
    first = fragment.tokens[0] if fragment.tokens else None
    if first is None or first.type != "heading_open" or first.tag != "h1":
        report.error(fragment.source.location, "a section file must start with a '# Title' heading")
