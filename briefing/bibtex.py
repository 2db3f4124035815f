"""BibTeX text -> CSL-JSON references, with LaTeX accents and braces decoded and every error located.

Fields map to CSL as Pandoc's BibLaTeX reader maps them, so a ``.bib`` file formats as it does
with ``pandoc --citeproc``: titles are taken to be in title case and turned into sentence case,
words in braces keeping their case (``{NATO}``, ``{Iran}``); the CSL style capitalises again.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from .errors import Diagnostics, SourceLocation
from .model import Reference

ENTRY_TYPES = {
    "article": "article-journal", "book": "book", "booklet": "pamphlet", "inbook": "chapter",
    "incollection": "chapter", "inproceedings": "paper-conference", "conference": "paper-conference",
    "manual": "report", "mastersthesis": "thesis", "phdthesis": "thesis", "thesis": "thesis",
    "misc": "", "online": "webpage", "techreport": "report", "report": "report",
    "unpublished": "manuscript", "proceedings": "book", "legislation": "legislation",
    "jurisdiction": "legal_case",
}
TEXT_FIELDS = {
    "title": "title", "journal": "container-title", "journaltitle": "container-title",
    "booktitle": "container-title", "publisher": "publisher", "institution": "publisher",
    "school": "publisher", "organization": "publisher", "address": "publisher-place",
    "location": "publisher-place", "edition": "edition", "volume": "volume", "pages": "page",
    "doi": "DOI", "url": "URL", "isbn": "ISBN", "note": "note", "series": "collection-title",
    "chapter": "chapter-number", "abstract": "abstract", "language": "language", "type": "genre",
    "howpublished": "publisher",
}
TITLE_FIELDS = ("title", "booktitle", "series")
"""Fields Pandoc reads as English title case and stores in sentence case."""
PROTECTED_FIELDS = ("journal", "journaltitle")
"""Fields kept as written, but whose braced words a style's title case must not touch either."""
ENTRY_SUBTYPES = {("article", "newspaper"): "article-newspaper", ("article", "magazine"): "article-magazine"}
THESIS_GENRES = {"phdthesis": "PhD thesis", "mastersthesis": "Master's thesis"}
ENGLISH = ("", "english", "american", "british", "en", "en-us", "en-gb", "usenglish", "ukenglish")
NOCASE = ('<span class="nocase">', "</span>")
"""CSL-JSON's mark for text whose case a style must not change (citeproc-py honours it)."""
MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
           ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
           "r": "\u030a", "d": "\u0323", "b": "\u0331"}
SYMBOLS = {"ss": "ß", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "o": "ø", "O": "Ø", "l": "ł",
           "L": "Ł", "aa": "å", "AA": "Å", "i": "ı", "j": "ȷ", "&": "&", "%": "%", "$": "$",
           "#": "#", "_": "_", "{": "{", "}": "}", "textendash": "–", "textemdash": "—"}
_ACCENT_RE = re.compile(r"\\([`'^\"~=.uvHckrdb])\s*(?:\{\\?([A-Za-z])\}|\\?([A-Za-z]))")
_SYMBOL_RE = re.compile(r"\\(ss|ae|AE|oe|OE|aa|AA|textendash|textemdash|[oOlLij](?![A-Za-z])|[&%$#_{}])")


def parse_bibtex(text: str, path: Path, report: Diagnostics) -> list[Reference]:
    """Parse every entry; malformed ones are reported and skipped, the rest kept."""
    parser = _Parser(text, path, report)
    return parser.parse()


