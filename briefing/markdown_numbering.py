"""Markdown fragments, parsed in reading order -> numbered headings, figures and tables, and their targets.

Numbering needs the whole document in order (section 2 follows section 1's file; cross-references
point anywhere), so one ``DocumentParser`` parses every fragment and keeps the count between them.
"""

from __future__ import annotations

import re
from typing import Any

from markdown_it.token import Token

from .errors import Diagnostics, SourceLocation
from .markdown_checks import check_structure
from .markdown_model import ModelBuilder
from .markdown_syntax import make_markdown
from .model import ImageFigure, MarkdownSource, TimelineFigureSpec
from .model_text import CitationCluster, CitationItem, Fragment, Target


class DocumentParser:
    """Holds the numbering state while the document's fragments are parsed in order."""

    def __init__(self, report: Diagnostics) -> None:
        self.report = report
        self.targets: dict[str, Target] = {}
        self.crossrefs: list[tuple[str, SourceLocation]] = []
        self.timeline_figures: list[TimelineFigureSpec] = []
        self.images: list[ImageFigure] = []
        self.citations: list[CitationCluster] = []
        self.section_numbers = [0, 0]
        self.appendix = False
        self.figure_count = 0
        self.table_count = 0
        self.md = make_markdown()

    def parse(self, source: MarkdownSource) -> Fragment:
        env: dict[str, Any] = {"source": source, "report": self.report, "parser": self}
        tokens = self.md.parse(source.text, env)
        check_structure(tokens, env, source, self.location, self.report)
        tokens, notes = _without_footnote_block(tokens)
        return Fragment(source, ModelBuilder(self, source, notes).blocks(tokens))

    def start_appendices(self) -> None:
        """What is parsed from now on is lettered: A, A.1, B…"""
        self.appendix = True
        self.section_numbers = [0, 0]

    def location(self, source: MarkdownSource, line: int | None, column: int | None = None) -> SourceLocation:
        base = source.location
        if line is None or base.line is None:
            return base
        return SourceLocation(base.path, base.line + line, column)

    def new_cluster(self, items: tuple[CitationItem, ...], location: SourceLocation, narrative: bool = False) -> CitationCluster:
        cluster = CitationCluster(len(self.citations), items, location, narrative)
        self.citations.append(cluster)
        return cluster

    def add_target(
        self, target_id: str, kind: str, number: str, location: SourceLocation, appendix: bool = False
    ) -> None:
        if target_id in self.targets:
            self.report.error(location, f"duplicate id '{target_id}'")
            return
        self.targets[target_id] = Target(target_id, kind, number, appendix)

    def number_figure(
        self, ident: str | None, location: SourceLocation, timeline: TimelineFigureSpec | None = None
    ) -> str:
        """The next figure's number; a figure without an id is a target for the list of figures only."""
        self.figure_count += 1
        number = str(self.figure_count)
        if timeline is not None:
            self.timeline_figures.append(timeline)
        if ident:
            self.add_target(ident, "fig", number, location)
        return number

    def number_table(self, ident: str | None, location: SourceLocation) -> str:
        self.table_count += 1
        number = str(self.table_count)
        if ident:
            self.add_target(ident, "tbl", number, location)
        return number

    def number_heading(
        self, level: int, ident: str | None, classes: list[str], written: str, location: SourceLocation
    ) -> tuple[str | None, str, bool]:
        """The heading's number (None: unnumbered), its id (made from its text when it has none), in an appendix."""
        number = None
        if level <= 2 and "unnumbered" not in classes and "-" not in classes:  # Pandoc's {.unnumbered} and {-}
            self.section_numbers[level - 1] += 1
            if level == 1:
                self.section_numbers[1] = 0
            first = _letters(self.section_numbers[0]) if self.appendix else str(self.section_numbers[0])
            number = first if level == 1 else f"{first}.{self.section_numbers[1]}"
        heading_id = ident or self._unique_slug(written)
        self.add_target(heading_id, "sec", number or "", location, appendix=self.appendix)
        return number, heading_id, self.appendix

    def _unique_slug(self, text: str) -> str:
        base = "sec-" + (re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section")
        slug, counter = base, 1
        while slug in self.targets:
            counter += 1
            slug = f"{base}-{counter}"
        return slug


def _letters(number: int) -> str:
    """1 -> 'A', 26 -> 'Z', 27 -> 'AA': the letter of an appendix."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _without_footnote_block(tokens: list[Token]) -> tuple[list[Token], dict[int, list[Token]]]:
    """Footnote bodies apart, by id, so each is set where it is called (CSS float: footnote)."""
    bodies: dict[int, list[Token]] = {}
    kept: list[Token] = []
    current: list[Token] | None = None
    for token in tokens:
        if token.type == "footnote_open":
            current = bodies.setdefault(token.meta["id"], [])
        elif token.type == "footnote_close":
            current = None
        elif token.type in ("footnote_block_open", "footnote_block_close", "footnote_anchor"):
            continue
        elif current is not None:
            current.append(token)
            for child in token.children or []:
                if child.type == "citation":
                    child.meta["cluster"].in_note = True
        else:
            kept.append(token)
    return kept, bodies
