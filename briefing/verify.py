"""Laid-out Document -> checks a reader would make: links land, bookmarks match headings, figures described."""

from __future__ import annotations

from .errors import Diagnostics, SourceLocation
from .markdown import ParsedDocument
from .model import DrawnFigure
from .render_pdf import RenderedDocument


def verify_document(
    rendered: RenderedDocument, document: ParsedDocument, figures: dict[str, DrawnFigure], report: Diagnostics
) -> None:
    """Check the layout before anything is written; failures are errors located in the HTML."""
    where = SourceLocation(rendered.html_path)
    pages = rendered.document.pages
    anchors = {name for page in pages for name in page.anchors}
    for number, page in enumerate(pages, start=1):
        for link_type, target, _rect, _box in page.links:
            if link_type == "internal" and target not in anchors:
                report.error(where, f"page {number}: internal link to '#{target}' has no target")
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


def _bookmark_labels(rendered: RenderedDocument) -> list[str]:
    labels: list[str] = []

    def walk(nodes: list[tuple[str, object, object, object]]) -> None:
        for label, _target, children, _state in nodes:
            labels.append(label)
            walk(children)  # type: ignore[arg-type]

    walk(rendered.document.make_bookmark_tree())
    return labels

