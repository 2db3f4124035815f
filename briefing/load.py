"""Briefing folder -> raw, located records: YAML trees whose every value knows its file:line:col."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .config import BRIEFING_FILE, DEFAULTS_FILE, find_defaults
from .errors import Diagnostics, SourceLocation, did_you_mean

MAX_FILE_BYTES = 5_000_000
"""Larger content files are refused: a briefing is text, and bounds keep a typo from eating memory."""


class LocatedStr(str):
    """A YAML scalar, always a string (the schema types it later), with its location."""

    location: SourceLocation

    def __new__(cls, value: str, location: SourceLocation) -> LocatedStr:
        obj = super().__new__(cls, value)
        obj.location = location
        return obj

    def __reduce__(self) -> tuple[type[LocatedStr], tuple[str, SourceLocation]]:
        # Editions are laid out in worker processes: their results must survive pickling.
        return (LocatedStr, (str(self), self.location))


class LocatedDict(dict[str, Any]):
    """A YAML mapping; its keys are LocatedStr (typed as str, so plain names index it)."""

    location: SourceLocation


def key_location(key: str, mapping: LocatedDict) -> SourceLocation:
    """Where a key of a YAML mapping is written (keys are LocatedStr; typed str so names index the dict)."""
    return key.location if isinstance(key, LocatedStr) else mapping.location


def check_known_keys(
    mapping: LocatedDict, known: Sequence[str], what: str, report: Diagnostics, *,
    aliases: Mapping[str, str] | None = None, alias_hint: str = "'{key}' is '{alias}' here", listing: str = "",
) -> None:
    """An error at each key ``what`` does not have: the alias a user of another tool means, or the closest key."""
    for key in mapping:
        if key in known:
            continue
        alias = (aliases or {}).get(key)
        hint = f" ({alias_hint.format(key=key, alias=alias)})" if alias else did_you_mean(key, known)
        report.error(key_location(key, mapping), f"unknown key '{key}' in {what}{hint}{listing}")


def iso_date(value: Any, report: Diagnostics, context: str = "") -> dt.date | None:
    """A date written YYYY-MM-DD; ``context`` ("revision: ") says whose date a message is about."""
    if value is None:
        return None
    if not isinstance(value, LocatedStr):
        report.error(value.location, f"{context}'date' must be a date YYYY-MM-DD")
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        report.error(value.location, f"{context}'date': '{value}' is not a date (use YYYY-MM-DD)")
        return None


class LocatedList(list[Any]):
    location: SourceLocation


def kind_of(value: Any) -> str:
    """What a YAML value is, in the words of a message: 'a mapping', 'a list', 'a text'."""
    if isinstance(value, LocatedDict):
        return "mapping"
    return "list" if isinstance(value, LocatedList) else "text"


def text_value(mapping: LocatedDict, key: str, report: Diagnostics, context: str = "") -> str | None:
    """The text under ``key`` with its spaces trimmed; None, with a located error, if it is not text or empty.

    ``context`` opens the message ("revision: ") where the key alone would not say which entry.
    """
    value = mapping.get(key)
    if value is None:
        return None
    if not isinstance(value, LocatedStr):
        report.error(value.location, f"{context}'{key}' must be text, found a {kind_of(value)}")
        return None
    if not value.strip():
        report.error(value.location, f"{context}'{key}' is empty")
        return None
    return str(value).strip()


@dataclass
class ContentFiles:
    """What was read from one briefing folder, not yet validated."""

    folder: Path
    config: LocatedDict | None
    texts: dict[Path, str] = field(default_factory=dict)
    """Every text file read so far, by resolved path."""
    defaults: Path | None = None
    """The ``briefings.yaml`` whose values this briefing inherits, if any."""


def load_content(folder: Path, report: Diagnostics) -> ContentFiles:
    """Read ``briefing.yaml``; later reads go through ``read_text``/``read_yaml``."""
    folder = folder.resolve()
    path = folder / BRIEFING_FILE
    files = ContentFiles(folder, None)
    if not path.is_file():
        hint = "'briefing new PATH' writes a briefing to start from"
        report.error(SourceLocation(folder), f"no {BRIEFING_FILE} in this folder ({hint})")
        return files
    try:
        escapes = not path.resolve().is_relative_to(folder)
    except (OSError, RuntimeError):
        escapes = True
    if escapes:  # a link out of the folder: its contents (and its key names) are not the briefing's to show
        report.error(SourceLocation(path), f"'{BRIEFING_FILE}' is a link to a file outside the briefing folder")
        return files
    tree = read_yaml(files, path, SourceLocation(path), report)
    if tree is not None and not isinstance(tree, LocatedDict):
        report.error(_location_of(tree, path), f"{BRIEFING_FILE} must be a mapping of keys such as 'title:' and 'sections:'")
    elif tree is not None:
        files.config = tree
        _inherit_defaults(files, tree, report)
    return files


DEFAULT_KEYS = (
    "organization", "classification", "paper", "citation-style", "language", "authors", "print", "theme", "lists",
    "lof", "lot",
)
"""What a content tree's ``briefings.yaml`` may give every briefing beneath it (like Quarto's _quarto.yml)."""


def _inherit_defaults(files: ContentFiles, tree: LocatedDict, report: Diagnostics) -> None:
    """Fill the keys the briefing leaves out from ``briefings.yaml``; the briefing's own values win."""
    path = find_defaults(files.folder)
    if path is None:
        return
    defaults = read_yaml(ContentFiles(path.parent, None), path, SourceLocation(path), report)
    if defaults is None:
        return
    if not isinstance(defaults, LocatedDict):
        report.error(_location_of(defaults, path), f"{DEFAULTS_FILE} must be a mapping of keys such as 'organization:'")
        return
    files.defaults = path
    for key, value in defaults.items():
        location = key_location(key, defaults)
        if key not in DEFAULT_KEYS:
            report.error(location, f"'{key}' cannot be given for every briefing{did_you_mean(key, DEFAULT_KEYS)} "
                                   f"(a {DEFAULTS_FILE} gives {', '.join(DEFAULT_KEYS)})")
        elif key == "citation-style" and isinstance(value, str) and value.strip().lower().endswith(".csl"):
            report.error(location, "a .csl file belongs to one briefing: name a bundled style here, or give the "
                                   "file in each briefing.yaml")
        elif key not in tree:
            tree[key] = value


