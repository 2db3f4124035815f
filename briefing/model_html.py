"""Document model (finished) -> HTML: blocks and runs written as markdown-it would, our nodes through template partials.

The one writer of the model: the Markdown fragments, the texts of the data files (a ``Text``'s
runs, through the template environment's ``finalize``) and what the CSL processor formatted.
All text is escaped here; presentation (figures, citations, notes) comes from the partials.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import regex
from markdown_it.common.utils import escapeHtml
from markupsafe import Markup

from .model_text import (
    BLOCK_TYPES,
    Block,
    Break,
    Citation,
    Citations,
    CodeBlock,
    CrossRef,
    Element,
    Fragment,
    Heading,
    Image,
    ImageBlock,
    Inline,
    NoteRef,
    RenderedCitation,
    Run,
    RunKind,
    Span,
    Target,
    TimelineFigure,
    plain_text,
)

LONG_WORD = re.compile(r"[^\s<>&]{36,}")
"""Longer runs without a space (URLs, compounds, identifiers) get break opportunities (``<wbr>``,
markup rather than a zero-width space in the text, which copies and searches would keep):
a table column is then never wider than the page, and no line runs off it."""

URL_BREAK = re.compile(r"(?<=//)(?!/)|(?<!^)(?<!/)(?=[/.\-_?#&=~])(?!//)")
"""After ``//``, or before ``/ . - _ ? # & = ~``: a line break there cannot be read as part of the address."""

_RENDERED_HTML = ("caption", "body")
"""Partial arguments that hold HTML written here, hence already escaped."""

SPACELESS_SCRIPTS = regex.compile(r"[\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}"
                                  r"\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]")
"""Scripts written without spaces, whose words the line breaker finds itself (Pango with libthai,
browsers with ICU's dictionaries; ideographs break anywhere): a ``<wbr>`` every 18 letters would
only break their words in the wrong place."""
CLUSTER = regex.compile(r"\X")


def _breakable(html: str) -> str:
    return LONG_WORD.sub(_break_long_word, html)


def _break_long_word(match: re.Match[str]) -> str:
    """Every 18 characters, never inside a cluster: a mark cut from its letter prints on a dotted circle."""
    word = match[0]
    if SPACELESS_SCRIPTS.search(word):
        return word
    clusters = CLUSTER.findall(word)
    return "<wbr>".join("".join(clusters[i: i + 18]) for i in range(0, len(clusters), 18))


def url_breaks(escaped: str) -> str:
    """An escaped URL or DOI in unbreakable pieces with a break opportunity between them.

    Only there: a line never ends after a hyphen of the address, which a reader would take for
    a hyphenation (the engine otherwise breaks after every ``-``).
    """
    pieces = URL_BREAK.split(escaped)
    return "<wbr>".join(f'<span class="url-part">{piece}</span>' for piece in pieces if piece)


CELL_WORD = regex.compile(r"\p{L}{14,}")
"""A word this long can make a table column wider than the page (a German compound, a chemical)."""
CELL_WORD_ENDS = 5
"""Letters kept together at each end of a word broken in a cell: never "Mus-cat"."""


@lru_cache(maxsize=16)
def _hyphenator(language: str) -> Any:
    import pyphen

    tag = language.replace("-", "_")
    found = next((t for t in (tag, tag.split("_")[0]) if pyphen.language_fallback(t)), None)
    return pyphen.Pyphen(lang=found, left=CELL_WORD_ENDS, right=CELL_WORD_ENDS) if found else None


def cell_words(text: str, language: str) -> str:
    """A cell's text as HTML, its long words with soft hyphens at their hyphenation points.

    Table cells are not hyphenated (``hyphens: manual`` in print.css: a short word broken in a
    narrow column reads badly); but a column cannot be narrower than its longest word, and a
    few long words can push a table off the page. Their soft hyphens let the engine break
    them where the language allows, with a hyphen, only when the column needs it. Each such
    word is a span of its own: WeasyPrint 70 takes a whole run of text holding a soft hyphen
    for one unbreakable piece when it sizes a table's columns (a cell of a sentence then
    widened its table past the page).
    """
    hyphenator = _hyphenator(language)
    if hyphenator is None:
        return _breakable(escapeHtml(text))
    out: list[str] = []
    last = 0
    for word in CELL_WORD.finditer(text):
        if SPACELESS_SCRIPTS.search(word[0]):  # a Thai or Chinese run: the line breaker finds its words
            continue
        hyphenated = escapeHtml(hyphenator.inserted(word[0], hyphen="\u00ad"))
        out += [_breakable(escapeHtml(text[last:word.start()])), f'<span class="long-word">{hyphenated}</span>']
        last = word.end()
    out.append(_breakable(escapeHtml(text[last:])))
    return "".join(out)


