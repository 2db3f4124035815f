"""Pandoc's JSON inlines (what its citeproc returns) -> document model inlines (``model_text.py``).

Only what citeproc produces is mapped: text, emphasis, small capitals, super- and subscripts,
quotations, spans (``nocase``, the margin label of numeric styles), links and notes. Raw HTML or
TeX (which CSL-YAML, read as Markdown, may carry) is dropped, so nothing in a reference or a
citation can become markup; the text a reader sees is the same. A URL or DOI printed as itself is
a URL run. A note is not set in place: its inlines are handed to the caller, which makes it one of
our footnotes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .model_text import Break, Inline, Run, RunKind, Span

Json = Any
"""A node of pandoc's JSON AST (``{"t": ..., "c": ...}``)."""

_QUOTES = {"DoubleQuote": ("\u201c", "\u201d"), "SingleQuote": ("\u2018", "\u2019")}
_WRAPPERS = {"Emph": "i", "Strong": "b", "Superscript": "sup", "Subscript": "sub", "Strikeout": "s", "Underline": "u"}
REF_LINK_PREFIX = "#ref-"
"""Pandoc's ``link-citations`` target; our template links each citation itself, so these are unwrapped."""

OnNote = Callable[[tuple[Inline, ...]], None] | None


def pandoc_inlines(inlines: list[Json], on_note: OnNote = None) -> tuple[Inline, ...]:
    """Model inlines for a list of pandoc inlines; each Note's inlines go to ``on_note`` (dropped when None)."""
    return tuple(node for item in inlines for node in _inline(item, on_note))


def pandoc_blocks(blocks: list[Json], on_note: OnNote = None) -> tuple[Inline, ...]:
    """The inlines of Para/Plain/Div blocks, joined by a space (a note or an entry is one run of text)."""
    parts: list[tuple[Inline, ...]] = []
    for block in blocks:
        kind, content = block.get("t"), block.get("c")
        if kind in ("Para", "Plain"):
            parts.append(pandoc_inlines(content, on_note))
        elif kind == "Div":
            attributes, children = content
            inner = pandoc_blocks(children, on_note)
            classes = [c for c in attributes[1] if c.startswith("csl-")]
            parts.append((Span("span", inner, (("class", " ".join(classes)),)),) if classes else inner)
        elif kind == "LineBlock":
            parts.extend(pandoc_inlines(line, on_note) for line in content)
    joined: list[Inline] = []
    for part in (p for p in parts if p):
        joined += [Run(" ")] if joined else []
        joined += part
    return tuple(joined)


def stripped(inlines: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """Without the spaces at either end."""
    nodes = list(inlines)
    while nodes and isinstance(nodes[0], Run) and not nodes[0].text.lstrip():
        nodes.pop(0)
    while nodes and isinstance(nodes[-1], Run) and not nodes[-1].text.rstrip():
        nodes.pop()
    if nodes and isinstance(nodes[0], Run):
        nodes[0] = Run(nodes[0].text.lstrip(), nodes[0].kind)
    if nodes and isinstance(nodes[-1], Run):
        nodes[-1] = Run(nodes[-1].text.rstrip(), nodes[-1].kind)
    return tuple(nodes)


def _inline(node: Json, on_note: OnNote) -> tuple[Inline, ...]:
    kind, content = node.get("t"), node.get("c")
    if kind == "Str":
        return (Run(content),)
    if kind in ("Space", "SoftBreak"):
        return (Run(" "),)
    if kind == "LineBreak":
        return (Break(hard=True),)
    if kind in _WRAPPERS:
        return (Span(_WRAPPERS[kind], pandoc_inlines(content, on_note)),)
    if kind == "SmallCaps":
        return (Span("span", pandoc_inlines(content, on_note), (("class", "smallcaps"),)),)
    if kind == "Quoted":
        opening, closing = _QUOTES[content[0]["t"]]
        return (Run(opening), *pandoc_inlines(content[1], on_note), Run(closing))
    if kind == "Span":
        return _span(content[0], pandoc_inlines(content[1], on_note))
    if kind == "Link":
        inner, target = pandoc_inlines(content[1], on_note), content[2][0]
        if target.startswith(REF_LINK_PREFIX) or not target.startswith(("http://", "https://")):
            return inner
        written = "".join(n.text for n in inner if isinstance(n, Run))
        if written.rstrip(".") in (target, target.removeprefix("https://doi.org/")):
            # A URL or DOI printed as itself: it breaks only where a reader cannot misread it.
            return (Span("a", (Run(written, RunKind.URL),), (("class", "url"), ("href", target))),)
        return (Span("a", inner, (("href", target),)),)
    if kind == "Note":
        if on_note is not None:
            on_note(pandoc_blocks(content))
        return ()
    if kind in ("Code", "Math"):
        return (Run(content[1], RunKind.VERBATIM),)
    if kind == "Cite":
        return pandoc_inlines(content[1], on_note)
    return ()  # raw HTML or TeX, Image and anything newer: never passed through


def _span(attributes: Json, inner: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """Keep the classes our stylesheet knows (``csl-*``, small capitals); drop the rest of the span."""
    classes = [c for c in attributes[1] if c.startswith("csl-") or c == "smallcaps"]
    styles = dict(attributes[2])
    if styles.get("style", "").replace(" ", "") == "font-variant:small-caps;":
        classes.append("smallcaps")
    if not classes:
        return inner
    return (Span("span", inner, (("class", " ".join(classes)),)),)
