"""Laid-out Document -> the checks a reader would make, before anything is written.

Contents entries land on the pages they name, links have targets, bookmarks match headings,
every glyph is in the embedded fonts, nothing runs off the page, and every image is described;
the body text's lines are checked in ``line_checks``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Variant
from .editions import edition
from .errors import Diagnostics, SourceLocation
from .fonts import first_occurrence, missing_glyph_message, uncovered
from .line_checks import check_lines
from .model import DrawnFigure, ThemeFont
from .model_text import Citations, ParsedDocument
from .page_boxes import classes_of, flow_boxes, tag_of, text_of
from .page_fill import check_page_fill
from .render_pdf import RenderedDocument

HANDOUT_MAX_PAGES = 2
HANDOUT_PARTS = {
    "handout-key-judgments": "the key judgments",
    "handout-figure": "the timeline figure",
    "handout-sources": "the list of sources",
}
OVERFLOW_TOLERANCE_PX = 0.5
PX_PER_MM = 96 / 25.4


@dataclass(frozen=True)
class VerifyContext:
    """What the checks compare the layout with."""

    document: ParsedDocument
    figures: dict[str, tuple[DrawnFigure, ...]]
    font_dir: Path
    texts: dict[Path, str]
    """The content's text files, to locate a character the fonts lack."""
    image_locations: dict[str, SourceLocation]
    title_location: SourceLocation | None = None
    fallback_fonts: tuple[ThemeFont, ...] = ()
    """A theme's fallback fonts: what they draw is no missing glyph."""


def verify_document(rendered: RenderedDocument, context: VerifyContext, report: Diagnostics, variant: Variant) -> None:
    """Check the layout; failures are errors located in the content where possible, else the template."""
    where = SourceLocation(rendered.html_path)
    pages = rendered.document.pages
    anchor_pages: dict[str, int] = {}
    for index, page in enumerate(pages):
        for name in page.anchors:
            anchor_pages.setdefault(name, index + 1)  # an element split over pages starts on the first
    _check_links(pages, anchor_pages, where, report)
    _check_boxes(pages, context, where, report)
    name = edition(variant).name
    check_lines(pages, context.texts, where, report, name)
    if edition(variant).excerpt:
        _check_handout_fits(rendered, report)
        return
    _check_cover(pages, context.title_location or where, report)
    check_page_fill(pages, context.texts, where, report, name)
    _check_contents_pages(pages, anchor_pages, where, report)
    _check_headings(rendered, context.document, anchor_pages, where, report)
    for spec in context.document.timeline_figures:
        if any(not part.alt_text.strip() for part in context.figures.get(spec.id, ())):
            report.error(spec.location, f"figure '{spec.id}' has no alternative text")


def backlink_pages(pages: list[Any], citations: Citations) -> dict[str, tuple[tuple[int, int], ...]]:
    """Per work, the citations that first cite it on a page, with that page: "cited on pp. 4, 6".

    Read from the body's laid-out pages; the References, laid out after them, print these
    numbers, so each page is named once.
    """
    page_of: dict[str, int] = {}
    for number, page in enumerate(pages, start=1):
        for name in page.anchors:
            page_of.setdefault(name, number)
    cited: dict[str, tuple[tuple[int, int], ...]] = {}
    for entry in citations.bibliography:
        seen: set[int] = set()
        kept: list[tuple[int, int]] = []
        for cluster in entry.cited_in:
            page = page_of.get(f"cite-{cluster}")
            if page is not None and page not in seen:
                seen.add(page)
                kept.append((cluster, page))
        cited[entry.key] = tuple(kept)
    return cited


def _check_links(pages: list[Any], anchor_pages: dict[str, int], where: SourceLocation, report: Diagnostics) -> None:
    for number, page in enumerate(pages, start=1):
        for link_type, target, _rect, _box in page.links:
            if link_type == "internal" and target not in anchor_pages:
                report.error(where, f"page {number}: internal link to '#{target}' has no target")