def runs_html(runs: Sequence[Run]) -> str:
    """Runs as HTML: names kept whole, runs in another language marked with it."""
    return "".join(_run(run) for run in runs)


def _run(run: Run, cell_language: str | None = None) -> str:
    """``cell_language``: the run stands in a table cell of a text in that language (``cell_words``)."""
    if run.kind is RunKind.PROSE:
        html = _prose(run.text, None if cell_language is None else run.lang or cell_language)
    elif run.kind is RunKind.CODE:
        html = f"<code>{escapeHtml(run.text)}</code>"
    elif run.kind is RunKind.NAME:
        html = f'<span class="name">{escapeHtml(run.text)}</span>'
    elif run.kind is RunKind.URL:
        html = url_breaks(escapeHtml(run.text))
    else:
        html = _breakable(escapeHtml(run.text))
    return f'<span lang="{run.lang}">{html}</span>' if run.lang else html


def _one_word_kept(node: Inline) -> Inline:
    """An in-text citation's one-word italic (*JNS* 2025) marked ``class="word"``, which print.css keeps whole.

    WeasyPrint 70 may break an italic run at a line end after its first letter ("J" / "NS 2025"),
    where the run cannot be broken at all; a word with nothing to break loses nothing by it.
    """
    if isinstance(node, Span) and node.tag in ("i", "em") and not any(c.isspace() for c in plain_text((node,))):
        return replace(node, attrs=(*node.attrs, ("class", "word")))
    return node


BARE_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>]*[^\s<>.,;:!?)\]'\"\u2019\u201d]")
"""An address typed in the prose without <…>: it breaks as an address does, not every 18 letters."""


def _prose(text: str, cell_language: str | None) -> str:
    """Words, with break opportunities in what is too long to fit a line or a column."""
    out: list[str] = []
    last = 0
    for match in BARE_URL.finditer(text):
        out += [_words(text[last:match.start()], cell_language), url_breaks(escapeHtml(match[0]))]
        last = match.end()
    out.append(_words(text[last:], cell_language))
    return "".join(out)


def _words(text: str, cell_language: str | None) -> str:
    return cell_words(text, cell_language) if cell_language else _breakable(escapeHtml(text))


def _attributes(attrs: Sequence[tuple[str, str]]) -> str:
    return "".join(f' {key}="{escapeHtml(value)}"' for key, value in attrs)


@dataclass(frozen=True)
class RenderContext:
    """What writing needs from later stages; presentation comes from template partials."""

    citations: Sequence[RenderedCitation]
    """The formatted citation of each cluster, by ``CitationCluster.index``."""
    targets: dict[str, Target]
    partial: Callable[..., str]
    """Renders ``templates/partials/NAME.html`` with keyword arguments."""
    captions: dict[str, str] = field(default_factory=dict)
    """Filled while writing: each timeline figure's caption HTML, by figure id (for the handout)."""
    language: str = "en"
    """The briefing's language: where a long word in a table cell may break (``cell_words``)."""


