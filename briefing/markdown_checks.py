"""Parsed Markdown -> problems markdown-it passes over in silence: footnotes, nesting depth, table width.

markdown-it prints an undefined ``[^x]`` as text, drops an unused definition and, past its nesting
limit, drops whole blocks. A reader would never know; an author gets a located message instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from markdown_it.token import Token

from .errors import Diagnostics, SourceLocation
from .model import MarkdownSource

MAX_BLOCK_DEPTH = 8
"""Lists and block quotes inside each other: past this no page has room for the indents."""

MARKDOWN_IT_NESTING = 40
"""markdown-it's own limit, kept well above ours so that it never drops a block before we speak."""

MAX_TABLE_COLUMNS = 16
"""More columns than fit across a page at a readable size, even in landscape."""

_FOOTNOTE_REF = re.compile(r"\[\^([^\]\s]+)\]")

Locate = Callable[[MarkdownSource, int | None, int | None], SourceLocation]


def check_structure(
    tokens: Sequence[Token], env: dict[str, Any], source: MarkdownSource, locate: Locate, report: Diagnostics
) -> None:
    """Report every undefined or unused footnote, too-deep block and too-wide table, at its line."""
    _check_footnotes(tokens, env, source, locate, report)
    _check_depth_and_width(tokens, source, locate, report)
    _check_raw_html(tokens, source, locate, report)


def is_comment(html: str) -> bool:
    """``<!-- … -->``: an author's note to themselves, left out of every edition as Pandoc does."""
    return html.lstrip().startswith("<!--")


def _check_raw_html(tokens: Sequence[Token], source: MarkdownSource, locate: Locate, report: Diagnostics) -> None:
    """Raw HTML is never passed to a page (it could fetch, run or hide things): it is printed as text, and said."""
    lines = source.text.split("\n")
    for token in tokens:
        found: list[tuple[str, int, int]] = []
        if token.type == "html_block" and token.map and not is_comment(token.content):
            found.append((token.content, token.map[0], token.map[1]))
        elif token.type == "inline" and token.map:
            found += [(child.content, token.map[0], token.map[1]) for child in token.children or []
                      if child.type == "html_inline" and not is_comment(child.content)]
        for html, first, last in found:
            tag = html.strip().split("\n", 1)[0][:40]
            line, column = _find(lines, tag, first, last)
            report.warning(locate(source, line, column),
                           f"raw HTML '{tag}' is printed as text: a briefing is written in Markdown, and HTML "
                           "never reaches a page (a comment <!-- … --> is left out)")


def _check_footnotes(
    tokens: Sequence[Token], env: dict[str, Any], source: MarkdownSource, locate: Locate, report: Diagnostics
) -> None:
    lines = source.text.split("\n")
    for token in tokens:
        if token.type != "inline" or not token.children or not token.map:
            continue
        for child in token.children:
            if child.type != "text":
                continue
            for match in _FOOTNOTE_REF.finditer(child.content):
                line, column = _find(lines, match[0], token.map[0], token.map[1])
                report.error(
                    locate(source, line, column),
                    f"footnote '[^{match[1]}]' has no definition (add a line '[^{match[1]}]: text' below the paragraph)",
                )
    references = env.get("footnotes", {}).get("refs", {})
    for label, number in references.items():
        if number == -1:  # defined, never called
            name = label.removeprefix(":")
            line, column = _find(lines, f"[^{name}]:", 0, len(lines))
            report.warning(locate(source, line, column), f"footnote '[^{name}]' is defined but never used")


def _check_depth_and_width(
    tokens: Sequence[Token], source: MarkdownSource, locate: Locate, report: Diagnostics
) -> None:
    depth = 0
    reported_depth = False
    for index, token in enumerate(tokens):
        if token.type in ("bullet_list_open", "ordered_list_open", "blockquote_open"):
            depth += 1
            if depth > MAX_BLOCK_DEPTH and not reported_depth:
                reported_depth = True
                report.error(
                    locate(source, token.map[0] if token.map else None, 1),
                    f"lists and block quotes nested {depth} deep; at most {MAX_BLOCK_DEPTH} levels fit on a page",
                )
        elif token.type in ("bullet_list_close", "ordered_list_close", "blockquote_close"):
            depth -= 1
        elif token.type == "thead_open":
            columns = 0
            for inner in tokens[index + 1:]:
                if inner.type == "th_open":
                    columns += 1
                elif inner.type == "tr_close":
                    break
            if columns > MAX_TABLE_COLUMNS:
                report.error(
                    locate(source, token.map[0] if token.map else None, 1),
                    f"a table of {columns} columns; at most {MAX_TABLE_COLUMNS} fit across a page "
                    "(split it, or turn it round: rows for columns)",
                )


def _find(lines: list[str], text: str, first: int, last: int) -> tuple[int | None, int | None]:
    """The 0-based line and 1-based column of ``text`` between lines ``first`` and ``last``."""
    for number in range(first, min(last, len(lines))):
        column = lines[number].find(text)
        if column >= 0:
            return number, column + 1
    return (first, None)