def resolve_inside(files: ContentFiles, value: LocatedStr, report: Diagnostics) -> Path | None:
    """Resolve a path written in the content; refuse anything that leaves the briefing folder."""
    return resolve_within(value, files.folder, files.folder, report, expect="file")


def resolve_within(
    value: LocatedStr, base: Path, root: Path, report: Diagnostics, *, expect: str | None,
    outside: str = "the briefing folder", relative_to: str = "the briefing folder",
) -> Path | None:
    """Resolve ``value`` relative to ``base``; refuse what leaves ``root`` (links out included).

    ``expect`` is "file", "folder" or None (either). Every path content names goes through here,
    so one set of rules (no control characters, no absolute paths, no escape) guards them all.
    """
    shown = _shown(value)
    if not value.strip():
        report.error(value.location, "empty path")
        return None
    if any(ord(char) < 32 or char == "\x7f" for char in value):
        report.error(value.location, f"path '{shown}' contains a control character")
        return None
    if Path(value).is_absolute():
        report.error(value.location, f"'{shown}' is an absolute path; paths are relative to {relative_to}")
        return None
    try:
        resolved = (base / value).resolve()  # follows symlinks, so a link out is caught too
        if not resolved.is_relative_to(root):
            report.error(value.location, f"'{shown}' points outside {outside}")
            return None
        if not resolved.exists():
            report.error(value.location, f"{expect or 'file'} '{shown}' not found")
            return None
    except RuntimeError:  # Python 3.11's resolve() on a symlink loop
        report.error(value.location, f"'{shown}' is a symbolic link that loops")
        return None
    except OSError as error:  # a name too long for the file system, a loop, no permission
        report.error(value.location, f"cannot open '{shown}': {error.strerror or error}")
        return None
    if expect == "file" and not resolved.is_file():
        kind = "a folder" if resolved.is_dir() else "not a regular file (a device, a pipe or a socket)"
        report.error(value.location, f"'{shown}' is {kind}; a file is expected")
        return None
    if expect == "folder" and not resolved.is_dir():
        report.error(value.location, f"'{shown}' is a file; a folder is expected")
        return None
    return resolved


def _shown(value: str, limit: int = 120) -> str:
    """A value as quoted in a message: long values are cut, so one message stays one line."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def read_text(files: ContentFiles, path: Path, where: SourceLocation, report: Diagnostics) -> str | None:
    """Read a UTF-8 text file of bounded size, reporting problems at ``where``."""
    if path in files.texts:
        return files.texts[path]
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            report.error(where, f"'{path.name}' is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
            return None
        data = path.read_bytes()
    except OSError as error:
        report.error(where, f"cannot read '{path.name}': {error.strerror}")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        report.error(SourceLocation(path, line, column), "not valid UTF-8 text (save the file as UTF-8)")
        return None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    if not _report_unprintable(text, SourceLocation(path, 1, 1), report):
        return None
    files.texts[path] = text
    return text


UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""Control characters (ESC, BEL, NEL, NUL…) and lone surrogates: no font draws them and no reader wants them."""

