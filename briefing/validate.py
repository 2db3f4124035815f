"""Raw located records -> a typed ``model.Briefing``, every problem collected with its location."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from .bibliography import read_references
from .config import DEFAULT_TEMPLATES_DIR
from .csl_style import load_style
from .errors import Diagnostics, SourceLocation, did_you_mean, expected_one_of
from .i18n import resolve_language, supported_languages
from .load import (
    ContentFiles,
    LocatedDict,
    LocatedList,
    LocatedStr,
    check_known_keys,
    iso_date,
    key_location,
    kind_of,
    read_text,
    read_yaml,
    resolve_inside,
    text_value,
)
from .model import (
    Author,
    Briefing,
    Category,
    CitationKey,
    MarkdownSource,
    Metadata,
    Paper,
    PartialDate,
    Section,
    Timeline,
    TimelineEvent,
)
from .parts import read_lists, read_revisions
from .press import read_print_settings
from .theme import read_theme

BRIEFING_KEYS = (
    "title", "short-title", "subtitle", "date", "version", "authors", "organization", "classification",
    "language", "paper", "citation-style", "summary", "sections", "timeline", "references",
    "keywords", "nocite", "bottom-line", "print", "theme", "appendices", "lists", "lof", "lot", "revisions",
)
REQUIRED_BRIEFING_KEYS = ("title", "date", "sections")
PANDOC_KEYS = {
    "bibliography": "references", "csl": "citation-style", "lang": "language", "papersize": "paper",
    "abstract": "summary", "author": "authors", "keyword": "keywords", "institute": "organization",
    "shorttitle": "short-title", "title-short": "short-title",
}
"""Metadata keys a Pandoc or Quarto user types, and ours for the same thing."""
MAX_TITLE_CHARS = 200
MAX_SHORT_TITLE_CHARS = 60
"""The running head gives the title about a third of the line at 7.5 pt."""
MAX_SUBTITLE_CHARS = 300
"""Longer titles cannot fit on the cover at its type size; the layout check catches the combinations."""
EVENT_KEYS = ("id", "date", "end", "title", "label", "category", "tags", "summary", "sources")
TIMELINE_KEYS = ("categories", "events")
MAX_APPENDICES = 26
"""Appendices are lettered A to Z."""
MAX_EVENTS = 1000
"""A chronology of more events is a database, not a briefing; the bound keeps layout time in seconds."""

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_:.\-]*$")
LANGUAGE_PATTERN = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
PARTIAL_DATE_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
DATE_HINT = "use YYYY, YYYY-MM or YYYY-MM-DD"


def validate_briefing(files: ContentFiles, report: Diagnostics) -> Briefing | None:
    """Check ``briefing.yaml`` and every file it names; None when nothing usable was found."""
    config = files.config
    if config is None:
        return None
    _check_keys(config, BRIEFING_KEYS, REQUIRED_BRIEFING_KEYS, "briefing.yaml", report)
    metadata = _metadata(config, report)
    style = load_style(files, config.get("citation-style"), report)
    summary = _markdown_field(config, "summary", report)
    bottom_line = _markdown_field(config, "bottom-line", report, inline=True)
    print_settings = read_print_settings(files, config.get("print"), report)
    sections = _sections(files, config.get(LocatedStr("sections", config.location)), report)
    appendices = _sections(files, config.get("appendices"), report, "appendices")
    _check_listed_once([*sections, *appendices], report)
    timeline = _timeline(files, config.get("timeline"), report)
    references, reference_files = read_references(files, config.get("references"), report)
    theme = read_theme(files, config.get("theme"), DEFAULT_TEMPLATES_DIR, report)
    if metadata is None:
        return None
    return Briefing(
        slug=files.folder.name,
        folder=files.folder,
        metadata=metadata,
        summary=summary,
        sections=tuple(sections),
        timeline=timeline,
        references=tuple(references),
        reference_files=reference_files,
        style=style,
        input_files=tuple(sorted(files.texts)),
        print_settings=print_settings,
        bottom_line=bottom_line,
        defaults_file=files.defaults,
        appendices=tuple(appendices),
        lists=read_lists(config, report),
        revisions=read_revisions(config.get("revisions"), report),
        theme=theme,
    )


# -- briefing.yaml ---------------------------------------------------------------------------


def _check_keys(
    mapping: LocatedDict, known: tuple[str, ...], required: tuple[str, ...], what: str, report: Diagnostics
) -> None:
    aliases = PANDOC_KEYS if "briefing.yaml" in what else None
    check_known_keys(mapping, known, what, report, aliases=aliases, alias_hint="Pandoc and Quarto's '{key}' is '{alias}' here")
    for key in required:
        if key not in mapping:
            report.error(mapping.location, f"{what}: missing required key '{key}'")
        elif mapping[key] is None:  # 'title:' with nothing after it: YAML null, which has no location
            written = next(k for k in mapping if k == key)
            report.error(key_location(written, mapping), f"{what}: '{key}' has no value")


def _metadata(config: LocatedDict, report: Diagnostics) -> Metadata | None:
    title = text_value(config, "title", report)
    date = iso_date(config.get("date"), report)
    paper = _choice(config, "paper", [p.value for p in Paper], report)
    language = text_value(config, "language", report) or "en"
    if "language" in config and not LANGUAGE_PATTERN.match(language):
        report.error(config["language"].location, f"language '{language}' is not a BCP 47 tag such as 'en' or 'en-GB'")
    elif "language" in config and resolve_language(language, DEFAULT_TEMPLATES_DIR) is None:
        supported = ", ".join(supported_languages(DEFAULT_TEMPLATES_DIR))
        report.error(
            config["language"].location,
            f"language '{language}' is not supported (supported: {supported}); a translator adds one as "
            "templates/i18n/TAG.yaml, and left-to-right scripts only",
        )
    subtitle = text_value(config, "subtitle", report)
    short_title = text_value(config, "short-title", report)
    if short_title is not None and len(short_title) > MAX_SHORT_TITLE_CHARS:
        report.error(config["short-title"].location, f"the short title has {len(short_title)} characters; the running "
                                                     f"head holds about {MAX_SHORT_TITLE_CHARS}")
    for key, text, limit in (("title", title, MAX_TITLE_CHARS), ("subtitle", subtitle, MAX_SUBTITLE_CHARS)):
        if text is not None and len(text) > limit:
            report.error(
                config[key].location,
                f"the {key} has {len(text)} characters; at most {limit} fit on the cover (move the rest to the subtitle "
                "or the summary)" if key == "title" else
                f"the {key} has {len(text)} characters; at most {limit} fit on the cover (move the rest to the summary)",
            )
    if title is None or date is None:
        return None
    return Metadata(
        title=title,
        title_location=config["title"].location,
        date=date,
        subtitle=subtitle or None,
        short_title=short_title,
        version=text_value(config, "version", report),
        authors=_authors(config.get("authors"), report),
        organization=text_value(config, "organization", report),
        classification=text_value(config, "classification", report),
        language=language,
        paper=Paper(paper) if paper else Paper.A4,
        citation_style=text_value(config, "citation-style", report) or "chicago-author-date",
        keywords=tuple(_string_list(config.get("keywords"), "keywords", report)),
        nocite=tuple(CitationKey(v.lstrip("@"), v.location) for v in _string_list(config.get("nocite"), "nocite", report)),
    )


def _choice(mapping: LocatedDict, key: str, allowed: list[str], report: Diagnostics) -> str | None:
    value = text_value(mapping, key, report)
    if value is not None and value.lower() not in allowed:
        report.error(
            mapping[key].location,
            f"'{key}' must be one of {expected_one_of(allowed)}, found '{value}'{did_you_mean(value.lower(), allowed)}",
        )
        return None
    return value.lower() if value else None


def _location(value: Any, container: LocatedDict | LocatedList) -> SourceLocation:
    """Where a value is; a YAML null (``-`` alone, ``~``) has no location, so its container's is used."""
    location: SourceLocation = getattr(value, "location", container.location)
    return location


