"""Inline runs as written -> runs a reader sees: smart punctuation, languages by script, names kept whole.

The one text pass, run once on every text that reaches a page (``finish_content``): the Markdown
prose, the texts of the data files (titles, authors, labels, captions, revisions) and what the CSL
processor formatted (citations, bibliography entries). A text gets the same rules whatever file it
came from:

- punctuation: markdown-it's own typographer rules (curly quotes and apostrophes, dashes,
  ellipses), run on tokens made from the runs so that a quote opened before an emphasis closes
  after it; code, URLs and escaped characters are left as written;
- language: a run in another script gets the language it is most likely written in
  (``script_lang.py``), unless the author set one around it (``[…]{lang=fa}``);
- names: in the prose, a capitalised word inside a sentence is a name, never hyphenated (TeX's
  ``\\uchyph=0``); elsewhere nothing is hyphenated (``TextPass.names``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from markdown_it import MarkdownIt
from markdown_it.rules_core.replacements import replace_rare, replace_scoped
from markdown_it.rules_core.smartquotes import process_inlines
from markdown_it.rules_core.state_core import StateCore
from markdown_it.token import Token

from .model import Author, Briefing, Category, DrawnFigure, Revision, Timeline, TimelineEvent
from .model_text import (
    BLOCK_TYPES,
    BibliographyEntry,
    Block,
    Break,
    Citations,
    CodeBlock,
    Element,
    Fragment,
    Heading,
    Image,
    ImageBlock,
    Inline,
    NoteRef,
    ParsedDocument,
    RenderedCitation,
    Run,
    RunKind,
    Span,
    Table,
    Text,
    TimelineFigure,
)
from .script_lang import RUN, language_of

_STATE = StateCore("", MarkdownIt("zero", {"typographer": True}), {})
"""What markdown-it's quote rule reads: the quote characters of its options (the defaults, “” ‘’)."""

NAME_WORD = re.compile(r"(?<![\w&#;])([A-Z\u00c0-\u00d6\u00d8-\u00de][^\W\d_]{6,})(?![\w;])")
"""A capitalised word long enough to hyphenate (``hyphenate-limit-chars`` in print.css)."""
SENTENCE_OPENERS = ".!?\u2026:\u201c\u2018("
"""What may stand before the first word of a sentence (spaces aside)."""
NOUNS_CAPITALISED = ("de", "lb")
"""Languages that capitalise every noun: there a capital does not mark a name."""

