"""Runs of text in another script -> ``<span lang="…">``, so a screen reader switches voice.

A heuristic, not language identification: the script of a run names its most likely language
(Arabic script with a Persian-only letter is Persian, otherwise Arabic; Cyrillic is Russian unless
the briefing itself is written in a Cyrillic language…). Text the author marked with
``[…]{lang=xx}`` keeps the author's tag: a run inside an element whose language already has the
run's script is left alone. Scripts come from the Unicode Character Database through ``regex``.

It runs once on the finished page (``mark_languages``), so every text that reaches a reader is
covered, whatever file it came from: Markdown prose, chronology titles, captions, references.
"""

from __future__ import annotations

import re

import regex

SCRIPT_LANGUAGES: dict[str, str] = {
    "Arabic": "ar", "Hebrew": "he", "Cyrillic": "ru", "Greek": "el", "Han": "zh", "Hangul": "ko",
    "Devanagari": "hi", "Bengali": "bn", "Tamil": "ta", "Thai": "th", "Armenian": "hy",
    "Georgian": "ka", "Ethiopic": "am", "Gujarati": "gu", "Gurmukhi": "pa", "Khmer": "km",
}
"""The language a run in each script is read in when nothing says otherwise."""

LANGUAGE_SCRIPTS: dict[str, str] = {
    "ru": "Cyrillic", "uk": "Cyrillic", "bg": "Cyrillic", "sr": "Cyrillic", "mk": "Cyrillic",
    "be": "Cyrillic", "kk": "Cyrillic", "fa": "Arabic", "ar": "Arabic", "ur": "Arabic", "ps": "Arabic",
    "he": "Hebrew", "yi": "Hebrew", "el": "Greek", "zh": "Han", "ja": "Han", "ko": "Hangul",
    "hi": "Devanagari", "mr": "Devanagari", "ne": "Devanagari", "bn": "Bengali", "as": "Bengali", "ta": "Tamil",
    "th": "Thai", "ka": "Georgian", "hy": "Armenian", "am": "Ethiopic", "ti": "Ethiopic",
}
"""The script a language is written in: a run in the page's own script is not marked."""

LATIN_LANGUAGES = frozenset({
    "en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "no", "nb", "nn", "fi", "pl", "cs", "sk",
    "sl", "hr", "ro", "hu", "tr", "la", "ca", "eu", "gl", "et", "lv", "lt", "ga", "cy", "id", "ms",
    "vi",
})
"""Languages in the Latin script: inside them, runs in other scripts are marked."""

PERSIAN_LETTERS = frozenset("پچژگکی")
"""Letters Persian writes and Arabic does not (pe, che, zhe, gaf, keheh, Farsi yeh)."""

_JOINER = r"[\p{Mn}\p{Me}\u200c\u200d\u0640]"  # marks, ZWNJ/ZWJ (Persian half-spaces), tatweel
_GAP = r"[ \u00a0\-\u2010\u060c\u061b\u061f.,:;!?«»()'\"\u2018\u2019\u201c\u201d\u3000-\u303f]+"


def _run_of(letter: str) -> str:
    return f"{letter}(?:{letter}|{_JOINER})*(?:{_GAP}{letter}(?:{letter}|{_JOINER})*)*"


RUN = regex.compile("|".join(
    _run_of(r"[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]" if name == "Han" else f"\\p{{Script={name}}}")
    for name in SCRIPT_LANGUAGES
))
"""A run: letters of one script, with the spaces and punctuation between two of its letters."""

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)([^>]*)>|<!--.*?-->|<![^>]*>", re.S)
_LANG_ATTR = re.compile(r"""\slang\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_VOID = frozenset(["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"])
_OPAQUE = frozenset({"style", "script", "title", "textarea", "svg", "math", "code", "pre"})
"""Elements whose text is not prose: left exactly as written."""


def script_of(run: str) -> str:
    """The script of a run's first letter ('Han' for kana too: Japanese is told apart below)."""
    for name in SCRIPT_LANGUAGES:
        if regex.match(f"\\p{{Script={name}}}", run):
            return name
    return "Han"


def language_of(run: str, base: str) -> str | None:
    """The language a run is read in, or None when it is in the script of ``base`` (the language
    in force around it: the page's, or one the author set)."""
    script = script_of(run)
    known = LANGUAGE_SCRIPTS.get(base.split("-")[0].lower())
    if known == script or (known is None and base.split("-")[0].lower() not in LATIN_LANGUAGES):
        return None
    if script == "Arabic" and PERSIAN_LETTERS.intersection(run):
        return "fa"
    if script == "Han" and regex.search(r"\p{Script=Hiragana}|\p{Script=Katakana}", run):
        return "ja"
    return SCRIPT_LANGUAGES[script]


def mark_text(text: str, base: str) -> str:
    """Escaped HTML text with each foreign-script run wrapped in a ``lang`` span."""
    out: list[str] = []
    last = 0
    for match in RUN.finditer(text):
        language = language_of(match.group(), base)
        if language is None:
            continue
        out += [text[last:match.start()], f'<span lang="{language}">{match.group()}</span>']
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def mark_languages(page: str, base: str) -> str:
    """The page with foreign-script runs in its text wrapped in ``<span lang>`` (see the module)."""
    if not RUN.search(page):
        return page
    out: list[str] = []
    stack: list[tuple[str, str | None]] = []  # open elements and the language each sets
    opaque = 0
    last = 0
    for tag in _TAG.finditer(page):
        out.append(_text(page[last:tag.start()], stack, base, opaque))
        out.append(tag.group())
        last = tag.end()
        closing, name = tag.group(1), (tag.group(2) or "").lower()
        if not name or name in _VOID or tag.group(3).rstrip().endswith("/"):
            continue
        if closing:
            while stack:
                top, _ = stack.pop()
                opaque -= top in _OPAQUE
                if top == name:
                    break
        else:
            found = _LANG_ATTR.search(tag.group(3))
            stack.append((name, next((g for g in found.groups() if g is not None), None) if found else None))
            opaque += name in _OPAQUE
    out.append(_text(page[last:], stack, base, opaque))
    return "".join(out)


def _text(text: str, stack: list[tuple[str, str | None]], base: str, opaque: int) -> str:
    if opaque or not text.strip():
        return text
    inherited = next((lang for _, lang in reversed(stack) if lang), base)
    return mark_text(text, inherited) if RUN.search(text) else text
