"""Laid-out Document -> checks a reader would make: links land, bookmarks match headings, figures described."""

from __future__ import annotations

from .config import Variant
from .errors import Diagnostics, SourceLocation
from .markdown import ParsedDocument
from .model import DrawnFigure
from .render_pdf import RenderedDocument


HANDOUT_MAX_PAGES = 2
HANDOUT_PARTS = {
    "handout-key-judgments": "the key judgments",
    "handout-figure": "the timeline figure",
    "handout-sources": "the list of sources",
}


def verify_document(
    rendered: RenderedDocument,
    document: ParsedDocument,
    figures: dict[str, DrawnFigure],
    report: Diagnostics,
    variant: Variant = Variant.PDF,
) -> None:
    """Check the layout before anything is written; failures are errors located in the template."""
    where = SourceLocation(rendered.html_path)
    pages = rendered.document.pages
    anchors = {name for page in pages for name in page.anchors}
    for number, page in enumerate(pages, start=1):
        for link_type, target, _rect, _box in page.links:
            if link_type == "internal" and target not in anchors:
                report.error(where, f"page {number}: internal link to '#{target}' has no target")
    if variant is Variant.HANDOUT:
        _check_handout_fits(rendered, report)
        return
    missing_headings = [h.id for h in document.headings if h.id not in anchors]
    for heading_id in missing_headings:
        report.error(where, f"heading '{heading_id}' is not in the laid-out document")
    bookmarked = _bookmark_labels(rendered)
    for heading in document.headings:
        if heading.level <= 2 and not any(heading.text in label for label in bookmarked):
            report.error(where, f"heading '{heading.text}' has no PDF bookmark")
    for spec in document.timeline_figures:
        figure = figures.get(spec.id)
        if figure is not None and not figure.alt_text.strip():
            report.error(spec.location, f"figure '{spec.id}' has no alternative text")


def _check_handout_fits(rendered: RenderedDocument, report: Diagnostics) -> None:
    """A handout is one sheet, printed on both sides: say what spills over rather than add a page."""
    pages = rendered.document.pages
    if len(pages) <= HANDOUT_MAX_PAGES:
        return
    first_page = {}
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