def _check_contents_pages(
    pages: list[Any], anchor_pages: dict[str, int], where: SourceLocation, report: Diagnostics
) -> None:
    """The number printed after each contents entry is the page its heading landed on."""
    for number, page in enumerate(pages, start=1):
        for nav in (b for b in page._page_box.descendants() if tag_of(b) == "nav"):
            entries: dict[str, str] = {}  # an entry that wraps is one link box per line: read them together
            for link in (b for b in nav.descendants() if tag_of(b) == "a" and b.element.get("href", "").startswith("#")):
                target = link.element.get("href")[1:]
                entries[target] = entries.get(target, "") + text_of(link)
            for target, text in entries.items():
                printed = re.findall(r"\d+", text)
                actual = anchor_pages.get(target)
                if actual is not None and (not printed or int(printed[-1]) != actual):
                    shown = printed[-1] if printed else "no number"
                    report.error(
                        where,
                        f"page {number}: the contents entry for '#{target}' shows page {shown}, "
                        f"but it is on page {actual}",
                    )


def _check_cover(pages: list[Any], title_location: SourceLocation, report: Diagnostics) -> None:
    """The title block is on the first page and ends above the facts (date, version, authors)."""
    if not pages:
        return
    found = {name: box for box in pages[0]._page_box.descendants() for name in classes_of(box) if name in COVER_PARTS}
    block, facts = found.get("cover-title-block"), found.get("cover-facts")
    if block is None or facts is None:
        part = "title" if block is None else "date and authors"
        report.error(title_location, f"the {part} no longer fit on the cover; shorten the title and subtitle")
    elif block.position_y + block.margin_height() > facts.position_y + OVERFLOW_TOLERANCE_PX:
        overlap = (block.position_y + block.margin_height() - facts.position_y) / PX_PER_MM
        report.error(
            title_location,
            f"the title and subtitle run {overlap:.0f} mm into the date and authors on the cover; shorten them",
        )


COVER_PARTS = ("cover-title-block", "cover-facts")


def _check_headings(
    rendered: RenderedDocument,
    document: ParsedDocument,
    anchor_pages: dict[str, int],
    where: SourceLocation,
    report: Diagnostics,
) -> None:
    bookmarked = _bookmark_labels(rendered)
    for heading in document.headings:
        if heading.id not in anchor_pages:
            report.error(where, f"heading '{heading.id}' is not in the laid-out document")
        elif heading.level <= 2 and not any(heading.text in label for label in bookmarked):
            report.error(where, f"heading '{heading.text}' has no PDF bookmark")


def _check_boxes(pages: list[Any], context: VerifyContext, where: SourceLocation, report: Diagnostics) -> None:
    """Glyphs covered by the embedded fonts, text and images inside the page, images described."""
    from weasyprint.formatting_structure import boxes

    missing: dict[str, int] = {}
    for number, page in enumerate(pages, start=1):
        page_box = page._page_box  # WeasyPrint keeps the laid-out boxes here
        left = page_box.content_box_x()
        right = left + page_box.width
        inside_wide_tables = _check_tables(page_box, number, left, right, context, where, report)
        for box in flow_boxes(page_box):
            if id(box) in inside_wide_tables:
                continue
            if isinstance(box, boxes.TextBox):
                for char in uncovered(box.text, context.font_dir, tuple(f.path for f in context.fallback_fonts)):
                    missing.setdefault(char, number)
            elif isinstance(box, boxes.ReplacedBox):
                _check_alt(box, number, context, where, report)
            else:
                continue
            overflow = max(left - box.position_x, box.position_x + box.margin_width() - right)
            if overflow > OVERFLOW_TOLERANCE_PX:  # only then is the content searched for the box's source
                what, located = _described(box, context)
                message = f"page {number}: {what} runs {overflow / PX_PER_MM:.1f} mm outside the text area"
                report.error(located or where, message)
    for char, number in missing.items():
        report.error(first_occurrence(char, context.texts) or where, missing_glyph_message(char, number, context.fallback_fonts))


