"""A run of text in another script -> the language it is most likely in, so a screen reader switches voice.

A heuristic, not language identification: the script of a run names its most likely language
(Arabic script with a Persian-only letter is Persian, otherwise Arabic; Cyrillic is Russian unless
the briefing itself is written in a Cyrillic language…). Text the author marked with
``[…]{lang=xx}`` keeps the author's tag: a run inside a span whose language already has the
run's script is left alone. Scripts come from the Unicode Character Database through ``regex``.

The text pass (``text_finish.py``) asks it about every prose run, whatever file it came from.
"""

from __future__ import annotations

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