class HtmlWriter:
    """Writes blocks and inlines; figures, citations, cross-references and notes through the partials."""

    def __init__(self, context: RenderContext) -> None:
        self.context = context
        self.cell_language: str | None = None
        """Set while a table cell is written."""

    def partial(self, name: str, **values: Any) -> str:
        """Render a template partial; HTML written here is passed as Markup (the text in it is escaped)."""
        marked = {key: Markup(value) if key in _RENDERED_HTML else value for key, value in values.items()}
        return str(self.context.partial(name, **marked))

    def blocks(self, nodes: Sequence[Block | Inline]) -> str:
        out: list[str] = []
        for index, node in enumerate(nodes):
            if isinstance(node, BLOCK_TYPES):
                out.append(self.block(node))
            else:
                out.append(self.inline(nodes, index))  # type: ignore[arg-type]
        return "".join(out)

    def block(self, node: Block) -> str:
        if isinstance(node, Element):
            if not node.children and node.tag == "hr":
                return f"<hr{_attributes(node.attrs)} />\n"
            newline = "\n" if node.children and isinstance(node.children[0], BLOCK_TYPES) else ""
            cell = node.tag in ("td", "th")
            if cell:
                self.cell_language = self.context.language
            try:
                return f"<{node.tag}{_attributes(node.attrs)}>{newline}{self.blocks(node.children)}</{node.tag}>\n"
            finally:
                if cell:
                    self.cell_language = None
        if isinstance(node, CodeBlock):
            language = node.info.split()[0] if node.info else ""
            attrs = f' class="language-{escapeHtml(language)}"' if language else ""
            return f"<pre><code{attrs}>{escapeHtml(node.text)}</code></pre>\n"
        if isinstance(node, Heading):
            return self._heading(node)
        if isinstance(node, TimelineFigure):
            caption = self.blocks(node.caption)
            self.context.captions[node.spec.id] = caption
            return self.partial("timeline_figure", spec=node.spec, number=node.number, caption=caption)
        if isinstance(node, ImageBlock):
            return self.partial(
                "image_figure", id=node.id, number=node.number, src=node.src, alt=plain_text(node.caption, notes=False),
                caption=self.inlines(node.caption), size=node.size,
            )
        table = node.element
        caption = "" if node.caption is None else self.partial("table_caption", number=node.number,
                                                               caption=self.inlines(node.caption))
        return f"<table{_attributes(table.attrs)}>\n{caption}{self.blocks(table.children)}</table>\n"

    def _heading(self, node: Heading) -> str:
        attrs = [("id", node.id)]
        attrs += [("class", node.classes)] if node.classes else []
        attrs += [("data-short", node.short)] if node.short else []
        number = ""
        if node.number:
            number = self.partial("heading_number", number=node.number, appendix=node.appendix and node.level == 1)
        tag = f"h{node.level}"
        return f"<{tag}{_attributes(attrs)}>{number}{self.inlines(node.children)}</{tag}>\n"

    def inlines(self, nodes: Sequence[Inline]) -> str:
        return "".join(self.inline(nodes, index) for index in range(len(nodes)))

    def inline(self, nodes: Sequence[Inline], index: int) -> str:
        node = nodes[index]
        if isinstance(node, Run):
            return _run(node, self.cell_language)
        if isinstance(node, Span):
            return f"<{node.tag}{_attributes(node.attrs)}>{self.inlines(node.children)}</{node.tag}>"
        if isinstance(node, Break):
            return "<br />\n" if node.hard else " "  # a space: WeasyPrint has been seen to break a justified line at a newline
        if isinstance(node, Citation):
            return self._citation(nodes, index)
        if isinstance(node, CrossRef):
            target = self.context.targets.get(node.id)
            return self.partial("crossref", target=target, id=node.id if target is None else target.id)
        if isinstance(node, NoteRef):
            return self.partial("footnote", body=self.inlines(node.body))
        assert isinstance(node, Image)
        return self.partial("inline_image", src=node.src, alt=plain_text(node.alt), size=node.size)

    def _citation(self, nodes: Sequence[Inline], index: int) -> str:
        node = nodes[index]
        assert isinstance(node, Citation)
        rendered = self.context.citations[node.cluster.index]
        if self._is_note(node):
            # The note follows the punctuation with no space before it, and the partial keeps the
            # two on one line; a mark right after another mark gets a separator ("10,11", not "1011").
            previous = nodes[index - 1] if index > 0 else None
            separated = isinstance(previous, NoteRef) or (
                isinstance(previous, Citation) and self._is_note(previous) and not previous.punctuation_after)
            return self.partial("citation", citation=self.citation(rendered), punctuation=node.punctuation_after,
                                separated=separated)
        return f"{node.space_before}{self.partial('citation', citation=self.citation(rendered))}{node.punctuation_after}"

    def _is_note(self, node: Citation) -> bool:
        """A citation that is a note mark in the text (a note style's, not a narrative one)."""
        return self.context.citations[node.cluster.index].note is not None and not node.cluster.narrative

    def citation(self, rendered: RenderedCitation) -> WrittenCitation:
        note = None if rendered.note is None else Markup(self.inlines(rendered.note))
        inlines = tuple(_one_word_kept(node) for node in rendered.inlines)
        return WrittenCitation(Markup(self.inlines(inlines)), rendered.keys, rendered.index, note)

    def fragment(self, fragment: Fragment) -> str:
        """One fragment; an inline one (an event's summary) without its paragraph."""
        if fragment.source.inline:
            return "".join(self.blocks(b.children) if isinstance(b, Element) and b.tag == "p" else self.block(b)
                           for b in fragment.blocks).strip()
        return self.blocks(fragment.blocks)


@dataclass(frozen=True)
class WrittenEntry:
    """A bibliography entry as the templates read it."""

    key: str
    html: Markup
    cited_in: tuple[int, ...] = ()


def written_bibliography(citations: Citations) -> tuple[WrittenEntry, ...]:
    """The bibliography's entries as HTML (a bibliography entry holds no figure, citation or note)."""
    writer = HtmlWriter(RenderContext((), {}, lambda name, **values: ""))
    return tuple(WrittenEntry(e.key, Markup(writer.inlines(e.inlines)), e.cited_in) for e in citations.bibliography)


@dataclass(frozen=True)
class WrittenCitation:
    """A formatted citation as the ``citation`` partial reads it: its HTML, keys, anchor and note."""

    html: Markup
    keys: tuple[str, ...]
    index: int
    note: Markup | None = None