class _Parser:
    def __init__(self, text: str, path: Path, report: Diagnostics) -> None:
        self.text, self.path, self.report = text, path, report
        self.pos = 0
        self.strings: dict[str, str] = {}

    def location(self, pos: int) -> SourceLocation:
        line = self.text.count("\n", 0, pos) + 1
        return SourceLocation(self.path, line, pos - self.text.rfind("\n", 0, pos))

    def parse(self) -> list[Reference]:
        references = []
        while (at := self.text.find("@", self.pos)) >= 0:
            self.pos = at + 1
            kind_match = re.compile(r"([A-Za-z]+)\s*([{(])").match(self.text, self.pos)
            if not kind_match:
                self.report.error(self.location(at), "malformed BibTeX: expected '@type{key, ...}'")
                continue
            kind = kind_match[1].lower()
            self.pos = kind_match.end()
            closer = "}" if kind_match[2] == "{" else ")"
            try:
                if kind in ("comment", "preamble"):
                    self._skip_balanced(closer)
                elif kind == "string":
                    name, value = self._field()
                    self.strings[name] = value
                    self._expect(closer)
                else:
                    reference = self._entry(kind, closer, at)
                    if reference:
                        references.append(reference)
            except _BibError as error:
                self.report.error(self.location(error.pos), f"malformed BibTeX: {error.message}")
                next_entry = self.text.find("\n@", error.pos)
                self.pos = len(self.text) if next_entry < 0 else next_entry + 1
        return references

    def _entry(self, kind: str, closer: str, start: int) -> Reference | None:
        key_match = re.compile(r"\s*([^\s,{}()]+)\s*,").match(self.text, self.pos)
        if not key_match:
            raise _BibError(self.pos, "expected a citation key followed by ','")
        key_pos = key_match.start(1)
        self.pos = key_match.end()
        fields: dict[str, str] = {}
        while True:
            self._skip_space()
            if self.text.startswith(closer, self.pos):
                self.pos += 1
                break
            name, value = self._field()
            fields[name] = value
            self._skip_space()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif not self.text.startswith(closer, self.pos):
                raise _BibError(self.pos, f"expected ',' or '{closer}' after field '{name}'")
        if kind not in ENTRY_TYPES:
            self.report.warning(self.location(start), f"unknown BibTeX entry type '@{kind}', treated as @misc")
        return Reference(key_match[1], _to_csl(key_match[1], kind, fields), self.location(key_pos))

    def _field(self) -> tuple[str, str]:
        self._skip_space()
        match = re.compile(r"([A-Za-z][\w\-:]*)\s*=\s*").match(self.text, self.pos)
        if not match:
            raise _BibError(self.pos, "expected 'field = value'")
        self.pos = match.end()
        parts = [self._value()]
        while True:
            self._skip_space()
            if not self.text.startswith("#", self.pos):
                break
            self.pos += 1
            self._skip_space()
            parts.append(self._value())
        return match[1].lower(), "".join(parts)

    def _value(self) -> str:
        char = self.text[self.pos: self.pos + 1]
        if char == "{":
            self.pos += 1
            start = self.pos
            self._skip_balanced("}")
            return self.text[start: self.pos - 1]
        if char == '"':
            end = self.pos + 1
            depth = 0
            while end < len(self.text) and not (self.text[end] == '"' and depth == 0):
                depth += {"{": 1, "}": -1}.get(self.text[end], 0)
                end += 1
            if end >= len(self.text):
                raise _BibError(self.pos, "unterminated quoted value")
            value = self.text[self.pos + 1: end]
            self.pos = end + 1
            return value
        match = re.compile(r"[\w\-]+").match(self.text, self.pos)
        if not match:
            raise _BibError(self.pos, "expected a value in braces, quotes, a number or a @string name")
        self.pos = match.end()
        word = match[0]
        if word.isdigit():
            return word
        if word.lower() in MONTHS:
            return str(MONTHS[word.lower()])
        if word.lower() not in self.strings:
            raise _BibError(match.start(), f"undefined @string '{word}'")
        return self.strings[word.lower()]

    def _skip_balanced(self, closer: str) -> None:
        depth = 1
        opener = "{" if closer == "}" else "("
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == opener:
                depth += 1
            elif char == closer:
                depth -= 1
                if depth == 0:
                    return
        raise _BibError(self.pos - 1, f"unbalanced braces: missing '{closer}'")

    def _skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _expect(self, char: str) -> None:
        self._skip_space()
        if not self.text.startswith(char, self.pos):
            raise _BibError(self.pos, f"expected '{char}'")
        self.pos += 1