def _described(box: Any, context: VerifyContext) -> tuple[str, SourceLocation | None]:
    """What a reader would call the box, and where the content writes it (the text as printed, or the image)."""
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.TextBox):
        text = box.text.strip()[:40]
        return f"text '{text}'", first_occurrence(text, context.texts) if text else None
    src = box.element.get("src", "")
    return f"image '{src.rsplit('/', 1)[-1][:60]}'", _image_location(src, context)


def _check_tables(
    page_box: Any, number: int, left: float, right: float, context: VerifyContext, where: SourceLocation,
    report: Diagnostics,
) -> set[int]:
    """One error for a table wider than the text area, at its first cell's line (not one per cell);
    returns the boxes inside such tables, which are not reported again."""
    from weasyprint.formatting_structure import boxes

    inside: set[int] = set()
    for box in flow_boxes(page_box):
        if not isinstance(box, boxes.TableBox) or id(box) in inside:
            continue
        overflow = max(left - box.position_x, box.position_x + box.margin_width() - right)
        if overflow <= OVERFLOW_TOLERANCE_PX:
            continue
        inside.update(id(descendant) for descendant in box.descendants())
        cells = [text for cell in box.descendants() if tag_of(cell) in ("th", "td") if (text := text_of(cell).strip())]
        first = cells[0].replace("\u00ad", "")[:40] if cells else ""
        # The Markdown row that starts the table ("| Round |"), before the same words anywhere else.
        located = next((at for written in (f"| {first} |", f"{first} |", first) if first
                        if (at := first_occurrence(written, context.texts))), None)
        report.error(located or where, f"page {number}: a table runs {overflow / PX_PER_MM:.1f} mm wider than the "
                                       f"text area (its first cell: '{first}'): its columns cannot be narrower than "
                                       "their longest words; shorten them, or split the table")
    return inside


def _check_alt(box: Any, number: int, context: VerifyContext, where: SourceLocation, report: Diagnostics) -> None:
    element = box.element
    if element is None or element.tag != "img" or (element.get("alt") or "").strip():
        return
    src = element.get("src", "")
    location = _image_location(src, context) or where
    report.error(location, f"page {number}: image '{src.rsplit('/', 1)[-1]}' has no alternative text (write it in ![...])")


def _image_location(src: str, context: VerifyContext) -> SourceLocation | None:
    return next((loc for url, loc in context.image_locations.items() if src.endswith(url.rsplit("/", 1)[-1])), None)


def _check_handout_fits(rendered: RenderedDocument, report: Diagnostics) -> None:
    """A handout is one sheet, printed on both sides: say what spills over rather than add a page."""
    pages = rendered.document.pages
    if len(pages) <= HANDOUT_MAX_PAGES:
        return
    first_page: dict[str, int] = {}
    for index, page in enumerate(pages):
        for anchor in page.anchors:
            first_page.setdefault(anchor, index)
    parts = [(first_page[a], label) for a, label in HANDOUT_PARTS.items() if a in first_page]
    spilled = [label for index, label in parts if index >= HANDOUT_MAX_PAGES]
    running_over = [label for index, label in parts if index < HANDOUT_MAX_PAGES][-1:]
    what = ", ".join(spilled) if spilled else f"the end of {running_over[0] if running_over else 'the content'}"
    report.error(
        SourceLocation(rendered.html_path),
        f"the handout needs {len(pages)} pages, the limit is {HANDOUT_MAX_PAGES}: {what} "
        f"overflow onto page {HANDOUT_MAX_PAGES + 1}; shorten the summary or choose a timeline figure with fewer events",
    )


def _bookmark_labels(rendered: RenderedDocument) -> list[str]:
    labels: list[str] = []

    def walk(nodes: list[tuple[str, object, object, object]]) -> None:
        for label, _target, children, _state in nodes:
            labels.append(label)
            walk(children)  # type: ignore[arg-type]

    walk(rendered.document.make_bookmark_tree())
    return labels
