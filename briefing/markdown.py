"""Markdown sources -> parsed token streams, numbered outline, figures, tables and citation clusters.

The syntax is CommonMark with tables and footnotes, plus Pandoc's heading ids, fenced divs,
citations and cross-references, each added as a markdown-it rule (the plugin style of
markdown-it-py). Parsing and numbering happen for the whole document before anything is
rendered, because cross-references and citations need every target first.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.subscript import sub_plugin
from mdit_py_plugins.superscript import superscript_plugin

from .errors import Diagnostics, SourceLocation, did_you_mean
from .image_size import IMAGE_SIZE_ATTRIBUTES, image_size
from .markdown_checks import MARKDOWN_IT_NESTING, check_structure
from .model import Briefing, ImageFigure, MarkdownSource, PartialDate, TimelineFigureSpec
from .typography import TYPOGRAPHY, protect_names
from .validate import ID_PATTERN, LANGUAGE_PATTERN, parse_partial_date

ALLOWED_ATTRIBUTES = ("id", "class", "lang", *IMAGE_SIZE_ATTRIBUTES)
"""On spans, links and images; ``lang`` marks a run in another language (hyphenation, the PDF's tags);
``width`` and ``height`` on images only (checked, then written as our own CSS)."""
CALLOUT_KINDS = ("note", "tip", "important", "warning", "caution")
"""Quarto's callouts: ``::: {.callout-note}`` with an optional ``##`` title as its first line."""
"""``{#id .class}`` only: ``style`` or ``rel=attachment`` would let content restyle or embed files."""
CROSSREF_PREFIXES = {"sec": "Section", "fig": "Figure", "tbl": "Table"}
CITATION_KEY = r"[A-Za-z0-9_](?:[\w:.#$%&+?<>~/\-]*[\w])?"
_NARRATIVE_RE = re.compile(rf"(-?)@({CITATION_KEY})")
_NARRATIVE_SUFFIX_RE = re.compile(r" ?\[(?![\^@])([^\[\]@\n]*)\](?![(\[:])")
"""The bracketed suffix after a narrative key; not a link, a footnote call or a citation."""
_CITE_ITEM_RE = re.compile(rf"^(?P<prefix>.*?)(?P<suppress>-?)@(?P<key>{CITATION_KEY})(?P<rest>.*)$", re.S)
_LOCATOR_RE = re.compile(
    r"^\s*(?:(?P<label>[A-Za-z]+(?:\.\s*|\s+)))?"
    r"(?P<value>(?:\d\w*|[ivxlcdm]+\b)(?:\s*(?:[-\u2013,&]|and)\s*(?:\d\w*|[ivxlcdm]+\b))*)(?P<suffix>.*)$",
    re.S,
)
"""A locator as Pandoc reads one: an optional label ("p.", "chap.", "sec."…; the CSL style decides
which labels it knows), then numbers, ranges and lists ("4", "12-14", "4, 7", "iv"); the rest is suffix."""
_TRAILING_ATTRS_RE = re.compile(r"\s*\{(?P<attrs>[^{}]*)\}\s*$")
NOTE_PUNCTUATION = ".,;:!?"
"""Punctuation a note call moves after, as Pandoc does for English."""
_TABLE_CAPTION_RE = re.compile(r"^(?:Table)?:\s+")
_IMAGE_ATTRS_RE = re.compile(r"\)\{[^{}\n]*\}")
_PERCENT_VALUE_RE = re.compile(r"(?<=[\s{])(width|height)=(\d+(?:\.\d+)?%)(?=[\s}])")
"""``width=40%`` as Pandoc users write it: the attribute parser reads ``%`` as a comment, so it is quoted first."""


@dataclass(frozen=True)
class CitationItem:
    key: str
    location: SourceLocation
    prefix: str = ""
    locator_label: str | None = None
    """As written, with its period ("p.", "chap."); None for a bare number (a page)."""
    locator: str | None = None
    suffix: str = ""
    """As written after the locator, punctuation included (", emphasis added")."""
    suppress_author: bool = False
    written_suffix: str = ""
    """Everything written after the key (", p. 4, emphasis added"; "p. 810" in ``@key [p. 810]``):
    what pandoc's citeproc reads the locator from."""


@dataclass
class CitationCluster:
    """One citation as written (``[@a, p. 4; @b]``); ``index`` is its order in the document."""

    index: int
    items: tuple[CitationItem, ...]
    location: SourceLocation
    narrative: bool = False
    in_note: bool = False
    """Written inside a footnote: a note style formats it in the note's text, not as a note of its own."""


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
    parser = _Parser(report)
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


class _Parser:
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
        self.md = _make_markdown()

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
                caption = [c for t in tokens[index + 1: _matching_close(tokens, index)] for c in t.children or []]
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


# -- markdown-it set-up and rules ------------------------------------------------------------


def _make_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": True, "maxNesting": MARKDOWN_IT_NESTING})
    md.enable(["table", *TYPOGRAPHY])
    md.use(footnote_plugin).use(attrs_plugin, allowed=ALLOWED_ATTRIBUTES, spans=True)
    md.use(sub_plugin).use(superscript_plugin).use(deflist_plugin)  # H~2~O, x^2^, definition lists
    md.core.ruler.after("block", "line_blocks", _line_blocks)
    md.block.ruler.before("fence", "fenced_div", _fenced_div, {"alt": ["paragraph"]})
    md.core.ruler.after("block", "heading_attributes", _heading_attributes)
    md.core.ruler.after("heading_attributes", "table_captions", _table_captions)
    md.core.ruler.after("smartquotes", "move_table_captions", _move_table_captions)
    md.core.ruler.before("inline", "percent_lengths", _quote_percent_lengths)
    md.core.ruler.at("inline", _inline_with_lines)
    md.core.ruler.after("inline", "image_figures", _image_figures)
    md.core.ruler.after("image_figures", "refused_attributes", _refused_attributes)
    md.core.ruler.after("refused_attributes", "image_sizes", _image_sizes)
    md.inline.ruler.before("link", "citation", _bracketed_citation)
    md.inline.ruler.before("text", "narrative_citation", _narrative_citation)
    return md


def _parse_attributes(text: str) -> tuple[str | None, list[str], dict[str, str]]:
    """Pandoc attributes ``#id .class key="value"`` -> (id, classes, key/values)."""
    ident, classes, pairs = None, [], {}
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    for word in words:
        if word.startswith("#"):
            ident = word[1:]
        elif word.startswith("."):
            classes.append(word[1:])
        elif "=" in word:
            key, value = word.split("=", 1)
            pairs[key] = value
        else:
            classes.append(word)
    return ident, classes, pairs


def _heading_attributes(state: StateCore) -> None:
    """``## Title {#sec-x .unnumbered}``: strip the braces into attributes."""
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline = tokens[index + 1]
        match = _TRAILING_ATTRS_RE.search(inline.content)
        if not match:
            continue
        inline.content = inline.content[: match.start()]
        ident, classes, pairs = _parse_attributes(match["attrs"])
        if ident:
            _check_id(state.env, ident, token)
            token.attrSet("id", ident)
        if classes:
            token.attrSet("class", " ".join(classes))
        for key, value in pairs.items():
            if key == "short" and value.strip():
                token.attrSet("data-short", value.strip())  # the running head's form of a long title
            else:
                parser: _Parser = state.env["parser"]
                location = parser.location(state.env["source"], token.map[0] if token.map else None, 1)
                parser.report.error(location, f"unknown heading attribute '{key}'{did_you_mean(key, ['short'])} "
                                              "(headings take an {#id}, classes and short=\"running head\")")


def _check_id(env: EnvType, ident: str, token: Token) -> None:
    if not ID_PATTERN.match(ident):
        parser: _Parser = env["parser"]
        location = parser.location(env["source"], token.map[0] if token.map else None, 1)
        parser.report.error(location, f"'{ident}' is not a valid id (letters, digits and hyphens)")


def _table_captions(state: StateCore) -> None:
    """A paragraph ``Table: Caption {#tbl-x}`` right after a table becomes its caption."""
    tokens = state.tokens
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "table_close" and index + 3 < len(tokens) and tokens[index + 1].type == "paragraph_open":
            inline = tokens[index + 2]
            if _TABLE_CAPTION_RE.match(inline.content):
                table_open = _matching_open(tokens, index)
                caption = _TABLE_CAPTION_RE.sub("", inline.content, count=1)
                if match := _TRAILING_ATTRS_RE.search(caption):
                    caption = caption[: match.start()]
                    ident, _, _ = _parse_attributes(match["attrs"])
                    if ident:
                        _check_id(state.env, ident, tokens[index + 1])
                        table_open.attrSet("id", ident)
                inline.content = caption
                table_open.meta["caption"] = inline
                tokens[index + 1].meta["table_caption"] = True  # taken out after the typographer saw it
        index += 1


def _move_table_captions(state: StateCore) -> None:
    """The caption paragraphs leave the flow once the inline rules and the typographer have run on them."""
    tokens = state.tokens
    index = 0
    while index < len(tokens):
        if tokens[index].type == "paragraph_open" and tokens[index].meta.get("table_caption"):
            del tokens[index: index + 3]
            continue
        index += 1


def _matching_open(tokens: list[Token], close_index: int) -> Token:
    depth = 0
    for index in range(close_index, -1, -1):
        depth += tokens[index].nesting
        if depth == 0:
            return tokens[index]
    raise AssertionError("unbalanced tokens")


def _inline_with_lines(state: StateCore) -> None:
    """markdown-it's inline step, telling inline rules the line they are on (for locations)."""
    for token in state.tokens:
        if token.type == "inline":
            state.env["line"] = token.map[0] if token.map else None
            token.children = []
            state.md.inline.parse(token.content, state.md, state.env, token.children)
    for inline in (t.meta["caption"] for t in state.tokens if "caption" in t.meta):
        if not inline.children:
            inline.children = []
            state.md.inline.parse(inline.content, state.md, state.env, inline.children)


def _image_figures(state: StateCore) -> None:
    """A paragraph holding only an image becomes a numbered figure with its alt text as caption."""
    tokens = state.tokens
    parser: _Parser = state.env["parser"]
    for index, token in enumerate(tokens):
        if token.type != "paragraph_open":
            continue
        inline = tokens[index + 1]
        children = [c for c in inline.children or [] if not (c.type == "text" and not c.content.strip())]
        for child in inline.children or []:
            if child.type == "image":
                location = parser.location(state.env["source"], inline.map[0] if inline.map else None, 1)
                path = unquote(str(child.attrGet("src")))  # markdown-it percent-encodes: 'carte-%C3%A9.png'
                parser.images.append(ImageFigure(child.attrGet("id"), path, location))  # type: ignore[arg-type]
        if len(children) == 1 and children[0].type == "image":
            image = children[0]
            token.type, tokens[index + 2].type = "image_figure_open", "image_figure_close"
            if image.attrGet("id"):
                token.attrSet("id", str(image.attrGet("id")))
                del image.attrs["id"]
            token.meta["image"] = image


def _line_blocks(state: StateCore) -> None:
    """Pandoc's line blocks: a paragraph whose every line starts with ``| `` keeps its line breaks."""
    for token in state.tokens:
        if token.type != "inline" or not token.content.startswith("|"):
            continue
        lines = token.content.split("\n")
        if all(re.match(r"^\|( |$)", line) for line in lines) and not any("|" in line[1:] for line in lines):
            # a trailing backslash is CommonMark's hard line break
            token.content = "\\\n".join(line[2:] if len(line) > 1 else "" for line in lines)


def _refused_attributes(state: StateCore) -> None:
    """Report the attributes the attrs plugin dropped, rather than losing them silently."""
    parser: _Parser = state.env["parser"]
    for block in state.tokens:
        for token in [block, *(block.children or [])]:
            location = parser.location(state.env["source"], block.map[0] if block.map else None, 1)
            for name in token.meta.get("insecure_attrs", {}) if token.meta else {}:
                parser.report.error(
                    location, f"attribute '{name}' is not allowed (only #id, .class and lang; width and height on images)"
                )
            language = token.attrs.get("lang") if token.attrs else None
            if language is not None and not LANGUAGE_PATTERN.match(str(language)):  # it becomes an HTML attribute
                parser.report.error(location, f"lang='{language}' is not a BCP 47 tag such as 'fa' or 'ar-EG'")
                del token.attrs["lang"]


def _quote_percent_lengths(state: StateCore) -> None:
    """``{width=40%}`` after an image, as Pandoc reads it: quoted, so the attribute parser keeps the value."""
    for token in state.tokens:
        if token.type == "inline" and "%" in token.content:
            token.content = _IMAGE_ATTRS_RE.sub(
                lambda m: _PERCENT_VALUE_RE.sub(r'\1="\2"', m[0]), token.content
            )


def _image_sizes(state: StateCore) -> None:
    """``width``/``height`` on an image become its size (checked); on anything else they are an error."""
    parser: _Parser = state.env["parser"]
    for block in state.tokens:
        location = parser.location(state.env["source"], block.map[0] if block.map else None, 1)
        for token in [block, *(block.children or [])]:
            given = {key: str(token.attrs.pop(key)) for key in IMAGE_SIZE_ATTRIBUTES if key in token.attrs}
            if not given:
                continue
            if token.type != "image":
                for key in given:
                    parser.report.error(location, f"attribute '{key}' is only for images (![caption](file){{{key}=40%}})")
                continue
            size, problems = image_size(given)
            for problem in problems:
                parser.report.error(location, problem)
            token.meta["size"] = size


def _fenced_div(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Pandoc fenced divs: ``::: {#fig-x .timeline from="2015"}`` ... ``:::``."""
    start = state.bMarks[start_line] + state.tShift[start_line]
    line_text = state.src[start: state.eMarks[start_line]]
    opening = re.match(r"^(:{3,})\s*(?:\{(?P<attrs>[^}]*)\}|(?P<word>[\w\-]+))?\s*:*\s*$", line_text)
    if not opening or not (opening["attrs"] or opening["word"]):
        return False
    if silent:
        return True
    depth, line = 1, start_line + 1
    while line < end_line:
        text = state.src[state.bMarks[line] + state.tShift[line]: state.eMarks[line]]
        if re.match(r"^:{3,}\s*(\{[^}]*\}|[\w\-]+)", text):
            depth += 1
        elif re.match(r"^:{3,}\s*$", text):
            depth -= 1
            if depth == 0:
                break
        line += 1
    ident, classes, pairs = _parse_attributes(opening["attrs"] or "." + opening["word"])
    kind = "timeline" if "timeline" in classes else "div"
    parser: _Parser = state.env["parser"]
    callouts = [c for c in classes if c.startswith("callout-")]
    for callout in callouts:
        if callout.removeprefix("callout-") not in CALLOUT_KINDS:
            parser.report.error(
                parser.location(state.env["source"], start_line, 1),
                f"unknown callout '.{callout}'{did_you_mean(callout, [f'callout-{k}' for k in CALLOUT_KINDS])} "
                f"(callouts: {', '.join(f'.callout-{k}' for k in CALLOUT_KINDS)})",
            )
    open_token = state.push(f"{kind}_open", "figure" if kind == "timeline" else "div", 1)
    open_token.map = [start_line, line]
    if ident:
        open_token.attrSet("id", ident)
    if classes:
        open_token.attrSet("class", " ".join(classes))
    if kind == "timeline":
        open_token.meta["spec"] = _timeline_spec(state, start_line, ident, pairs)
    old_parent, old_max = state.parentType, state.lineMax
    state.parentType = "blockquote"  # keeps lazy paragraph continuation from eating the fence
    state.lineMax = line
    first_inner = len(state.tokens)
    state.md.block.tokenize(state, start_line + 1, line)
    state.parentType, state.lineMax = old_parent, old_max
    if callouts:
        _callout_title(state.tokens, first_inner)
    state.push(f"{kind}_close", "figure" if kind == "timeline" else "div", -1)
    if line >= end_line:
        parser.report.error(parser.location(state.env["source"], start_line, 1), "fenced div is never closed (add a ':::' line)")
    state.line = min(line + 1, end_line)
    return True


def _callout_title(tokens: list[Token], first: int) -> None:
    """A heading that opens a callout is its title, not a section: no number, no contents entry."""
    if first + 2 < len(tokens) and tokens[first].type == "heading_open":
        for token, kind in ((tokens[first], "paragraph_open"), (tokens[first + 2], "paragraph_close")):
            token.type, token.tag = kind, "p"
        tokens[first].attrs = {"class": "callout-title"}


TIMELINE_OPTIONS = ["from", "to", "tags", "labels", "inset", "rows", "width", "height"]
LABEL_STRATEGIES = ["auto", "direct", "inset", "callouts"]
"""``labels=``: choose for me; labels only; zoom the crowded interval; number every event."""
MAX_LABEL_ROWS = 4


def _timeline_spec(state: StateBlock, line: int, ident: str | None, pairs: dict[str, str]) -> TimelineFigureSpec:
    parser: _Parser = state.env["parser"]
    location = parser.location(state.env["source"], line, 1)
    for key in pairs:
        if key not in TIMELINE_OPTIONS:
            parser.report.error(location, f"unknown timeline option '{key}'{did_you_mean(key, TIMELINE_OPTIONS)}")
    if not ident or not ident.startswith("fig-"):
        parser.report.error(location, "a timeline figure needs an id starting with 'fig-', e.g. {#fig-timeline .timeline}")
        ident = ident or f"fig-timeline-{len(parser.timeline_figures) + 1}"
    dates = {}
    for key in ("from", "to"):
        if key in pairs:
            dates[key] = parse_partial_date(pairs[key])
            if dates[key] is None:
                parser.report.error(
                    location, f"timeline '{ident}': {key}='{pairs[key]}' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)"
                )
    options = _FigureOptions(parser.report, location, ident)
    labels = pairs.get("labels", "auto")
    if labels not in LABEL_STRATEGIES:
        options.error("labels", labels, f"use one of {', '.join(LABEL_STRATEGIES)}{did_you_mean(labels, LABEL_STRATEGIES)}")
        labels = "auto"
    inset, allow_inset = options.inset(pairs.get("inset"))
    return TimelineFigureSpec(
        ident,
        location,
        dates.get("from"),
        dates.get("to"),
        tuple(pairs.get("tags", "").split()),
        labels=labels,
        inset=inset,
        allow_inset=allow_inset,
        rows=options.rows(pairs.get("rows")),
        width_mm=options.length("width", pairs.get("width")),
        height_mm=options.length("height", pairs.get("height")),
    )


@dataclass
class _FigureOptions:
    """Reads the figure attributes beyond the filters; each bad value is a located error."""

    report: Diagnostics
    location: SourceLocation
    ident: str

    def error(self, key: str, value: str, expected: str) -> None:
        self.report.error(self.location, f"timeline '{self.ident}': {key}='{value}' is not valid ({expected})")

    def inset(self, value: str | None) -> tuple[tuple[PartialDate, PartialDate] | None, bool]:
        """``inset="2025-02/2025-06"`` zooms that interval; ``inset="none"`` never zooms."""
        if value is None:
            return None, True
        if value == "none":
            return None, False
        first, _, last = value.partition("/")
        dates = (parse_partial_date(first.strip()), parse_partial_date(last.strip()))
        if dates[0] is None or dates[1] is None:
            self.error("inset", value, "use FIRST/LAST with dates YYYY, YYYY-MM or YYYY-MM-DD, or 'none'")
            return None, True
        if dates[1].last_day() < dates[0].first_day():
            self.error("inset", value, "the interval ends before it starts")
            return None, True
        return (dates[0], dates[1]), True

    def rows(self, value: str | None) -> int:
        if value is None:
            return 2
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_LABEL_ROWS:
            self.error("rows", value, f"use a number of label rows per side from 1 to {MAX_LABEL_ROWS}")
            return 2
        return int(value)

    def length(self, key: str, value: str | None) -> float | None:
        """``width="120mm"``, ``height="6cm"``: a length in mm or cm."""
        if value is None:
            return None
        match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(mm|cm)", value.strip())
        if not match or float(match[1]) == 0:
            self.error(key, value, "use a length in mm or cm, e.g. 120mm")
            return None
        millimetres = float(match[1]) * (10 if match[2] == "cm" else 1)
        if millimetres < 40:
            self.error(key, value, "a timeline figure needs at least 40mm")
            return None
        return millimetres


def _inline_location(state: StateInline, position: int) -> SourceLocation:
    parser: _Parser = state.env["parser"]
    source: MarkdownSource = state.env["source"]
    before = state.src[:position]
    line_offset = before.count("\n")
    column = position - (before.rfind("\n") + 1) + 1
    block_line = state.env.get("line")
    return parser.location(source, None if block_line is None else block_line + line_offset, column)


def _bracketed_citation(state: StateInline, silent: bool) -> bool:
    """``[@a, p. 4; see @b]``, ``[-@a]``; also ``[@sec-x]`` for cross-references."""
    if state.src[state.pos] != "[" or "@" not in state.src[state.pos: state.pos + 200]:
        return False
    end = state.md.helpers.parseLinkLabel(state, state.pos, False)
    if end < 0 or state.src[end + 1: end + 2] in ("(", "["):
        return False  # a link, not a citation
    body = state.src[state.pos + 1: end]
    parts = body.split(";")
    matches = [_CITE_ITEM_RE.match(p) for p in parts]
    if not all(matches):
        return False
    if silent:
        state.pos = end + 1
        return True
    parser: _Parser = state.env["parser"]
    offset = state.pos + 1
    items = []
    for part, match in zip(parts, matches, strict=True):
        assert match is not None
        location = _inline_location(state, offset + match.start("key") - 1)
        offset += len(part) + 1
        key = match["key"]
        if _is_crossref(key):
            _push_crossref(state, key, location)
            continue
        items.append(_citation_item(match, location))
    state.pos = end + 1
    if items:
        # Kept apart so that, in a note style, the note can follow the punctuation with no space
        # before it ("as reported.¹"), as Pandoc places it; an in-text citation puts both back.
        space = state.pending[len(state.pending.rstrip(" ")):]
        state.pending = state.pending[: len(state.pending) - len(space)]
        if not state.pending and not space and state.tokens and state.tokens[-1].type == "softbreak":
            state.tokens.pop()  # a citation at the start of a source line: the line break is the space
            space = " "
        token = state.push("citation", "", 0)
        token.meta["cluster"] = parser.new_cluster(tuple(items), items[0].location)
        token.meta["space_before"] = space
        punctuation = state.src[state.pos: state.pos + 1]
        if punctuation and punctuation in NOTE_PUNCTUATION:
            token.meta["punctuation_after"] = punctuation
            state.pos += 1
    return True


def _citation_item(match: re.Match[str], location: SourceLocation) -> CitationItem:
    """Split what follows a key as Pandoc does: ``, p. 4, emphasis added`` -> locator and suffix."""
    rest = match["rest"].rstrip()
    locator_match = _LOCATOR_RE.match(rest[1:]) if rest.startswith(",") else None
    label = value = None
    suffix = rest
    if locator_match:
        label, value = (locator_match["label"] or "").strip() or None, locator_match["value"].strip()
        suffix = locator_match["suffix"].rstrip()
    return CitationItem(
        key=match["key"],
        location=location,
        prefix=match["prefix"].strip(),
        locator_label=label,
        locator=value,
        suffix=suffix,
        suppress_author=bool(match["suppress"]),
        written_suffix=rest,
    )


def _narrative_citation(state: StateInline, silent: bool) -> bool:
    """``@key`` in running text: a narrative citation, or a cross-reference for sec-/fig-/tbl-."""
    char = state.src[state.pos]
    if char not in "@-":
        return False
    if state.pos > 0 and (state.src[state.pos - 1].isalnum() or state.src[state.pos - 1] in "@."):
        return False  # an e-mail address, not a citation
    match = _NARRATIVE_RE.match(state.src, state.pos)
    if not match or (char == "-" and not match[1]):
        return False
    key = match[2].rstrip(".:")
    end = state.pos + len(match[1]) + 1 + len(key)
    # "@key [p. 810]": Pandoc's narrative citation with a locator or suffix in brackets.
    bracket = None if match[1] or _is_crossref(key) else _NARRATIVE_SUFFIX_RE.match(state.src, end)
    if silent:
        state.pos = bracket.end() if bracket else end
        return True
    location = _inline_location(state, state.pos)
    if _is_crossref(key):
        _push_crossref(state, key, location)
    else:
        parser: _Parser = state.env["parser"]
        item = CitationItem(key, location, suppress_author=bool(match[1]), written_suffix=bracket[1] if bracket else "")
        token = state.push("citation", "", 0)
        token.meta["cluster"] = parser.new_cluster((item,), location, narrative=not match[1])
    state.pos = bracket.end() if bracket else end
    return True


def _is_crossref(key: str) -> bool:
    return key.split("-")[0] in CROSSREF_PREFIXES and "-" in key


def _push_crossref(state: StateInline, key: str, location: SourceLocation) -> None:
    parser: _Parser = state.env["parser"]
    parser.crossrefs.append((key, location))
    token = state.push("crossref", "", 0)
    token.meta["id"] = key


# -- rendering -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderContext:
    """What rendering needs from later stages; presentation comes from template partials."""

    citations: Sequence[Any]
    """The rendered citation of each cluster, by ``CitationCluster.index``."""
    targets: dict[str, Target]
    partial: Callable[..., str]
    """Renders ``templates/partials/NAME.html`` with keyword arguments."""
    captions: dict[str, str] = field(default_factory=dict)
    """Filled while rendering: each timeline figure's caption HTML, by figure id (for the handout)."""
    language: str = "en"
    """The briefing's language tag: whether a capital marks a name (``typography.protect_names``)."""


LONG_WORD = re.compile(r"[^\s<>&]{36,}")
"""Longer runs without a space (URLs, compounds, identifiers) get break opportunities (``<wbr>``,
markup rather than a zero-width space in the text, which copies and searches would keep):
a table column is then never wider than the page, and no line runs off it."""


def _breakable(html: str) -> str:
    return LONG_WORD.sub(lambda m: "<wbr>".join(m[0][i: i + 18] for i in range(0, len(m[0]), 18)), html)


_RENDERED_HTML = ("caption", "body")
"""Partial arguments that hold HTML produced by this renderer, hence already escaped."""


class BriefingRenderer(RendererHTML):
    """markdown-it's HTML renderer plus our tokens; figures go through template partials."""

    def __init__(self, context: RenderContext) -> None:
        super().__init__()
        self.context = context

    def partial(self, name: str, **values: Any) -> str:
        """Render a template partial; HTML we rendered is passed as Markup (markdown-it escaped it)."""
        marked = {key: Markup(value) if key in _RENDERED_HTML else value for key, value in values.items()}
        return str(self.context.partial(name, **marked))

    def citation(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        cluster: CitationCluster = token.meta["cluster"]
        rendered = self.context.citations[cluster.index]
        space, punctuation = str(token.meta.get("space_before", "")), str(token.meta.get("punctuation_after", ""))
        if self._is_note(token):
            # The note follows the punctuation with no space before it, and the partial keeps the
            # two on one line; a mark right after another mark gets a separator ("10,11", not "1011").
            previous = tokens[idx - 1] if idx > 0 else None
            separated = previous is not None and (previous.type == "footnote_ref" or (
                self._is_note(previous) and not previous.meta.get("punctuation_after")))
            return self.partial("citation", citation=rendered, punctuation=punctuation, separated=separated)
        return f"{space}{self.partial('citation', citation=rendered)}{punctuation}"

    def _is_note(self, token: Token) -> bool:
        """A citation that is a note mark in the text (a note style's, not a narrative one)."""
        if token.type != "citation":
            return False
        cluster: CitationCluster = token.meta["cluster"]
        note = getattr(self.context.citations[cluster.index], "note", None)
        return note is not None and not cluster.narrative

    def crossref(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        target = self.context.targets.get(tokens[idx].meta["id"])
        if target is None:
            return self.partial("crossref", target=None, id=tokens[idx].meta["id"])
        return self.partial("crossref", target=target, id=target.id)

    def text(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return protect_names(_breakable(escapeHtml(tokens[idx].content)), self.context.language)

    def softbreak(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        # A space, not a newline: WeasyPrint has been seen to break a justified line at a newline.
        return " "

    def footnote_ref(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        body = env["footnote_bodies"].get(tokens[idx].meta["id"], [])
        inner = " ".join(self.renderInline(t.children or [], options, env) for t in body if t.type == "inline")
        return self.partial("footnote", body=inner)

    def heading_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        number = token.meta.get("number")
        opening = self.renderToken(tokens, idx, options, env)
        appendix = bool(token.meta.get("appendix"))
        return opening + (self.partial("heading_number", number=number, appendix=appendix) if number else "")

    def timeline_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        # The figure is rendered whole by its partial; its body is the caption.
        close = _matching_close(tokens, idx)
        body = [t for t in tokens[idx + 1: close] if t.type not in ("paragraph_open", "paragraph_close")]
        caption = self.render(body, options, env)
        spec: TimelineFigureSpec = tokens[idx].meta["spec"]
        self.context.captions[spec.id] = caption
        env["skip_until"] = close
        return self.partial("timeline_figure", spec=spec, number=tokens[idx].meta["number"], caption=caption)

    def image_figure_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        image: Token = tokens[idx].meta["image"]
        caption = self.renderInline(image.children or [], options, env)
        env["skip_until"] = idx + 2
        return self.partial(
            "image_figure",
            id=tokens[idx].attrGet("id"),
            number=tokens[idx].meta["number"],
            src=unquote(str(image.attrGet("src"))),
            alt=image.content,
            caption=caption,
            size=image.meta.get("size"),
        )

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        """An image within a line of text: from the briefing folder (inline in the web edition), sized as asked."""
        token = tokens[idx]
        return self.partial(
            "inline_image",
            src=unquote(str(token.attrGet("src"))),
            alt=self.renderInlineAsText(token.children or [], options, env),
            size=token.meta.get("size"),
        )

    def table_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        opening = self.renderToken(tokens, idx, options, env)
        if "caption" not in token.meta:
            return opening
        caption = self.renderInline(token.meta["caption"].children or [], options, env)
        return opening + self.partial("table_caption", number=token.meta["number"], caption=caption)

    def render(self, tokens: Sequence[Token], options: OptionsDict, env: EnvType) -> str:
        parts = []
        skip_until = -1
        for index, token in enumerate(tokens):
            if index <= skip_until:
                continue
            if token.type == "inline":
                parts.append(self.renderInline(token.children or [], options, env))
            elif token.type in self.rules:
                parts.append(self.rules[token.type](tokens, index, options, env))
            else:
                parts.append(self.renderToken(tokens, index, options, env))
            skip_until = env.pop("skip_until", -1)
        return "".join(parts)


def _matching_close(tokens: Sequence[Token], open_index: int) -> int:
    depth = 0
    for index in range(open_index, len(tokens)):
        depth += tokens[index].nesting
        if depth == 0:
            return index
    return len(tokens) - 1


def render_fragment(fragment: Fragment, context: RenderContext) -> str:
    """Render one parsed fragment to HTML, citations and cross-references resolved."""
    renderer = BriefingRenderer(context)
    if fragment.source.inline:
        tokens = [t for t in fragment.tokens if t.type not in ("paragraph_open", "paragraph_close")]
        return renderer.render(tokens, fragment.options, fragment.env).strip()
    return renderer.render(fragment.tokens, fragment.options, fragment.env)
