"""Pandoc's JSON inlines (what its citeproc returns) -> our escaped HTML.

Only what citeproc produces is mapped: text, emphasis, small capitals, super- and subscripts,
quotations, spans (``nocase``, the margin label of numeric styles), links and notes. Text is
always escaped and raw HTML or TeX (which CSL-YAML, read as Markdown, may carry) is dropped, so
nothing in a reference or a citation can become markup; the text a reader sees is the same. A note is not
rendered in place: its HTML is handed to the caller, which makes it one of our footnotes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

Json = Any
"""A node of pandoc's JSON AST (``{"t": ..., "c": ...}``)."""

_QUOTES = {"DoubleQuote": ("\u201c", "\u201d"), "SingleQuote": ("\u2018", "\u2019")}
_WRAPPERS = {"Emph": "i", "Strong": "b", "Superscript": "sup", "Subscript": "sub", "Strikeout": "s", "Underline": "u"}
REF_LINK_PREFIX = "#ref-"
"""Pandoc's ``link-citations`` target; our template links each citation itself, so these are unwrapped."""


def inlines_to_html(inlines: list[Json], on_note: Callable[[str], None] | None = None) -> str:
    """HTML for a list of inlines; each Note's HTML goes to ``on_note`` (dropped when None)."""
    return "".join(_inline(node, on_note) for node in inlines)


def blocks_to_html(blocks: list[Json], on_note: Callable[[str], None] | None = None) -> str:
    """The inline HTML of Para/Plain/Div blocks, joined by a space (a note or an entry is one run of text)."""
    parts = []
    for block in blocks:
        kind, content = block.get("t"), block.get("c")
        if kind in ("Para", "Plain"):
            parts.append(inlines_to_html(content, on_note))
        elif kind == "Div":
            attributes, children = content
            inner = blocks_to_html(children, on_note)
            classes = [c for c in attributes[1] if c.startswith("csl-")]
            parts.append(f'<span class="{" ".join(classes)}">{inner}</span>' if classes else inner)
        elif kind == "LineBlock":
            parts.extend(inlines_to_html(line, on_note) for line in content)
    return " ".join(part for part in parts if part)


def _inline(node: Json, on_note: Callable[[str], None] | None) -> str:
    kind, content = node.get("t"), node.get("c")
    if kind == "Str":
        return html.escape(content, quote=False)
    if kind in ("Space", "SoftBreak"):
        return " "
    if kind == "LineBreak":
        return "<br>"
    if kind in _WRAPPERS:
        tag = _WRAPPERS[kind]
        return f"<{tag}>{inlines_to_html(content, on_note)}</{tag}>"
    if kind == "SmallCaps":
        return f'<span class="smallcaps">{inlines_to_html(content, on_note)}</span>'
    if kind == "Quoted":
        opening, closing = _QUOTES[content[0]["t"]]
        return f"{opening}{inlines_to_html(content[1], on_note)}{closing}"
    if kind == "Span":
        return _span(content[0], inlines_to_html(content[1], on_note))
    if kind == "Link":
        inner, target = inlines_to_html(content[1], on_note), content[2][0]
        if target.startswith(REF_LINK_PREFIX) or not target.startswith(("http://", "https://")):
            return inner
        if html.unescape(inner).rstrip(".") in (target, target.removeprefix("https://doi.org/")):
            # A URL or DOI printed as itself: it breaks only where a reader cannot misread it.
            return f'<a class="url" href="{html.escape(target)}">{url_breaks(inner)}</a>'
        return f'<a href="{html.escape(target)}">{inner}</a>'
    if kind == "Note":
        if on_note is not None:
            on_note(blocks_to_html(content))
        return ""
    if kind in ("Code", "Math"):
        return html.escape(content[1], quote=False)
    if kind == "RawInline":
        return ""  # raw HTML or TeX in a CSL-YAML field (read as Markdown): never passed through
    if kind == "Cite":
        return inlines_to_html(content[1], on_note)
    return ""  # Image and anything newer: citeproc does not produce them


URL_BREAK = re.compile(r"(?<=//)(?!/)|(?<!^)(?<!/)(?=[/.\-_?#&=~])(?!//)")
"""After ``//``, or before ``/ . - _ ? # & = ~``: a line break there cannot be read as part of the address."""


def url_breaks(escaped: str) -> str:
    """An escaped URL or DOI in unbreakable pieces with a break opportunity between them.

    Only there: a line never ends after a hyphen of the address, which a reader would take for
    a hyphenation (the engine otherwise breaks after every ``-``).
    """
    pieces = URL_BREAK.split(escaped)
    return "<wbr>".join(f'<span class="url-part">{piece}</span>' for piece in pieces if piece)


def _span(attributes: Json, inner: str) -> str:
    """Keep the classes our stylesheet knows (``csl-*``, small capitals); drop the rest of the span."""
    classes = [c for c in attributes[1] if c.startswith("csl-") or c == "smallcaps"]
    styles = dict(attributes[2])
    if styles.get("style", "").replace(" ", "") == "font-variant:small-caps;":
        classes.append("smallcaps")
    if not classes:
        return inner
    return f'<span class="{" ".join(classes)}">{inner}</span>'