MAX_UNPRINTABLE_SHOWN = 5


def _report_unprintable(text: str, start: SourceLocation, report: Diagnostics) -> bool:
    """Report each control character or lone surrogate at its line and column; True when there is none."""
    found = list(UNPRINTABLE.finditer(text))
    for match in found[:MAX_UNPRINTABLE_SHOWN]:
        before = text[: match.start()]
        line = before.count("\n")
        column = match.start() - (before.rfind("\n") + 1) + (1 if line else start.column or 1)
        name = f"U+{ord(match[0]):04X}"
        kind = "a lone surrogate" if 0xD800 <= ord(match[0]) <= 0xDFFF else "a control character"
        report.error(start.shifted(line, column), f"{name} is {kind}, not text; remove it")
    if len(found) > MAX_UNPRINTABLE_SHOWN:
        report.error(start, f"{len(found) - MAX_UNPRINTABLE_SHOWN} more control characters in this file")
    return not found


def read_yaml(files: ContentFiles, path: Path, where: SourceLocation, report: Diagnostics) -> Any:
    """Parse YAML safely: strings only, no aliases, no duplicate keys; None on error."""
    text = read_text(files, path, where, report)
    if text is None:
        return None
    try:
        node = _compose(text)
    except _AliasRefusedError as refused:
        report.error(_mark_location(path, refused.mark), "YAML anchors and aliases are not allowed in briefing content")
        return None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or "invalid YAML"
        report.error(_mark_location(path, mark), f"invalid YAML: {problem}")
        return None
    tree = None if node is None else _convert(node, path, report)
    if tree is None:  # no document at all, or only '~' or 'null'
        report.error(SourceLocation(path, 1, 1), "the file is empty")
    return tree


def _compose(text: str) -> Node | None:
    """The node tree: from libyaml (a tenth of the time) when it reads the text without error and
    meets no anchor or alias; else from the strict Python composer, whose messages and refusals
    are then the ones reported, word for word."""
    fast = getattr(yaml, "CSafeLoader", None)  # PyYAML built without libyaml has none
    if fast is not None:
        try:
            events = yaml.parse(text, Loader=fast)
            if not any(isinstance(e, yaml.AliasEvent) or getattr(e, "anchor", None) for e in events):
                node: Node | None = yaml.compose(text, Loader=fast)  # plain scalars: style "" where Python says None
                return node
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=_StrictLoader)


class _AliasRefusedError(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        self.mark = mark


class _StrictLoader(yaml.SafeLoader):
    """Compose nodes only; anchors and aliases are refused (no alias bombs, no surprises)."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _AliasRefusedError(event.start_mark)
        return super().compose_node(parent, index)


def _mark_location(path: Path, mark: yaml.Mark | None) -> SourceLocation:
    if mark is None:
        return SourceLocation(path)
    return SourceLocation(path, mark.line + 1, mark.column + 1)


def _location_of(value: Any, path: Path) -> SourceLocation:
    return getattr(value, "location", SourceLocation(path))


def _convert(node: Node, path: Path, report: Diagnostics) -> Any:
    """Turn a node tree into Located* values; scalars stay strings, typed by the schema."""
    location = _mark_location(path, node.start_mark)
    if isinstance(node, ScalarNode):
        if node.tag == "tag:yaml.org,2002:null" and not node.style and node.value in ("", "~", "null"):
            return None
        inside = location.shifted(0, (location.column or 1) + 1) if node.style in ('"', "'") else location
        if not _report_unprintable(node.value, inside, report):  # "\e", "\0", "\ud800" escapes
            return LocatedStr(UNPRINTABLE.sub("", node.value), location)
        return LocatedStr(node.value, location)
    if isinstance(node, SequenceNode):
        items = LocatedList(_convert(child, path, report) for child in node.value)
        items.location = location
        return items
    assert isinstance(node, MappingNode)
    mapping = LocatedDict()
    mapping.location = location
    for key_node, value_node in node.value:
        key = _convert(key_node, path, report)
        if not isinstance(key, LocatedStr):
            report.error(_mark_location(path, key_node.start_mark), "a key must be a plain word")
            continue
        if key in mapping:
            first = key_location(next(k for k in mapping if k == key), mapping)
            report.error(key.location, f"duplicate key '{key}' (first given at line {first.line})")
            continue
        mapping[key] = _convert(value_node, path, report)
    return mapping