def _authors(value: Any, report: Diagnostics) -> tuple[Author, ...]:
    if value is None:
        return ()
    if isinstance(value, LocatedStr):
        return (Author(str(value)),)
    if not isinstance(value, LocatedList):
        report.error(value.location, "'authors' must be a list of names or of {name, affiliation}")
        return ()
    authors = []
    for item in value:
        if isinstance(item, LocatedStr):
            authors.append(Author(str(item)))
        elif isinstance(item, LocatedDict):
            _check_keys(item, ("name", "affiliation"), ("name",), "author", report)
            name = text_value(item, "name", report)
            if name:
                authors.append(Author(name, text_value(item, "affiliation", report)))
        else:
            report.error(_location(item, value), "an author is a name or {name, affiliation}")
    return tuple(authors)


def _string_list(value: Any, what: str, report: Diagnostics) -> list[LocatedStr]:
    """A list of strings; a single string is accepted as a list of one."""
    if value is None:
        return []
    if isinstance(value, LocatedStr):
        return [value]
    if not isinstance(value, LocatedList) or not all(isinstance(v, LocatedStr) for v in value):
        report.error(value.location, f"'{what}' must be a list of text values")
        return []
    return list(value)


def _markdown_field(mapping: LocatedDict, key: str, report: Diagnostics, inline: bool = False) -> MarkdownSource | None:
    value = mapping.get(key)
    if value is None:
        return None
    if not isinstance(value, LocatedStr):
        report.error(value.location, f"'{key}' must be Markdown text, found a {kind_of(value)}")
        return None
    location = value.location
    if location.line is not None and value.location.column is not None:
        # A block scalar (| or >) starts on the line after its indicator.
        text_starts_below = "\n" in value.rstrip("\n") or value.endswith("\n")
        if text_starts_below:
            location = SourceLocation(location.path, location.line + 1, 1)
    return MarkdownSource(str(value), location, inline=inline)


