"""``@key``, ``[@a, p. 4; see @b]`` and ``@sec-x`` in Markdown -> citation clusters and cross-reference tokens.

Pandoc's citation syntax as markdown-it inline rules. A citation is only recorded here, as written
(keys, locators, prefixes and suffixes); ``citations.py`` formats it once every cluster is known.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from markdown_it.rules_inline import StateInline

from .errors import SourceLocation
from .model import MarkdownSource
from .model_text import CROSSREF_PREFIXES, CitationItem

if TYPE_CHECKING:
    from .markdown_numbering import DocumentParser

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
NOTE_PUNCTUATION = ".,;:!?"
"""Punctuation a note call moves after, as Pandoc does for English."""


def _inline_location(state: StateInline, position: int) -> SourceLocation:
    parser: DocumentParser = state.env["parser"]
    source: MarkdownSource = state.env["source"]
    before = state.src[:position]
    line_offset = before.count("\n")
    column = position - (before.rfind("\n") + 1) + 1
    block_line = state.env.get("line")
    return parser.location(source, None if block_line is None else block_line + line_offset, column)


def bracketed_citation(state: StateInline, silent: bool) -> bool:
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
    parser: DocumentParser = state.env["parser"]
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


def narrative_citation(state: StateInline, silent: bool) -> bool:
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
        parser: DocumentParser = state.env["parser"]
        item = CitationItem(key, location, suppress_author=bool(match[1]), written_suffix=bracket[1] if bracket else "")
        token = state.push("citation", "", 0)
        token.meta["cluster"] = parser.new_cluster((item,), location, narrative=not match[1])
    state.pos = bracket.end() if bracket else end
    return True


def _is_crossref(key: str) -> bool:
    return key.split("-")[0] in CROSSREF_PREFIXES and "-" in key


def _push_crossref(state: StateInline, key: str, location: SourceLocation) -> None:
    parser: DocumentParser = state.env["parser"]
    parser.crossrefs.append((key, location))
    token = state.push("crossref", "", 0)
    token.meta["id"] = key
