"""markdown-it tokens of one source -> document model blocks (``model_text.py``), numbered as they come.

The one walk over markdown-it's tokens: what the token stream says with nesting levels and
``meta`` side data becomes plain typed blocks and inlines, so no later stage sees a token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from markdown_it.token import Token

from .errors import SourceLocation
from .model import MarkdownSource
from .model_text import (
    BLOCK_TYPES,
    Block,
    Break,
    Citation,
    CodeBlock,
    CrossRef,
    Element,
    Heading,
    Image,
    ImageBlock,
    Inline,
    NoteRef,
    Run,
    RunKind,
    Span,
    Table,
    TimelineFigure,
)

if TYPE_CHECKING:
    from .markdown_numbering import DocumentParser


def matching_close(tokens: Sequence[Token], open_index: int) -> int:
    """The index of the token that closes the one opened at ``open_index`` (a figure, a div, an emphasis)."""
    depth = 0
    for index in range(open_index, len(tokens)):
        depth += tokens[index].nesting
        if depth == 0:
            return index
    return len(tokens) - 1


def _attrs(token: Token) -> tuple[tuple[str, str], ...]:
    return tuple((str(key), str(value)) for key, value in token.attrs.items())


class ModelBuilder:
    """Turns one source's tokens into blocks; numbers headings, figures and tables through the parser."""

    def __init__(self, parser: DocumentParser, source: MarkdownSource, notes: dict[int, list[Token]]) -> None:
        self.parser, self.source, self.notes = parser, source, notes

    def blocks(self, tokens: Sequence[Token]) -> tuple[Block, ...]:
        return tuple(node for node in self._children(tokens, 0, len(tokens)) if isinstance(node, BLOCK_TYPES))

    def _children(self, tokens: Sequence[Token], start: int, end: int) -> list[Block | Inline]:
        """Blocks, and the inlines of a paragraph markdown-it hides (a tight list's items)."""
        out: list[Block | Inline] = []
        index = start
        while index < end:
            token = tokens[index]
            if token.type == "inline":
                out += self.inlines(token.children or [])
            elif token.nesting == 1:
                close = matching_close(tokens, index)
                if token.hidden:  # a paragraph of a tight list: its text stands in the item
                    out += self._children(tokens, index + 1, close)
                else:
                    out.append(self._block(tokens, index, close))
                index = close
            elif token.type in ("fence", "code_block"):
                out.append(CodeBlock(token.content, token.info.strip()))
            elif token.nesting == 0:
                out.append(Element(token.tag, (), _attrs(token)))  # a rule
            index += 1
        return out

    def _location(self, token: Token) -> SourceLocation:
        return self.parser.location(self.source, token.map[0] if token.map else None, 1)

    def _block(self, tokens: Sequence[Token], index: int, close: int) -> Block:
        token = tokens[index]
        if token.type == "heading_open":
            return self._heading(token, tokens[index + 1])
        if token.type == "timeline_open":
            # The body is the caption: its paragraphs' text, and any other block as it is.
            caption = tuple(n for node in self._children(tokens, index + 1, close)
                            for n in (node.children if isinstance(node, Element) and node.tag == "p" else (node,)))
            spec = token.meta["spec"]
            number = self.parser.number_figure(spec.id, self._location(token), timeline=spec)
            return TimelineFigure(spec, number, caption)
        if token.type == "image_figure_open":
            image: Token = token.meta["image"]
            ident = token.attrGet("id")
            number = self.parser.number_figure(None if ident is None else str(ident), self._location(token))
            return ImageBlock(
                str(ident) if ident else f"figure-{number}", number, unquote(str(image.attrGet("src"))),
                tuple(self.inlines(image.children or [])), image.meta.get("size"),
            )
        element = Element(token.tag, tuple(self._children(tokens, index + 1, close)), _attrs(token))
        if token.type == "table_open" and "caption" in token.meta:
            ident = token.attrGet("id")
            number = self.parser.number_table(None if ident is None else str(ident), self._location(token))
            attrs = dict(element.attrs) | {"id": str(ident) if ident else f"table-{number}"}
            element = Element("table", element.children, tuple(attrs.items()))
            return Table(element, number, tuple(self.inlines(token.meta["caption"].children or [])))
        return element

    def _heading(self, token: Token, inline: Token) -> Heading:
        level = int(token.tag[1])
        classes = token.attrGet("class")
        ident = token.attrGet("id")
        short = token.attrGet("data-short")
        number, heading_id, appendix = self.parser.number_heading(
            level, None if ident is None else str(ident), str(classes or "").split(), inline.content, self._location(token)
        )
        return Heading(
            level, heading_id, tuple(self.inlines(inline.children or [])), number,
            None if short is None else str(short), appendix, None if classes is None else str(classes),
        )

    def inlines(self, tokens: Sequence[Token]) -> list[Inline]:
        out: list[Inline] = []
        index = 0
        while index < len(tokens):
            token = tokens[index]
            if token.nesting == 1:
                close = matching_close(tokens, index)
                children = self.inlines(tokens[index + 1: close])
                if token.type == "link_open" and token.info == "auto":
                    children = [Run(c.text, RunKind.URL) if isinstance(c, Run) else c for c in children]
                out.append(Span(token.tag, tuple(children), _attrs(token)))
                index = close
            elif node := self._inline(token):
                out.append(node)
            index += 1
        return out

    def _inline(self, token: Token) -> Inline | None:
        kind = token.type
        if kind == "text":
            return Run(token.content) if token.content else None
        if kind == "text_special":  # an escaped character or an entity: as written
            return Run(token.content, RunKind.VERBATIM)
        if kind == "code_inline":
            return Run(token.content, RunKind.CODE)
        if kind in ("softbreak", "hardbreak"):
            return Break(kind == "hardbreak")
        if kind == "citation":
            meta: dict[str, Any] = token.meta
            return Citation(meta["cluster"], str(meta.get("space_before", "")), str(meta.get("punctuation_after", "")))
        if kind == "crossref":
            return CrossRef(token.meta["id"])
        if kind == "footnote_ref":
            return NoteRef(self._note(self.notes.get(token.meta["id"], [])))
        if kind == "image":
            return Image(unquote(str(token.attrGet("src"))), tuple(self.inlines(token.children or [])), token.meta.get("size"))
        return None

    def _note(self, body: list[Token]) -> tuple[Inline, ...]:
        """A footnote's paragraphs as one run of text (a note is set at the foot of the page, in one block)."""
        out: list[Inline] = []
        for token in body:
            if token.type == "inline":
                out += [Run(" ")] if out else []
                out += self.inlines(token.children or [])
        return tuple(out)
