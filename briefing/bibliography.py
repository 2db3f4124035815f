"""Reference files named in ``briefing.yaml`` -> located keys and the texts pandoc will format.

Pandoc reads every format itself (BibLaTeX, CSL-JSON, CSL-YAML) when it formats the citations,
so LaTeX, names and dates mean what they mean to every Pandoc user. What we do here is what a
compiler does before handing over: find each key and where it is written (for "unknown key,
did you mean" and "duplicate key" at the second definition), refuse what pandoc would choke on
(a BibTeX ``@string`` that doubles itself into a gigabyte), and check the shapes of CSL-JSON and
CSL-YAML items so that a name given as text is an error on its line, not a silent blank.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from .errors import Diagnostics, SourceLocation, did_you_mean
from .graphs import closing_edges
from .load import ContentFiles, LocatedDict, LocatedList, LocatedStr, key_location, read_text, read_yaml, resolve_inside
from .model import Reference, ReferenceFile

FORMATS = {".bib": "biblatex", ".bibtex": "bibtex", ".json": "csljson", ".yaml": "yaml", ".yml": "yaml"}
"""File suffix -> pandoc's bibliography format (Pandoc reads ``.bib`` as BibLaTeX, ``.bibtex`` as BibTeX)."""
MAX_STRING_CHARS = 100_000
"""A BibTeX ``@string`` longer than this once expanded is refused: no real macro is, and
``@string{b = a # a}`` chains double in size at each step (issue 12: 1.3 KB -> 1 GiB)."""

CSL_NAME_VARIABLES = frozenset((
    "author", "chair", "collection-editor", "compiler", "composer", "container-author", "contributor", "curator",
    "director", "editor", "editorial-director", "editor-translator", "executive-producer", "guest", "host",
    "illustrator", "interviewer", "narrator", "organizer", "original-author", "performer", "producer", "recipient",
    "reviewed-author", "script-writer", "series-creator", "translator",
))
CSL_DATE_VARIABLES = frozenset(("accessed", "available-date", "event-date", "issued", "original-date", "submitted"))
CSL_TEXT_VARIABLES = frozenset((
    "abstract", "annote", "archive", "archive_collection", "archive_location", "archive-place", "authority",
    "call-number", "chapter-number", "citation-key", "citation-label", "collection-number", "collection-title",
    "container-title", "container-title-short", "dimensions", "division", "DOI", "edition", "event", "event-title",
    "event-place", "genre", "ISBN", "ISSN", "issue", "jurisdiction", "keyword", "language", "license", "medium",
    "note", "number", "number-of-pages", "number-of-volumes", "original-publisher", "original-publisher-place",
    "original-title", "page", "page-first", "part-number", "part-title", "PMCID", "PMID", "printing-number",
    "publisher", "publisher-place", "references", "reviewed-genre", "reviewed-title", "scale", "section", "source",
    "status", "supplement-number", "title", "title-short", "URL", "version", "volume", "volume-title",
    "volume-title-short", "year-suffix", "shortTitle", "journalAbbreviation", "categories", "custom",
))
"""The variables of CSL 1.0.2 (and the CSL-JSON spellings Zotero writes), as pandoc reads them."""
CSL_NAME_PARTS = ("family", "given", "literal", "suffix", "dropping-particle", "non-dropping-particle",
                  "parse-names", "comma-suffix", "static-ordering")
CSL_NAME_EXAMPLE = "{family: Doe, given: Jane} or {literal: World Bank}"
CSL_DATE_EXAMPLE = "2001, 2001-05-01 or {date-parts: [[2001, 5, 1]]}"
_ASCII_INTEGER = re.compile(r"^-?[0-9]+$")
"""Digits as ``int()`` takes them: '²' passes ``str.isdigit()`` but is no number (issue 12)."""
_TEXT_DATE = re.compile(r"^([0-9]{1,4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?$")


def read_references(
    files: ContentFiles, value: Any, report: Diagnostics
) -> tuple[list[Reference], tuple[ReferenceFile, ...]]:
    """Every reference of every file ``references:`` names, each key once; duplicates are errors."""
    if value is None:
        return [], ()
    written = list(value) if isinstance(value, LocatedList) else [value]
    if not written or not all(isinstance(v, LocatedStr) for v in written):
        where = getattr(value, "location", files.config.location if files.config else SourceLocation(files.folder))
        report.error(where, "'references' must be the path of a .bib, .json or .yaml file, or a list of them")
        return [], ()
    references: list[Reference] = []
    reference_files = []
    for one in written:
        read = _read_file(files, one, report)
        if read is not None:
            reference_files.append(read[0])
            references.extend(read[1])
    return _without_duplicates(references, report), tuple(reference_files)