class _BibError(Exception):
    def __init__(self, pos: int, message: str) -> None:
        self.pos, self.message = pos, message


def decode_latex(value: str) -> str:
    """Turn LaTeX accents and protective braces into plain Unicode text."""
    value = _ACCENT_RE.sub(lambda m: unicodedata.normalize("NFC", (m[2] or m[3]) + ACCENTS[m[1]]), value)
    value = _SYMBOL_RE.sub(lambda m: SYMBOLS[m[1]], value)
    value = re.sub(r"\\(?:emph|textit|textbf|textsc|url|mkbibquote)\s*", "", value)
    value = value.replace("---", "—").replace("--", "–").replace("~", "\u00a0")
    value = value.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", value).strip()


def sentence_case(value: str, lower: bool = True) -> str:
    """A BibTeX title -> CSL sentence case, as Pandoc does: a capitalised word ("Iran") is lowered
    unless it opens the title or follows ':', '.', '?' or '!'; words in braces (or holding a braced
    accent, ``M{\\"u}ller``), all-capital words and words with letters beyond ASCII keep their case.
    With ``lower=False`` only the braces are kept, as marks that the case must not change."""
    parts, state, carry = [], "start", ""
    runs = _protected_runs(value)
    last_word_run = max((i for i, (p, t) in enumerate(runs) if re.search(r"[^\W_]", t)), default=-1)
    for run_index, (protected, decoded) in enumerate(runs):
        if protected:
            parts.append(NOCASE[0] + decoded + NOCASE[1])
            state, carry = "word", decoded[-1:]
            continue
        out, position = [], 0
        for match in re.finditer(r"[^\W_]+", decoded):
            between = carry + decoded[position: match.start()]
            if state != "start" or between.strip():
                state = _sentence_state(between, state)
            word = match[0]
            capitalised = word[0].isupper() and word[1:].islower() and word.isascii()
            last = run_index == last_word_run and not re.search(r"[^\W_]", decoded[match.end():])
            if last and state == "sentence":
                state = "word"  # Pandoc lowers the last word even after a full stop
            if lower and state not in ("start", "sentence") and capitalised:
                word = word.lower()
            out.append(decoded[position: match.start()] + word)
            position, state, carry = match.end(), "in-word", ""
        tail = decoded[position:]
        if tail:
            state = _sentence_state(carry + tail, state)
            carry = ""
        parts.append("".join(out) + tail)
    text = re.sub(r"\s+", " ", "".join(parts)).strip()
    return text.replace(NOCASE[1] + NOCASE[0], "")


def _sentence_state(between: str, state: str) -> str:
    stripped = between.strip()
    if between[-1:].isspace() and stripped and stripped[-1] in ".:?!":
        return "sentence"
    return "word" if between else state


def _protected_runs(value: str) -> list[tuple[bool, str]]:
    """Decoded (protected, text) runs: braced groups keep their case, and so does a word glued to
    one (``f{\\"u}r``, as Pandoc reads it)."""
    runs = []
    for protected, text in _brace_groups(value):
        lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()):]
        decoded = lead + decode_latex(text) + trail if text.strip() else text
        runs.append([protected, decoded])
    for index, run in enumerate(runs):
        if not run[0]:
            continue
        if index and not runs[index - 1][0] and (match := re.search(r"[^\W_]+$", runs[index - 1][1])):
            runs[index - 1][1], run[1] = runs[index - 1][1][: match.start()], match[0] + run[1]
        if index + 1 < len(runs) and not runs[index + 1][0] and (match := re.match(r"[^\W_]+", runs[index + 1][1])):
            runs[index + 1][1], run[1] = runs[index + 1][1][match.end():], run[1] + match[0]
    merged: list[tuple[bool, str]] = []
    for protected, text in runs:
        if merged and merged[-1][0] == protected:
            merged[-1] = (protected, merged[-1][1] + text)
        elif text:
            merged.append((protected, text))
    return merged


