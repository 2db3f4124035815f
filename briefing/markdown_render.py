"""Parsed Markdown fragments -> HTML, once citations are formatted and every cross-reference target is known.

markdown-it's HTML renderer with our tokens (citations, cross-references, numbered headings,
figures and table captions); the presentation of each comes from a template partial.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import regex
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup

from .markdown_citations import CitationCluster
from .markdown_numbering import Fragment, Target, matching_close
from .model import TimelineFigureSpec
from .typography import protect_names


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
        close = matching_close(tokens, idx)
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


def render_fragment(fragment: Fragment, context: RenderContext) -> str:
    """Render one parsed fragment to HTML, citations and cross-references resolved."""
    renderer = BriefingRenderer(context)
    if fragment.source.inline:
        tokens = [t for t in fragment.tokens if t.type not in ("paragraph_open", "paragraph_close")]
        return renderer.render(tokens, fragment.options, fragment.env).strip()
    return renderer.render(fragment.tokens, fragment.options, fragment.env)
