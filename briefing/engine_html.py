"""The finished page's HTML -> the HTML the PDF engine lays out: hyphens and spaces set where WeasyPrint 70 needs them.

Runs once, on every HTML document laid out as PDF (``render_pdf.render_pdf``), so it covers
every text whatever file it came from; the web edition is untouched.

- **U+2010 is the engine's.** Print.css draws the automatic hyphen as U+2010 HYPHEN so that
  ``pdf_hyphens`` can tell it from a hyphen the author typed; a U+2010 in the content is
  therefore set as U+002D, the hyphen readers type and search for.
- **A space before an inline element moves into it.** WeasyPrint measures a run of text with
  its trailing space: when a run ending in a space ("… Talks.” May. ") is followed by an
  element (a link, a name, a language span) and the line ends inside that space, the engine
  takes the run for too wide and breaks it after its *first* word ("JNS." alone on a line, its
  year and title on the next). Upstream: Kozea/WeasyPrint#325 and #2025 (early breaks at
  inline boundaries). The space is moved to the start of the element's first text
  ("May.<a> https://…"), where it is still a break opportunity and still drawn as a space
  (a run of spaces alone is not drawn, and text extraction would glue the words). Elements the
  stylesheet keeps unbroken (``white-space: nowrap``: short citations, cross-references) keep
  the space outside, or they would glue to the word before them; so do runs in another
  language (``lang``), whose font would then draw the space (a CJK font's space, in a Latin line).
"""

from __future__ import annotations

import re

AUTOMATIC_HYPHEN = "\u2010"
"""Drawn only by the engine at a line end (print.css ``hyphenate-character``; ``pdf_hyphens``)."""

_INLINE = "a|abbr|b|cite|code|em|i|kbd|mark|q|s|samp|small|span|strong|sub|sup|u|var"
_UNBREAKABLE = "citation-short|citation-note|crossref"
"""Classes print.css sets ``white-space: nowrap``: a space moved into one would no longer be a break."""
_SPACE_BEFORE_INLINE = re.compile(
    rf"(?<=[^\s>]) ((?:<(?:{_INLINE})(?![^>]*\bclass=[\"'][^\"']*\b(?:{_UNBREAKABLE})\b)(?![^>]*\blang=)"
    rf"(?:\s[^>]*)?>)+)(?=[^<\s])")
"""A space that ends a run of text, then the opening tags of inline elements, then their first text."""
_RAW_TEXT = re.compile(r"<(style|script|pre|textarea)\b.*?</\1>", re.S | re.I)


def prepare_for_engine(html: str) -> str:
    """The HTML with U+2010 reserved for the engine and spaces before inline elements set apart."""
    return separate_spaces_before_inline(reserve_automatic_hyphen(html))


def reserve_automatic_hyphen(html: str) -> str:
    """Every U+2010 in the content becomes U+002D: a drawn U+2010 is then always an automatic hyphen."""
    return html.replace(AUTOMATIC_HYPHEN, "-").replace("&#8208;", "-").replace("&#x2010;", "-")


def separate_spaces_before_inline(html: str) -> str:
    """``text <a …><span …>x`` -> ``text<a …><span …> x``; style sheets, scripts and preformatted text untouched.

    Only after a run of several words: the engine breaks a run after its first word, which for a
    run of one word (", " between two page links) is where it should break anyway; and a link
    whose space moved in is split in two by a break there, one annotation more.
    """
    pieces, last = [], 0
    for raw in _RAW_TEXT.finditer(html):
        pieces += [_move_spaces(html[last:raw.start()]), raw.group(0)]
        last = raw.end()
    pieces.append(_move_spaces(html[last:]))
    return "".join(pieces)


def _move_spaces(html: str) -> str:
    def move(match: re.Match[str]) -> str:
        run = html[html.rfind(">", 0, match.start()) + 1:match.start()]
        return f"{match.group(1)} " if " " in run.strip() else match.group(0)

    return _SPACE_BEFORE_INLINE.sub(move, html)