def _brace_groups(value: str) -> list[tuple[bool, str]]:
    """Split a field into (braced, text) runs at its top-level ``{...}`` groups."""
    runs: list[tuple[bool, str]] = []
    depth, start = 0, 0
    for index, char in enumerate(value):
        if char == "{":
            if depth == 0:
                runs.append((False, value[start:index]))
                start = index
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                group = value[start: index + 1]
                runs.append((True, group))
                start = index + 1
    runs.append((False, value[start:]))
    merged: list[tuple[bool, str]] = []
    for protected, text in runs:
        if merged and not protected and not merged[-1][0]:
            merged[-1] = (False, merged[-1][1] + text)
        elif text:
            merged.append((protected, text))
    return merged


def _split_names(value: str) -> list[dict[str, str]]:
    """BibTeX names: 'Last, First', 'First Last', or '{Literal Organisation}'."""
    names = []
    for raw in _split_top_level(value, " and "):
        raw = raw.strip()
        if raw.startswith("{") and raw.endswith("}") and _split_top_level(raw[1:-1], ",") == [raw[1:-1]]:
            names.append({"literal": decode_latex(raw)})
            continue
        parts = [decode_latex(p) for p in _split_top_level(raw, ",")]
        if len(parts) >= 2:
            name = {"family": parts[0], "given": parts[-1]}
            if len(parts) == 3:
                name["suffix"] = parts[1]
            names.append(name)
            continue
        words = decode_latex(raw).split(" ")
        names.append({"family": words[-1], "given": " ".join(words[:-1])} if len(words) > 1 else {"literal": words[0]})
    return names


def _split_top_level(value: str, separator: str) -> list[str]:
    parts, depth, start, index = [], 0, 0, 0
    while index < len(value):
        char = value[index]
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and value.startswith(separator, index):
            parts.append(value[start:index])
            index += len(separator)
            start = index
            continue
        index += 1
    parts.append(value[start:])
    return [p for p in parts if p.strip()]


def _to_csl(key: str, kind: str, fields: dict[str, str]) -> dict[str, Any]:
    subtype = ENTRY_SUBTYPES.get((kind, fields.get("entrysubtype", "").strip().lower()))
    item: dict[str, Any] = {"id": key, "type": subtype or ENTRY_TYPES.get(kind, "document")}
    english = (fields.get("langid") or fields.get("language") or "").strip().lower() in ENGLISH
    for bib_name, csl_name in TEXT_FIELDS.items():
        if bib_name in fields and csl_name not in item:
            raw = fields[bib_name]
            if english and bib_name in TITLE_FIELDS:
                item[csl_name] = sentence_case(raw)
            elif bib_name in PROTECTED_FIELDS:
                item[csl_name] = sentence_case(raw, lower=False)
            else:
                item[csl_name] = decode_latex(raw)
    if "title" in item and "title-short" not in item:
        short = fields.get("shorttitle")
        if short:
            item["title-short"] = sentence_case(short) if english else decode_latex(short)
        elif ": " in item["title"]:
            item["title-short"] = item["title"].split(": ", 1)[0]
    if kind in THESIS_GENRES and "genre" not in item:
        item["genre"] = THESIS_GENRES[kind]
    if "number" in fields:
        item["issue" if kind == "article" else "number"] = decode_latex(fields["number"])
    for role in ("author", "editor", "translator"):
        if role in fields:
            item[role] = _split_names(fields[role])
    date = _date_parts(fields.get("date") or fields.get("year"), fields.get("month"))
    if date:
        item["issued"] = {"date-parts": [date]}
    if "urldate" in fields and (accessed := _date_parts(fields["urldate"], None)):
        item["accessed"] = {"date-parts": [accessed]}
    return item


def _date_parts(value: str | None, month: str | None) -> list[int] | None:
    if not value:
        return None
    match = re.match(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", decode_latex(value))
    if not match:
        return None
    parts = [int(p) for p in match.groups() if p]
    if len(parts) == 1 and month:
        month_number = MONTHS.get(month.strip().lower()[:3]) or (int(month) if month.strip().isdigit() else None)
        if month_number:
            parts.append(month_number)
    return parts
