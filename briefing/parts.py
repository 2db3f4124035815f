"""The document parts of ``briefing.yaml`` beyond the sections -> typed lists and a revision history.

``lists:`` (or Quarto's ``lof``/``lot``) asks for a list of figures or of tables after the
contents; ``revisions:`` is the document's history. Each bad value is a located error, and
every one of them is reported in the same run.
"""

from __future__ import annotations

from typing import Any

from .errors import Diagnostics, did_you_mean, expected_one_of
from .load import LocatedDict, LocatedList, LocatedStr, check_known_keys, iso_date, key_location, kind_of, text_value
from .model import DocumentLists, Revision

LIST_KINDS = ("figures", "tables")
"""``lists: [figures, tables]``: the lists the front matter may hold, in the order they are set."""
QUARTO_LIST_KEYS = {"lof": "figures", "lot": "tables"}
"""Quarto's (and LaTeX's) switches for the same lists: ``lof: true``, ``lot: true``."""
REVISION_KEYS = ("date", "version", "note")
BOOLEANS = {"true": True, "yes": True, "false": False, "no": False}


def read_lists(config: LocatedDict, report: Diagnostics) -> DocumentLists:
    """``lists: [figures, tables]`` and ``lof: true`` / ``lot: true``, in any combination."""
    wanted: set[str] = set()
    asked = [key_location(key, config) for key in config if key in ("lists", *QUARTO_LIST_KEYS)]
    value = config.get("lists")
    if value is not None:
        items: list[Any] = [value] if isinstance(value, LocatedStr) else value if isinstance(value, LocatedList) else []
        if not isinstance(value, (LocatedStr, LocatedList)):
            report.error(value.location, f"'lists' must be a list such as [figures, tables], found a {kind_of(value)}")
        for item in items:
            if not isinstance(item, LocatedStr):
                report.error(getattr(item, "location", value.location), "'lists' names lists: figures, tables")
                continue
            name = str(item).strip().lower()
            if name not in LIST_KINDS:
                report.error(item.location, f"'lists' can hold {expected_one_of(list(LIST_KINDS))}, found "
                                            f"'{item}'{did_you_mean(name, list(LIST_KINDS))}")
                continue
            wanted.add(name)
    for key, kind in QUARTO_LIST_KEYS.items():
        switch = config.get(key)
        if switch is None:
            continue
        if not isinstance(switch, LocatedStr) or switch.strip().lower() not in BOOLEANS:
            shown = f"'{switch}'" if isinstance(switch, LocatedStr) else f"a {kind_of(switch)}"
            report.error(switch.location, f"'{key}' must be true or false, found {shown}")
        elif BOOLEANS[switch.strip().lower()]:
            wanted.add(kind)
    return DocumentLists(figures="figures" in wanted, tables="tables" in wanted, location=asked[0] if asked else None)


def read_revisions(value: Any, report: Diagnostics) -> tuple[Revision, ...]:
    """``revisions:``, a list of ``{date, version, note}``, kept in the order written."""
    if value is None:
        return ()
    if not isinstance(value, LocatedList):
        report.error(value.location, "'revisions' must be a list of {date, version, note}, one '- ' a revision")
        return ()
    revisions = []
    for item in value:
        if not isinstance(item, LocatedDict):
            report.error(getattr(item, "location", value.location), "a revision is a mapping {date, version, note}")
            continue
        revision = _revision(item, report)
        if revision is not None:
            revisions.append(revision)
    return tuple(revisions)


def _revision(item: LocatedDict, report: Diagnostics) -> Revision | None:
    errors_before = len(report.errors)
    check_known_keys(item, REVISION_KEYS, "a revision", report, listing=" (a revision has date, version and note)")
    for key in ("date", "note"):
        if key not in item or item[key] is None:
            report.error(item.location, f"revision: missing required key '{key}'")
    date = iso_date(item.get("date"), report, context="revision: ")
    note = _revision_text(item, "note", report)
    version = _revision_text(item, "version", report)
    if date is None or note is None or len(report.errors) > errors_before:
        return None
    return Revision(date, note, version)


def _revision_text(item: LocatedDict, key: str, report: Diagnostics) -> str | None:
    """One line of text: a revision note is set in a table cell."""
    value = text_value(item, key, report, context="revision: ")
    return " ".join(value.split()) if value is not None else None
