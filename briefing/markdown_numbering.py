"""Markdown fragments, parsed in reading order -> numbered headings, figures and tables, and their targets.

Numbering needs the whole document in order (section 2 follows section 1's file; cross-references
point anywhere), so one ``DocumentParser`` parses every fragment and keeps the count between them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from .errors import Diagnostics, SourceLocation
from .markdown_checks import check_structure
from .markdown_citations import CROSSREF_PREFIXES, CitationCluster, CitationItem
from .markdown_syntax import make_markdown
from .model import ImageFigure, MarkdownSource, TimelineFigureSpec


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    number: str | None
    text: str
    tokens: tuple[Token, ...]
    """The inline tokens, so the contents can show emphasis as the heading does."""
    appendix: bool = False
    """In an appendix: numbered A, A.1…, and named "Appendix A" in the contents."""


@dataclass(frozen=True)
class ListEntry:
    """A numbered figure or table, for the list of figures or tables."""

    id: str
    number: str
    text: str
    """The caption as plain text, without its citations and notes."""


@dataclass(frozen=True)
class Target:
    """What a cross-reference points to."""

    id: str
    kind: str
    number: str
    appendix: bool = False
    """A heading of an appendix: "Appendix A", not "Section A"."""

    @property
    def label(self) -> str:
        return f"{CROSSREF_PREFIXES[self.kind]}\u00a0{self.number}"  # never split "Section | 2.1"

    @property
    def kind_name(self) -> str:
        """The key of its word in the language's strings ('section', 'appendix', 'figure', 'table')."""
        return "appendix" if self.appendix else CROSSREF_PREFIXES[self.kind].lower()


@dataclass
class Fragment:
    """One Markdown source, parsed; rendered later when citations are resolved."""

    source: MarkdownSource
    tokens: list[Token]
    env: dict[str, Any]
    options: OptionsDict


class DocumentParser:
    """Holds the numbering state while the document's fragments are parsed in order."""

    def __init__(self, report: Diagnostics) -> None:
        self.report = report
        self.headings: list[Heading] = []
        self.targets: dict[str, Target] = {}
        self.crossrefs: list[tuple[str, SourceLocation]] = []
        self.timeline_figures: list[TimelineFigureSpec] = []
        self.images: list[ImageFigure] = []
        self.citations: list[CitationCluster] = []
        self.section_numbers = [0, 0]
        self.appendix = False
        self.figure_list: list[ListEntry] = []
        self.table_list: list[ListEntry] = []
        self.figure_count = 0
        self.table_count = 0
        self.md = make_markdown()

    def parse(self, source: MarkdownSource) -> Fragment:
        env: dict[str, Any] = {"source": source, "report": self.report, "parser": self}
        tokens = self.md.parse(source.text, env)
        check_structure(tokens, env, source, self.location, self.report)
        tokens = _without_footnote_block(tokens, env)
        for key in ("parser", "report", "line"):  # parsing state only: a fragment must stay plain data
            env.pop(key, None)
        fragment = Fragment(source, tokens, env, self.md.options)
        self._number(fragment)
        return fragment

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

    def _number(self, fragment: Fragment) -> None:
        """Number headings, figures and tables in reading order, as the reader meets them."""
        tokens = fragment.tokens
        for index, token in enumerate(tokens):
            location = self.location(fragment.source, token.map[0] if token.map else None, 1)
            if token.type == "heading_open":
                self._number_heading(token, tokens[index + 1], location)
            elif token.type == "timeline_open":
                self.figure_count += 1
                token.meta["number"] = str(self.figure_count)
                spec = token.meta["spec"]
                self.timeline_figures.append(spec)
                self.add_target(spec.id, "fig", str(self.figure_count), location)
                caption = [c for t in tokens[index + 1: matching_close(tokens, index)] for c in t.children or []]
                self.figure_list.append(ListEntry(spec.id, str(self.figure_count), plain_caption(caption)))
            elif token.type == "image_figure_open":
                self.figure_count += 1
                token.meta["number"] = str(self.figure_count)
                if token.attrGet("id"):
                    self.add_target(str(token.attrGet("id")), "fig", str(self.figure_count), location)
                else:  # not for cross-references, only the list of figures' link
                    token.attrSet("id", f"figure-{self.figure_count}")
                image: Token = token.meta["image"]
                entry = ListEntry(str(token.attrGet("id")), str(self.figure_count), plain_caption(image.children or []))
                self.figure_list.append(entry)
            elif token.type == "table_open" and "caption" in token.meta:
                self.table_count += 1
                token.meta["number"] = str(self.table_count)
                if token.attrGet("id"):
                    self.add_target(str(token.attrGet("id")), "tbl", str(self.table_count), location)
                else:
                    token.attrSet("id", f"table-{self.table_count}")
                words = plain_caption(token.meta["caption"].children or [])
                self.table_list.append(ListEntry(str(token.attrGet("id")), str(self.table_count), words))

    def _number_heading(self, token: Token, inline: Token, location: SourceLocation) -> None:
        level = int(token.tag[1])
        heading_id = str(token.attrGet("id") or "")
        number = None
        classes = str(token.attrGet("class") or "").split()
        if level <= 2 and "unnumbered" not in classes and "-" not in classes:  # Pandoc's {.unnumbered} and {-}
            self.section_numbers[level - 1] += 1
            if level == 1:
                self.section_numbers[1] = 0
            first = _letters(self.section_numbers[0]) if self.appendix else str(self.section_numbers[0])
            number = first if level == 1 else f"{first}.{self.section_numbers[1]}"
            token.meta["number"] = number
            token.meta["appendix"] = self.appendix and level == 1  # "Appendix A" before its title
        if not heading_id:
            heading_id = self._unique_slug(inline.content)
            token.attrSet("id", heading_id)
        self.add_target(heading_id, "sec", number or "", location, appendix=self.appendix)
        text = "".join(child.content for child in inline.children or [] if child.type in ("text", "code_inline"))
        self.headings.append(Heading(level, heading_id, number, text, tuple(inline.children or []), self.appendix))

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


def plain_caption(children: Sequence[Token]) -> str:
    """A caption as a list of figures shows it: its words, without citations or note calls."""
    words = []
    for child in children:
        if child.type in ("text", "code_inline"):
            words.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            words.append(" ")
    text = " ".join("".join(words).split())
    text = re.sub(r"\s+([.,;:!?)])", r"\1", text)  # the space a removed citation leaves before punctuation
    return re.sub(r"\(\s*\)", "", text).strip()


def _without_footnote_block(tokens: list[Token], env: dict[str, Any]) -> list[Token]:
    """Move footnote bodies into ``env`` so each renders where it is called (CSS float: footnote)."""
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
    env["footnote_bodies"] = bodies
    return kept


def matching_close(tokens: Sequence[Token], open_index: int) -> int:
    """The index of the token that closes the one opened at ``open_index`` (a figure, a div)."""
    depth = 0
    for index in range(open_index, len(tokens)):
        depth += tokens[index].nesting
        if depth == 0:
            return index
    return len(tokens) - 1
