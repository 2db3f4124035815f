"""The document model later stages share: Markdown as blocks and inline runs, citations as written and formatted.

The Markdown stage turns markdown-it's tokens into these (``markdown_model.py``), the text pass
finishes their runs (``text_finish.py``) and the HTML writer writes them (``model_html.py``): no
stage after parsing needs to know which parser read the Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Union

from .errors import SourceLocation
from .model import ImageFigure, ImageSize, MarkdownSource, TimelineFigureSpec

CROSSREF_PREFIXES = {"sec": "Section", "fig": "Figure", "tbl": "Table"}


class RunKind(Enum):
    """What a run of text is, which decides what the text pass may do to it."""

    PROSE = "prose"
    """Words: smart punctuation, languages by script, names kept whole."""
    NAME = "name"
    """A proper name found in the prose: never hyphenated."""
    CODE = "code"
    """As written: no punctuation changed, no hyphenation."""
    URL = "url"
    """An address as written: breaks only where it cannot be misread."""
    VERBATIM = "verbatim"
    """A character the author escaped (``\\"``): kept as written, straight quote and all."""


@dataclass(frozen=True)
class Run:
    """A piece of text of one kind, in one language (None: the language around it)."""

    text: str
    kind: RunKind = RunKind.PROSE
    lang: str | None = None


@dataclass(frozen=True)
class Span:
    """An inline element around runs: emphasis, a link (``a``), a ``[text]{lang=fa}`` span, sub- and superscripts."""

    tag: str
    children: tuple[Inline, ...]
    attrs: tuple[tuple[str, str], ...] = ()

    @property
    def lang(self) -> str | None:
        return dict(self.attrs).get("lang")


@dataclass(frozen=True)
class Break:
    hard: bool = False


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
class Citation:
    """A citation where it stands in the text."""

    cluster: CitationCluster
    space_before: str = ""
    punctuation_after: str = ""
    """The punctuation a note mark follows (Pandoc moves a note call after it)."""


@dataclass(frozen=True)
class CrossRef:
    id: str


@dataclass(frozen=True)
class NoteRef:
    """A footnote call, with the note's text: it is set where it is called."""

    body: tuple[Inline, ...]


@dataclass(frozen=True)
class Image:
    """An image within a line of text."""

    src: str
    alt: tuple[Inline, ...]
    size: ImageSize | None = None


Inline = Union[Run, Span, Break, Citation, CrossRef, NoteRef, Image]  # noqa: UP007 (a runtime alias)


@dataclass(frozen=True)
class Element:
    """A block element as Markdown writes it: a paragraph, list, item, quote, table row or cell, div, rule."""

    tag: str
    children: tuple[Block | Inline, ...] = ()
    attrs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CodeBlock:
    text: str
    info: str = ""


@dataclass(frozen=True)
class Heading:
    """A heading: its id, number (None: unnumbered) and the short form a running head may use."""

    level: int
    id: str
    children: tuple[Inline, ...]
    number: str | None = None
    short: str | None = None
    appendix: bool = False
    """In an appendix: numbered A, A.1…, and named "Appendix A" in the contents."""
    classes: str | None = None

    @property
    def text(self) -> Text:
        """The title as a text of its runs (the contents, the web edition's citation places); names as
        prose: the contents are never hyphenated."""
        runs = (node for node in walk(self.children, notes=False) if isinstance(node, Run))
        return Text(tuple(Run(run.text, lang=run.lang) if run.kind is RunKind.NAME else run for run in runs))


@dataclass(frozen=True)
class TimelineFigure:
    spec: TimelineFigureSpec
    number: str
    caption: tuple[Block | Inline, ...]


@dataclass(frozen=True)
class ImageBlock:
    """A paragraph holding only an image: a numbered figure whose caption is the image's text."""

    id: str
    number: str
    src: str
    caption: tuple[Inline, ...]
    """Also the image's alternative text, as plain text."""
    size: ImageSize | None = None


@dataclass(frozen=True)
class Table:
    element: Element
    """The ``table`` element, rows and cells."""
    number: str | None = None
    caption: tuple[Inline, ...] | None = None


Block = Union[Element, CodeBlock, Heading, TimelineFigure, ImageBlock, Table]  # noqa: UP007
BLOCK_TYPES = (Element, CodeBlock, Heading, TimelineFigure, ImageBlock, Table)
"""For ``isinstance``: a block, not an inline."""
Node = Union[Block, Inline]  # noqa: UP007


@dataclass(frozen=True)
class Fragment:
    """One Markdown source as blocks, numbered; written to HTML once citations are formatted."""

    source: MarkdownSource
    blocks: tuple[Block, ...]


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


@dataclass(frozen=True)
class ListEntry:
    """A numbered figure or table, for the list of figures or tables."""

    id: str
    number: str
    text: str
    """The caption as plain text, without its citations and notes."""


@dataclass(frozen=True)
class RenderedCitation:
    """A cluster as the CSL processor formatted it."""

    inlines: tuple[Inline, ...]
    """What stands in the running text."""
    keys: tuple[str, ...]
    index: int = 0
    """The cluster's ``CitationCluster.index``: its anchor is ``cite-{index}``."""
    note: tuple[Inline, ...] | None = None
    """For a note style, the footnote's text; ``inlines`` are then only a narrative author name, or empty."""


@dataclass(frozen=True)
class BibliographyEntry:
    key: str
    inlines: tuple[Inline, ...]
    cited_in: tuple[int, ...] = ()
    """The index of every citation of this work, in reading order (links back to the pages citing it)."""


@dataclass(frozen=True)
class Citations:
    clusters: tuple[RenderedCitation, ...]
    bibliography: tuple[BibliographyEntry, ...]
    style: str
    note_style: bool = False


class Text(str):
    """A text from a data file (a title, a label, a caption), finished: its runs say how to write it.

    A ``str`` still, so that PDF metadata, sorting and measuring read it as the plain text it is;
    the page template writes its runs (languages, names).
    """

    runs: tuple[Run, ...]

    def __new__(cls, runs: tuple[Run, ...]) -> Text:
        text = super().__new__(cls, "".join(run.text for run in runs))
        text.runs = runs
        return text

    def __reduce__(self) -> tuple[type[Text], tuple[tuple[Run, ...]]]:
        return (Text, (self.runs,))


def walk(nodes: tuple[Node, ...] | list[Node], notes: bool = True) -> Iterator[Node]:
    """Every node in reading order, a footnote's body where it is called (not with ``notes=False``)."""
    for node in nodes:
        yield node
        if isinstance(node, (Span, Element)):
            yield from walk(node.children, notes)
        elif isinstance(node, Heading | ImageBlock):
            yield from walk(node.children if isinstance(node, Heading) else node.caption, notes)
        elif isinstance(node, TimelineFigure):
            yield from walk(node.caption, notes)
        elif isinstance(node, Table):
            yield from walk(node.caption or (), notes)
            yield from walk(node.element.children, notes)
        elif isinstance(node, NoteRef) and notes:
            yield from walk(node.body, notes)
        elif isinstance(node, Image):
            yield from walk(node.alt, notes)


def plain_text(nodes: tuple[Node, ...], notes: bool = True) -> str:
    """The words of some nodes, without markup (nor the notes', with ``notes=False``)."""
    words = []
    for node in walk(nodes, notes):
        if isinstance(node, Run):
            words.append(node.text)
        elif isinstance(node, Break):
            words.append(" ")
    return "".join(words)


@dataclass
class ParsedDocument:
    """Everything the Markdown stage learnt about the whole briefing."""

    summary: Fragment | None
    sections: list[Fragment]
    event_summaries: list[Fragment | None]
    event_citations: list[CitationCluster | None]
    targets: dict[str, Target] = field(default_factory=dict)
    timeline_figures: list[TimelineFigureSpec] = field(default_factory=list)
    images: list[ImageFigure] = field(default_factory=list)
    citations: list[CitationCluster] = field(default_factory=list)
    bottom_line: Fragment | None = None
    appendices: list[Fragment] = field(default_factory=list)

    def fragments(self) -> list[Fragment]:
        """Every fragment in the order it was parsed (which is the numbering's)."""
        front = [f for f in (self.bottom_line, self.summary) if f is not None]
        return [*front, *self.sections, *self.appendices, *(f for f in self.event_summaries if f is not None)]

    @property
    def headings(self) -> list[Heading]:
        return [node for f in self.fragments() for node in walk(f.blocks, notes=False) if isinstance(node, Heading)]

    @property
    def figure_list(self) -> list[ListEntry]:
        """Every numbered figure, in order: the list of figures."""
        entries = []
        for fragment in self.fragments():
            for node in walk(fragment.blocks, notes=False):
                if isinstance(node, TimelineFigure):
                    entries.append(ListEntry(node.spec.id, node.number, caption_words(node.caption)))
                elif isinstance(node, ImageBlock):
                    entries.append(ListEntry(node.id, node.number, caption_words(node.caption)))
        return entries

    @property
    def table_list(self) -> list[ListEntry]:
        return [ListEntry(dict(node.element.attrs)["id"], node.number, caption_words(node.caption))
                for f in self.fragments() for node in walk(f.blocks, notes=False)
                if isinstance(node, Table) and node.number is not None and node.caption is not None]


def caption_words(caption: tuple[Node, ...]) -> str:
    """A caption as a list of figures shows it: its words, without citations or note calls."""
    text = " ".join(plain_text(caption, notes=False).split())
    text = re.sub(r"\s+([.,;:!?)])", r"\1", text)  # the space a removed citation leaves before punctuation
    return re.sub(r"\(\s*\)", "", text).strip()