def _read_file(files: ContentFiles, value: LocatedStr, report: Diagnostics) -> tuple[ReferenceFile, list[Reference]] | None:
    path = resolve_inside(files, value, report)
    if path is None:
        return None
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        report.error(value.location, f"references '{value}': expected a .bib, .json or .yaml file")
        return None
    text = read_text(files, path, value.location, report)
    if text is None:
        return None
    if suffix in (".bib", ".bibtex"):
        references = _bibtex_keys(text, path, report)
    elif suffix == ".json":
        references = _csl_json_references(text, path, report)
    else:
        references = _csl_yaml_references(files, path, value.location, report)
    return ReferenceFile(path, FORMATS[suffix], text), references


def _without_duplicates(references: list[Reference], report: Diagnostics) -> list[Reference]:
    """Keys are compared without case: Pandoc would keep both, BibTeX users expect one, a reader cannot tell."""
    seen: dict[str, Reference] = {}
    for reference in references:
        first = seen.get(reference.key.lower())
        if first is None:
            seen[reference.key.lower()] = reference
            continue
        where = f"line {first.location.line}"
        if first.location.path != reference.location.path:
            where = f"{first.location.path.name}:{first.location.line}"
        if first.key == reference.key:
            report.error(reference.location, f"duplicate reference key '{reference.key}' (first defined at {where})")
        else:
            report.error(
                reference.location,
                f"duplicate reference key '{reference.key}': differs only in case from '{first.key}' "
                f"(defined at {where})",
            )
    return list(seen.values())


def _location(text: str, path: Path, position: int) -> SourceLocation:
    line = text.count("\n", 0, position) + 1
    return SourceLocation(path, line, position - text.rfind("\n", 0, position))


# -- BibTeX --------------------------------------------------------------------------------------

_ENTRY_START = re.compile(r"@\s*([A-Za-z]+)\s*([{(])")
_KEY = re.compile(r"\s*([^\s,{}()\"#%'=]+)\s*,")
_STRING_BODY = re.compile(r"\s*([A-Za-z_][\w:.+/-]*)\s*=", re.S)
_MONTH_MACROS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _bibtex_keys(text: str, path: Path, report: Diagnostics) -> list[Reference]:
    """The key of every entry and where it is written; pandoc parses the rest (and reports syntax errors).

    Text outside an entry is a comment, as in BibTeX, so only an ``@`` at brace depth 0 starts one.
    """
    references = []
    strings: dict[str, int] = dict.fromkeys(_MONTH_MACROS, 3)
    parents: dict[str, list[tuple[str, SourceLocation]]] = {}
    position = 0
    while (at := text.find("@", position)) >= 0:
        start = _ENTRY_START.match(text, at)
        if start is None:
            position = at + 1
            continue
        kind, body_start = start[1].lower(), start.end()
        end = _entry_end(text, body_start, start[2])
        position = end
        if kind in ("comment", "preamble"):
            continue
        if kind == "string":
            _check_string(text, body_start, end, path, strings, report)
            continue
        key = _KEY.match(text, body_start)
        if key is not None:
            references.append(Reference(key[1], {}, _location(text, path, key.start(1))))
            parents[key[1].lower()] = [
                (name.strip().lower(), _location(text, path, field.start()))
                for field in _INHERITS.finditer(text, key.end(), end)
                for name in (field[2] or field[3] or field[4] or "").split(",") if name.strip()
            ]
    _check_inheritance(parents, report)
    return references


_INHERITS = re.compile(r"\b(crossref|xdata)\s*=\s*(?:\{([^{}]*)\}|\"([^\"]*)\"|([^\s,{}\"]+))", re.I)
"""``crossref`` and ``xdata`` fields: an entry takes the fields of the entries they name."""


def _check_inheritance(parents: dict[str, list[tuple[str, SourceLocation]]], report: Diagnostics) -> None:
    """An entry that inherits from itself, directly or through others, would make pandoc loop until
    it runs out of memory: report the field that closes the loop."""
    for child, parent, field in closing_edges(parents):
        report.error(field, f"BibTeX entry '{child}' inherits from '{parent}', which inherits from it: "
                            "crossref and xdata may not form a loop")


def _entry_end(text: str, start: int, opening: str) -> int:
    """Where the entry opened at ``start`` closes (braces counted), or the end of the text."""
    closing, depth = ("}" if opening == "{" else ")"), 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "{":
            depth += 1
        elif char == "}" and depth > 0:
            depth -= 1
        elif char == closing and depth == 0:
            return index + 1
    return len(text)


