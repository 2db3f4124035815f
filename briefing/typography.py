"""Plain text -> the prose's punctuation: one pass for every text a reader sees, whatever file it came from.

Titles, labels and names written in YAML reach the page without going through Markdown; they get
the same rules markdown-it applies to the prose (curly quotes and apostrophes, dashes, ellipses).
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

TYPOGRAPHY = ["replacements", "smartquotes"]
"""markdown-it's typographer rules: the prose and every plain text get the same punctuation."""

_PLAIN_TYPOGRAPHER = MarkdownIt("zero", {"typographer": True}).enable(TYPOGRAPHY)
"""Text rules only: markup characters in a title or label stay as written."""


def smart_text(text: str) -> str:
    """Plain text with the prose's punctuation: "Iran's" becomes "Iran’s", -- an en dash."""
    if not any(mark in text for mark in "'\"-.("):
        return text  # nothing the rules would change (most labels): skip the parser
    tokens = _PLAIN_TYPOGRAPHER.parseInline(text)
    if not tokens or not tokens[0].children:
        return text
    leading = text[: len(text) - len(text.lstrip())]
    trailing = text[len(text.rstrip()):]
    return leading + "".join(child.content for child in tokens[0].children) + trailing


NAME_WORD = re.compile(r"(?<![\w&#;])([A-Z\u00c0-\u00d6\u00d8-\u00de][^\W\d_]{6,})(?![\w;])")
"""A capitalised word long enough to hyphenate (``hyphenate-limit-chars`` in print.css)."""
SENTENCE_OPENERS = ".!?\u2026:\u201c\u2018("
"""What may stand before the first word of a sentence (spaces aside)."""
NOUNS_CAPITALISED = ("de", "lb")
"""Languages that capitalise every noun: there a capital does not mark a name."""


def protect_names(escaped: str, language: str = "en") -> str:
    """Escaped text with each capitalised word inside a sentence marked as a name: never hyphenated.

    TeX's rule (``\\uchyph=0``): "Khame-nei", "Abra-hamian" read as errors, and the capital is
    the one mark a name carries in the prose. A word opening a sentence may be any word, so it
    keeps its hyphenation; writers mark other names with ``[Name]{.name}``.
    """
    if language.split("-")[0].lower() in NOUNS_CAPITALISED:
        return escaped

    def mark(match: re.Match[str]) -> str:
        before = escaped[max(0, match.start() - 3): match.start()].rstrip()
        if match.start() == 0 or (before and before[-1] in SENTENCE_OPENERS):
            return match[0]
        return f'<span class="name">{match[0]}</span>'

    return NAME_WORD.sub(mark, escaped)
