"""Rendered fragments of the briefing -> what the web edition adds: numbered notes, citation places, contents tree.

The PDF puts a note at the foot of its page and a back-link's page number beside a reference; a
web page has neither feet nor pages. Here notes are numbered in reading order and collected for a
list at the end (and copied as sidenotes for wide screens), and each citation gets the name of the
part it stands in, so that a bibliography entry can link back to every citation of it by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from .model_text import Block, Citation, Heading, ParsedDocument, walk

KEY_JUDGMENTS = "key-judgments"
CHRONOLOGY = "chronology"
"""Places named by their key in ``templates/i18n/``: the template words them in the briefing's language."""
_HEADING_TAG = re.compile(r"<(/?)h([1-6])\b")
_TABLE_OPEN = re.compile(r"<table\b")
_LINK_TAG = re.compile(r"</?a\b[^>]*>")
_ID_ATTRIBUTE = re.compile(r'\sid="[^"]*"')


@dataclass(frozen=True)
class Note:
    number: int
    body: Markup


@dataclass
class WebNotes:
    """Every note of the page in reading order: footnotes, and the citations of a note style."""

    notes: list[Note] = field(default_factory=list)

    def add(self, body: Markup) -> Note:
        note = Note(len(self.notes) + 1, body)
        self.notes.append(note)
        return note

    def partial_context(self, name: str, context: dict[str, Any]) -> dict[str, Any]:
        """Number the note a ``footnote`` or note-style ``citation`` partial is about to draw."""
        body: Markup | None = None
        if name == "footnote":
            body = Markup(context["body"])
        elif name == "citation" and getattr(context["citation"], "note", None) is not None:
            body = Markup(context["citation"].note)
        if body is None:
            return context
        note = self.add(body)
        return {**context, "number": note.number, "sidenote": sidenote_copy(body)}


def sidenote_copy(html: Markup) -> Markup:
    """The note again, for the margin: without links or ids, so each stays once on the page.

    The copy is hidden from assistive technology (the numbered list is the note); a link in it
    would be a focusable element inside hidden content. Our renderer escaped all content text,
    so every ``<a`` here is a tag.
    """
    return Markup(_ID_ATTRIBUTE.sub("", _LINK_TAG.sub("", str(html))))


def demote_headings(html: Markup) -> Markup:
    """A section's ``#`` is the page's second level: the briefing title is its one ``h1``.

    A heading is never more than one level below the one before it (``#`` then ``###`` gives
    ``h2`` then ``h3``), so that the outline a screen reader lists has no gaps.
    """
    previous, current = 1, 1

    def level(match: re.Match[str]) -> str:
        nonlocal previous, current
        if match[1]:  # a closing tag closes the heading just opened
            return f"</h{current}"
        current = min(int(match[2]) + 1, previous + 1, 6)
        previous = current
        return f"<h{current}"

    return Markup(_HEADING_TAG.sub(level, str(html)))


def scrolling_tables(html: Markup) -> Markup:
    """Each table in a box of its own that scrolls sideways on a narrow screen (focusable, so keys scroll it)."""
    text = _TABLE_OPEN.sub('<div class="table-scroll" tabindex="0"><table', str(html))
    return Markup(text.replace("</table>", "</table></div>"))


def web_fragment(html: Markup) -> Markup:
    return scrolling_tables(demote_headings(html))


@dataclass(frozen=True)
class TocEntry:
    heading: Heading
    children: tuple[Heading, ...] = ()


def contents_tree(headings: list[Heading]) -> list[TocEntry]:
    """Sections with their subsections, for a nested list (``###`` headings stay out, as in the PDF)."""
    entries: list[TocEntry] = []
    for heading in headings:
        if heading.level == 1 or not entries:
            entries.append(TocEntry(heading))
        elif heading.level == 2:
            last = entries[-1]
            entries[-1] = TocEntry(last.heading, (*last.children, heading))
    return entries


def citation_places(document: ParsedDocument) -> dict[int, str]:
    """Each citation's index -> where it stands: "key-judgments", "§ 2.1", a heading's text, "chronology"."""
    places: dict[int, str] = {}
    for front in (document.bottom_line, document.summary):
        if front is not None:
            _walk(front.blocks, KEY_JUDGMENTS, places, numbered=False)
    for fragment in [*document.sections, *document.appendices]:
        _walk(fragment.blocks, "", places, numbered=True)
    for cluster in document.event_citations:
        if cluster is not None:
            places[cluster.index] = CHRONOLOGY
    for summary in document.event_summaries:
        if summary is not None:
            _walk(summary.blocks, CHRONOLOGY, places, numbered=False)
    return places


@dataclass(frozen=True)
class Backlinks:
    """Citations of one work standing in one part of the page, in reading order."""

    place: str
    citations: tuple[int, ...]


def backlinks(cited_in: tuple[int, ...], places: dict[int, str]) -> list[Backlinks]:
    """Group a work's citations by the part they stand in: "§ 1.1, Chronology (1, 2, 3)" once worded."""
    groups: list[Backlinks] = []
    for index in cited_in:
        place = places.get(index, f"[{index + 1}]")  # every citation has a place; a number if one ever had not
        if groups and groups[-1].place == place:
            groups[-1] = Backlinks(place, (*groups[-1].citations, index))
        else:
            groups.append(Backlinks(place, (index,)))
    return groups


def _walk(blocks: tuple[Block, ...], place: str, places: dict[int, str], numbered: bool) -> None:
    for node in walk(blocks):
        if numbered and isinstance(node, Heading) and node.level <= 2:
            place = f"§\u00a0{node.number}" if node.number else str(node.text).strip()
        elif isinstance(node, Citation):
            places.setdefault(node.cluster.index, place)