def _check_string(text: str, start: int, end: int, path: Path, strings: dict[str, int], report: Diagnostics) -> None:
    """Record the expanded length of ``@string{name = a # "b" # {c}}``, refusing one past the limit."""
    match = _STRING_BODY.match(text, start, end)
    if match is None:
        return
    length = 0
    for part in _concatenated_parts(text[match.end(): end - 1]):
        if part[:1] in ('"', "{"):
            length += len(part) - 2
        elif part.isdigit():
            length += len(part)
        else:
            length += strings.get(part.lower(), 0)
    strings[match[1].lower()] = length
    if length > MAX_STRING_CHARS:
        report.error(
            _location(text, path, match.start(1)),
            f"BibTeX @string '{match[1]}' expands to {length:,} characters; the limit is {MAX_STRING_CHARS:,}",
        )
        strings[match[1].lower()] = 0  # reported once, at the first macro past the limit


def _concatenated_parts(value: str) -> list[str]:
    """``a # "b" # {c {d}}`` -> ['a', '"b"', '{c {d}}'] (quoted and braced parts whole)."""
    parts, index = [], 0
    while index < len(value):
        char = value[index]
        if char.isspace() or char == "#":
            index += 1
        elif char in "{\"":
            depth, end = 0, index
            for end in range(index, len(value)):
                if value[end] == "{":
                    depth += 1
                elif value[end] == "}":
                    depth -= 1
                if (char == "{" and depth == 0) or (char == '"' and end > index and value[end] == '"' and depth == 0):
                    break
            parts.append(value[index: end + 1])
            index = end + 1
        else:
            word = re.match(r"[^\s#]+", value[index:])
            assert word is not None
            parts.append(word[0])
            index += len(word[0])
    return parts


# -- CSL-JSON and CSL-YAML -----------------------------------------------------------------------


def _csl_json_references(text: str, path: Path, report: Diagnostics) -> list[Reference]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        report.error(SourceLocation(path, error.lineno, error.colno), f"invalid CSL-JSON: {error.msg}")
        return []
    except RecursionError:
        report.error(SourceLocation(path, 1, 1), "invalid CSL-JSON: nested too deeply")
        return []
    if not isinstance(items, list):
        report.error(SourceLocation(path, 1, 1), "CSL-JSON must be a list of items")
        return []
    references = []
    searched_from: dict[str, int] = {}
    for index, item in enumerate(items):
        key = item.get("id") if isinstance(item, dict) else None
        location = _json_item_location(text, path, key, searched_from)
        if isinstance(key, int) and not isinstance(key, bool):
            key = str(key)  # Pandoc reads a numeric id as its digits
        if not isinstance(key, str) or not key:
            report.error(location, f"CSL-JSON item {index + 1} has no 'id'")
            continue
        csl = _checked_csl(item, key, _everywhere(location), report)
        if csl is not None:
            references.append(Reference(key, csl, location))
    return references


def _everywhere(location: SourceLocation) -> Callable[[str], SourceLocation]:
    """JSON fields have no positions of their own: each is located at its item's id."""
    return lambda _field: location


def _json_item_location(text: str, path: Path, key: Any, searched_from: dict[str, int]) -> SourceLocation:
    """JSON parsers forget positions: find the id's value by text, after the previous one of the same id
    (so a duplicate is located at its own, second, definition)."""
    if not isinstance(key, (str, int)) or isinstance(key, bool):
        return SourceLocation(path, 1, 1)
    pattern = re.compile(r'"id"\s*:\s*' + re.escape(json.dumps(key)))
    match = pattern.search(text, searched_from.get(str(key), 0))
    if match is None:
        return SourceLocation(path, 1, 1)
    searched_from[str(key)] = match.end()
    return _location(text, path, match.end() - len(json.dumps(key)))


def _csl_yaml_references(files: ContentFiles, path: Path, where: SourceLocation, report: Diagnostics) -> list[Reference]:
    tree = read_yaml(files, path, where, report)
    if isinstance(tree, LocatedDict) and "references" in tree:
        tree = cast("dict[str, Any]", tree)["references"]  # Pandoc's metadata form
    if tree is None:
        return []
    if not isinstance(tree, LocatedList):
        report.error(tree.location, "CSL-YAML must be a list of items (or a 'references:' list)")
        return []
    references = []
    for item in tree:
        key = cast("dict[str, Any]", item).get("id") if isinstance(item, LocatedDict) else None
        if not isinstance(key, LocatedStr):
            report.error(getattr(item, "location", tree.location), "a CSL-YAML item needs an 'id'")
            continue
        csl = _checked_csl(_plain_csl(item), str(key), _field_locator(item), report)
        if csl is not None:
            references.append(Reference(str(key), csl, key.location))
    return references