def _sections(files: ContentFiles, value: Any, report: Diagnostics, key: str = "sections") -> list[Section]:
    """The Markdown files of ``sections:`` (or ``appendices:``), in reading order."""
    sections = []
    what = "section" if key == "sections" else "appendix"
    for item in _string_list(value, key, report):
        path = resolve_inside(files, item, report)
        if path is None:
            continue
        if path.suffix.lower() not in (".md", ".markdown"):
            report.error(item.location, f"{what} '{item}' is not a Markdown file (.md)")
            continue
        text = read_text(files, path, item.location, report)
        if text is not None:
            sections.append(Section(path, MarkdownSource(text, SourceLocation(path, 1, 1)), item.location))
    if key == "sections" and value is not None and not sections and not report.errors:
        report.error(value.location, "'sections' lists no Markdown file")
    if len(sections) > MAX_APPENDICES and key == "appendices":
        report.error(value.location, f"{len(sections)} appendices; they are lettered A to Z, so at most {MAX_APPENDICES}")
        return sections[:MAX_APPENDICES]
    return sections


def _check_listed_once(sections: list[Section], report: Diagnostics) -> None:
    """A file is a section or an appendix, once: twice would print it twice, with its ids duplicated."""
    seen: dict[Path, Section] = {}
    for section in sections:
        first = seen.setdefault(section.path, section)
        if first is not section and section.listed_at is not None:
            where = f" (first at line {first.listed_at.line})" if first.listed_at and first.listed_at.line else ""
            report.error(section.listed_at, f"'{section.path.name}' is listed twice{where}")


# -- timeline.yaml ---------------------------------------------------------------------------


def _timeline(files: ContentFiles, value: Any, report: Diagnostics) -> Timeline:
    if value is None:
        return Timeline()
    if not isinstance(value, LocatedStr):
        report.error(value.location, "'timeline' must be the path of a YAML file")
        return Timeline()
    path = resolve_inside(files, value, report)
    if path is None:
        return Timeline()
    tree = read_yaml(files, path, value.location, report)
    if tree is None:
        return Timeline(path)
    if not isinstance(tree, LocatedDict):
        report.error(tree.location, "a timeline is a mapping with 'events:' (and optional 'categories:')")
        return Timeline(path)
    _check_keys(tree, TIMELINE_KEYS, ("events",), path.name, report)
    categories = _categories(tree.get("categories"), report)
    events = _events(tree.get("events"), categories, report)
    return Timeline(path, tuple(categories), tuple(events))