@dataclass(frozen=True)
class TextPass:
    """The pass for one briefing: its language decides the names and what counts as another script."""

    language: str
    names: bool = True
    """Mark names: in the prose. Not in a data file's text nor in what the CSL processor formatted,
    which are set where nothing is hyphenated (titles, table cells, figure labels, citations, the
    references; see print.css): there a name's span would only give the engine one more box to
    split (WeasyPrint 70 breaks a word inside it in a narrow cell, "Mos|addegh")."""

    def inlines(self, inlines: tuple[Inline, ...], base: str | None = None) -> tuple[Inline, ...]:
        """One paragraph's inlines finished: punctuation across them, then languages and names in each run."""
        return self._marked(_punctuated(inlines), base or self.language)

    def text(self, text: str) -> Text:
        """A plain text of a data file, finished."""
        finished = replace(self, names=False).inlines((Run(text),)) if text else ()
        return Text(tuple(node for node in finished if isinstance(node, Run)))

    def blocks(self, blocks: tuple[Block, ...]) -> tuple[Block, ...]:
        return tuple(self.block(block) for block in blocks)

    def block(self, block: Block) -> Block:
        if isinstance(block, Element):
            return replace(block, children=self._mixed(block.children, dict(block.attrs).get("lang")))
        if isinstance(block, Heading):
            return replace(block, children=self.inlines(block.children))
        if isinstance(block, TimelineFigure):
            return replace(block, caption=self._mixed(block.caption))
        if isinstance(block, ImageBlock):
            return replace(block, caption=self.inlines(block.caption))
        if isinstance(block, Table):
            caption = None if block.caption is None else self.inlines(block.caption)
            element = replace(block.element, children=self._mixed(block.element.children))
            return replace(block, element=element, caption=caption)
        assert isinstance(block, CodeBlock)
        return block

    def _mixed(self, nodes: tuple[Block | Inline, ...], base: str | None = None) -> tuple[Block | Inline, ...]:
        """Children that may be blocks or a paragraph's inlines (a tight list item): each paragraph apart."""
        out: list[Block | Inline] = []
        pending: list[Inline] = []
        for node in nodes:
            if isinstance(node, BLOCK_TYPES):
                out += self.inlines(tuple(pending), base)
                pending = []
                out.append(self.block(node))
            else:
                pending.append(node)
        out += self.inlines(tuple(pending), base)
        return tuple(out)

    def _marked(self, inlines: tuple[Inline, ...], base: str) -> tuple[Inline, ...]:
        out: list[Inline] = []
        for node in inlines:
            if isinstance(node, Run):
                out += self._run(node, base)
            elif isinstance(node, Span):
                out.append(replace(node, children=self._marked(node.children, node.lang or base)))
            elif isinstance(node, NoteRef):
                out.append(replace(node, body=self.inlines(node.body)))
            elif isinstance(node, Image):
                out.append(replace(node, alt=self.inlines(node.alt)))
            else:
                out.append(node)
        return tuple(out)

    def _run(self, run: Run, base: str) -> list[Run]:
        """A prose run split where the script changes language; names marked in the prose's own language."""
        parts = self._languages(run, base)
        return [n for part in parts for n in (self._names(part.text) if self.names and _plain_prose(part) else [part])]

    def _languages(self, run: Run, base: str) -> list[Run]:
        if run.kind is not RunKind.PROSE:
            return [run]
        out: list[Run] = []
        last = 0
        for match in RUN.finditer(run.text):
            language = language_of(match.group(), base)
            if language is not None:
                out += [Run(run.text[last:match.start()])] if match.start() > last else []
                out.append(Run(match.group(), lang=language))
                last = match.end()
        out += [Run(run.text[last:])] if last < len(run.text) else []
        return out

    def _names(self, text: str) -> list[Run]:
        """Prose with each capitalised word inside a sentence a NAME run (see the module)."""
        if not text:
            return []
        if self.language.split("-")[0].lower() in NOUNS_CAPITALISED:
            return [Run(text)]
        out: list[Run] = []
        last = 0
        for match in NAME_WORD.finditer(text):
            before = text[max(0, match.start() - 3): match.start()].rstrip()
            if match.start() == 0 or (before and before[-1] in SENTENCE_OPENERS):
                continue  # a word opening a sentence may be any word: it keeps its hyphenation
            out += [Run(text[last:match.start()])] if match.start() > last else []
            out.append(Run(match[0], RunKind.NAME))
            last = match.end()
        out += [Run(text[last:])] if last < len(text) else []
        return out


def _plain_prose(run: Run) -> bool:
    return run.kind is RunKind.PROSE and run.lang is None