def _field_locator(item: LocatedDict) -> Callable[[str], SourceLocation]:
    """Where each field of a YAML item is written: its value, or its key when the value is empty."""
    where: dict[str, SourceLocation] = {
        str(key): getattr(value, "location", key_location(key, item)) for key, value in item.items()
    }
    return lambda field: where.get(field, item.location)


def _plain_csl(value: Any, key: str = "") -> Any:
    """Located YAML -> plain CSL-JSON values (date parts become numbers, as CSL wants)."""
    if isinstance(value, LocatedDict):
        return {str(k): _plain_csl(v, str(k)) for k, v in value.items()}
    if isinstance(value, LocatedList):
        return [_plain_csl(v, key) for v in value]
    if value is not None and key == "date-parts" and _ASCII_INTEGER.match(str(value)):
        return int(value)
    return None if value is None else str(value)


def _checked_csl(
    item: dict[str, Any], key: str, locate: Callable[[str], SourceLocation], report: Diagnostics
) -> dict[str, Any] | None:
    """The item if every field has a shape pandoc reads, else None after reporting each problem.

    Pandoc skips what it cannot read without a word (a name given as text prints nothing); here
    it is an error on the field's line. Unknown fields are only warned about: styles ignore them.
    """
    errors_before = len(report.errors)
    for field, value in item.items():
        where = locate(field)
        if value is None or field in ("id", "key"):
            continue  # 'title:' with nothing after it, as if not given
        if field == "type":
            if not isinstance(value, str):  # empty is Pandoc's type of BibTeX's @misc
                report.error(where, f"reference '{key}': 'type' must be a CSL type such as 'book' or 'webpage'")
        elif field in CSL_NAME_VARIABLES:
            _check_names(value, key, field, where, report)
        elif field in CSL_DATE_VARIABLES:
            if not _is_csl_date(value):
                report.error(where, f"reference '{key}': '{field}' must be a date such as {CSL_DATE_EXAMPLE}")
        elif field in CSL_TEXT_VARIABLES:
            if isinstance(value, (dict, list)):
                kind = "mapping" if isinstance(value, dict) else "list"
                report.error(where, f"reference '{key}': '{field}' must be text, found a {kind}")
        else:
            hint = did_you_mean(field, sorted(CSL_TEXT_VARIABLES | CSL_NAME_VARIABLES | CSL_DATE_VARIABLES))
            report.warning(where, f"reference '{key}': unknown CSL field '{field}' is ignored{hint}")
    return item if len(report.errors) == errors_before else None


def _check_names(value: Any, key: str, field: str, where: SourceLocation, report: Diagnostics) -> None:
    message = f"reference '{key}': '{field}' must be a list of names such as {CSL_NAME_EXAMPLE}"
    if not isinstance(value, list) or not all(isinstance(n, dict) for n in value):
        report.error(where, message)
        return
    for person in value:
        parts = {part: text for part, text in person.items() if text is not None}
        unknown = [part for part in parts if part not in CSL_NAME_PARTS]
        if unknown or any(isinstance(text, (dict, list)) for text in parts.values()) or not parts:
            report.error(where, message)
            return


def _is_csl_date(value: Any) -> bool:
    """A CSL date: 'YYYY[-MM[-DD]]' text or a year (as Pandoc accepts), or {date-parts | literal | raw}."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (str, int)):
        match = _TEXT_DATE.match(str(value).strip())
        return match is not None and _valid_parts([int(n) for n in match.groups() if n])
    if not isinstance(value, dict) or any(isinstance(v, dict) for v in value.values()):
        return False
    date = {k: v for k, v in value.items() if v is not None}
    if "date-parts" not in date:
        return isinstance(date.get("literal", date.get("raw")), str)
    parts = date["date-parts"]
    if not isinstance(parts, list) or not 1 <= len(parts) <= 2:
        return False
    for one in parts:
        if not isinstance(one, list) or not 1 <= len(one) <= 3:
            return False
        if not all((isinstance(n, int) and not isinstance(n, bool)) or
                   (isinstance(n, str) and _ASCII_INTEGER.match(n)) for n in one):
            return False
        if not _valid_parts([int(n) for n in one]):
            return False
    return True


def _valid_parts(numbers: list[int] | None) -> bool:
    """Month 1-12 or a season (21-24), day 1-31."""
    if not numbers:
        return False
    month_ok = len(numbers) < 2 or 1 <= numbers[1] <= 12 or 21 <= numbers[1] <= 24
    return month_ok and (len(numbers) < 3 or 1 <= numbers[2] <= 31)