def _categories(value: Any, report: Diagnostics) -> list[Category]:
    if value is None:
        return []
    if not isinstance(value, LocatedDict):
        report.error(value.location, "'categories' must map a key to a label, e.g. 'conflict: Military and security'")
        return []
    categories = []
    for key, label in value.items():
        if not isinstance(label, LocatedStr):
            report.error(key_location(key, value), f"category '{key}': the label must be text")
            continue
        categories.append(Category(str(key), str(label)))
    return categories


def _events(value: Any, categories: list[Category], report: Diagnostics) -> list[TimelineEvent]:
    if value is None:
        return []
    if not isinstance(value, LocatedList):
        report.error(value.location, "'events' must be a list of events, each starting with '- '")
        return []
    if len(value) > MAX_EVENTS:
        report.error(
            value.location,
            f"the timeline has {len(value):,} events; the limit is {MAX_EVENTS:,} (keep the events the briefing needs)",
        )
        return []
    events: list[TimelineEvent] = []
    seen_ids: dict[str, SourceLocation] = {}
    category_keys = [c.key for c in categories]
    for item in value:
        if not isinstance(item, LocatedDict):
            report.error(_location(item, value), "an event is a mapping with at least 'date' and 'title'")
            continue
        event = _event(item, category_keys, report)
        if event is None:
            continue
        if event.id:
            if event.id in seen_ids:
                report.error(
                    item["id"].location, f"duplicate event id '{event.id}' (first used at line {seen_ids[event.id].line})"
                )
            seen_ids.setdefault(event.id, item["id"].location)
        events.append(event)
    return events


def _event(item: LocatedDict, category_keys: list[str], report: Diagnostics) -> TimelineEvent | None:
    errors_before = len(report.errors)
    given = next((v for v in (item.get("id"), item.get("title")) if isinstance(v, LocatedStr) and v), None)
    name = str(given) if given else f"at line {item.location.line}"
    _check_keys(item, EVENT_KEYS, ("date", "title"), f"event '{name}'", report)
    event_id = text_value(item, "id", report)
    if event_id and not ID_PATTERN.match(event_id):
        report.error(item["id"].location, f"event id '{event_id}' must be letters, digits and hyphens")
    date = _partial_date(item.get("date"), f"event '{name}'", report)
    end = _partial_date(item.get("end"), f"event '{name}'", report)
    if date and end and end.last_day() < date.first_day():
        report.error(item["end"].location, f"event '{name}': ends ({end.iso()}) before it starts ({date.iso()})")
    category = text_value(item, "category", report)
    if category and category_keys and category not in category_keys:
        report.error(
            item["category"].location,
            f"event '{name}': unknown category '{category}'{did_you_mean(category, category_keys)}"
            f" (known: {', '.join(category_keys)})",
        )
    title = text_value(item, "title", report)
    sources = tuple(CitationKey(str(s), s.location) for s in _string_list(item.get("sources"), "sources", report))
    if title is None or date is None or len(report.errors) > errors_before:
        return None
    return TimelineEvent(
        title=title,
        date=date,
        location=item.location,
        id=event_id,
        end=end,
        label=text_value(item, "label", report),
        category=category,
        tags=tuple(str(t) for t in _string_list(item.get("tags"), "tags", report)),
        summary=_markdown_field(item, "summary", report, inline=True),
        sources=sources,
    )


def parse_partial_date(text: str) -> PartialDate | None:
    """'1979', '1979-11' or '1979-11-04' -> PartialDate; None when not a real date."""
    match = PARTIAL_DATE_PATTERN.match(text.strip())
    if not match:
        return None
    year, month, day = (int(g) if g else None for g in match.groups())
    assert year is not None
    try:
        dt.date(year, month or 1, day or 1)
    except ValueError:
        return None
    return PartialDate(year, month, day)


def _partial_date(value: Any, owner: str, report: Diagnostics) -> PartialDate | None:
    if value is None:
        return None
    if not isinstance(value, LocatedStr):
        report.error(value.location, f"{owner}: a date must be text ({DATE_HINT})")
        return None
    date = parse_partial_date(value)
    if date is None:
        report.error(value.location, f"{owner}: '{value}' is not a date ({DATE_HINT})")
    return date