def _punctuated(inlines: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """markdown-it's typographer on the prose runs, across spans (a quote may open before an emphasis)."""
    tokens: list[Token] = []
    _tokens(inlines, 0, tokens)
    if not any(t.type == "text" for t in tokens):
        return inlines
    replace_scoped(tokens)
    replace_rare(tokens)
    process_inlines(tokens, _STATE)
    texts = iter(t.content for t in tokens if t.type == "text")
    return _rebuilt(inlines, lambda: next(texts))


def _tokens(inlines: tuple[Inline, ...], level: int, out: list[Token]) -> None:
    """The tokens the typographer reads: prose is ``text``; code, URLs and escapes count as characters only."""
    for node in inlines:
        if isinstance(node, Run):
            token = Token("text" if node.kind is RunKind.PROSE else "code_inline", "", 0, content=node.text)
        elif isinstance(node, Span):
            out.append(Token(f"{node.tag}_open", node.tag, 1, level=level))
            _tokens(node.children, level + 1, out)
            token = Token(f"{node.tag}_close", node.tag, -1)
        elif isinstance(node, Break):
            token = Token("hardbreak" if node.hard else "softbreak", "br", 0)
        else:
            token = Token("other", "", 0)  # citations, cross-references, notes, images: no text of their own here
        token.level = level
        out.append(token)


def _rebuilt(inlines: tuple[Inline, ...], next_text: Callable[[], str]) -> tuple[Inline, ...]:
    out: list[Inline] = []
    for node in inlines:
        if isinstance(node, Run) and node.kind is RunKind.PROSE:
            out.append(replace(node, text=next_text()))
        elif isinstance(node, Span):
            out.append(replace(node, children=_rebuilt(node.children, next_text)))
        else:
            out.append(node)
    return tuple(out)


def finish_content(
    briefing: Briefing, document: ParsedDocument, citations: Citations
) -> tuple[Briefing, ParsedDocument, Citations]:
    """Every text of the content, finished: the data files', the Markdown's and the CSL processor's."""
    text_pass = TextPass(briefing.metadata.language)
    return (
        _briefing(briefing, text_pass),
        _document(document, text_pass),
        _citations(citations, text_pass),
    )


def _document(document: ParsedDocument, text_pass: TextPass) -> ParsedDocument:
    def fragment(fragment: Fragment | None) -> Fragment | None:
        return None if fragment is None else replace(fragment, blocks=text_pass.blocks(fragment.blocks))

    return replace(
        document,
        bottom_line=fragment(document.bottom_line),
        summary=fragment(document.summary),
        sections=[f for f in map(fragment, document.sections) if f is not None],
        appendices=[f for f in map(fragment, document.appendices) if f is not None],
        event_summaries=[fragment(f) for f in document.event_summaries],
    )


def _briefing(briefing: Briefing, text_pass: TextPass) -> Briefing:
    """The briefing with every text of its data files finished (Markdown fields are fragments, finished apart)."""
    text = text_pass.text
    meta = briefing.metadata
    metadata = replace(
        meta,
        title=text(meta.title),
        subtitle=_optional(meta.subtitle, text),
        short_title=_optional(meta.short_title, text),
        authors=tuple(Author(text(a.name), _optional(a.affiliation, text)) for a in meta.authors),
        organization=_optional(meta.organization, text),
    )
    return replace(
        briefing,
        metadata=metadata,
        timeline=_timeline(briefing.timeline, text),
        revisions=tuple(Revision(r.date, text(r.note), r.version) for r in briefing.revisions),
    )


def _timeline(timeline: Timeline, text: Callable[[str], Text]) -> Timeline:
    categories = tuple(Category(c.key, text(c.label)) for c in timeline.categories)
    events: list[TimelineEvent] = [
        replace(e, title=text(e.title), label=_optional(e.label, text)) for e in timeline.events
    ]
    return replace(timeline, categories=categories, events=tuple(events))


def _optional(value: str | None, text: Callable[[str], Text]) -> Text | None:
    return text(value) if value else None


def _citations(citations: Citations, text_pass: TextPass) -> Citations:
    """What the CSL processor formatted, finished as the prose is (names aside: see ``TextPass.names``)."""
    text_pass = replace(text_pass, names=False)
    clusters = tuple(
        RenderedCitation(text_pass.inlines(c.inlines), c.keys, c.index,
                         None if c.note is None else text_pass.inlines(c.note))
        for c in citations.clusters
    )
    bibliography = tuple(BibliographyEntry(e.key, text_pass.inlines(e.inlines), e.cited_in) for e in citations.bibliography)
    return replace(citations, clusters=clusters, bibliography=bibliography)


def finish_figures(figures: dict[str, tuple[DrawnFigure, ...]], language: str) -> dict[str, tuple[DrawnFigure, ...]]:
    """The texts set over each drawn figure (labels, legend, keys), finished: drawn figures come from a cache."""
    text_pass = TextPass(language)
    return {
        key: tuple(replace(part, texts=tuple(replace(t, text=text_pass.text(t.text)) for t in part.texts)) for part in parts)
        for key, parts in figures.items()
    }
