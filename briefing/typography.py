"""Plain text -> the prose's punctuation: one pass for every text a reader sees, whatever file it came from.

Titles, labels and names written in YAML reach the page without going through Markdown; they get
the same rules markdown-it applies to the prose (curly quotes and apostrophes, dashes, ellipses).
"""

from __future__ import annotations

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
