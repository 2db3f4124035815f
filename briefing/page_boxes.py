"""Reading WeasyPrint's laid-out boxes: the page area's boxes, their text, tags and classes.

The checks after layout (verify, line_checks, page_fill) read the same boxes the same way; the
engine's box tree is not a public API, so what we rely on of it is written once, here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def flow_boxes(page_box: Any, *, footnotes: bool = True) -> Iterator[Any]:
    """The boxes of the page area: not the margin boxes (running heads, folios), nor what is out of flow."""
    from weasyprint.formatting_structure import boxes

    for child in page_box.children:
        if isinstance(child, boxes.MarginBox) or (not footnotes and is_footnote_area(child)):
            continue
        for box in child.descendants():
            if box.style["position"] not in ("absolute", "fixed"):
                yield box


def is_footnote_area(box: Any) -> bool:
    return type(box).__name__ == "FootnoteAreaBox"


def text_of(box: Any) -> str:
    from weasyprint.formatting_structure import boxes

    return "".join(b.text for b in box.descendants() if isinstance(b, boxes.TextBox))


def tag_of(box: Any) -> str | None:
    """The element's tag, for the box the element made (not the anonymous boxes around its text)."""
    return box.element.tag if box.element is not None and box.element_tag == box.element.tag else None


def classes_of(box: Any) -> list[str]:
    return str(box.element.get("class") or "").split() if tag_of(box) else []


def page_fill(page: Any) -> float:
    """How much of the page's text area is used, footnotes included, from 0 to 1."""
    page_box = page._page_box
    top, height = page_box.content_box_y(), page_box.height
    if not height:
        return 1.0
    from weasyprint.formatting_structure import boxes

    # Text and images only: a block split over pages (the body, a section) reaches the bottom anyway.
    bottoms = [box.position_y + box.margin_height() for box in flow_boxes(page_box, footnotes=False)
               if isinstance(box, (boxes.TextBox, boxes.ReplacedBox))]
    used = max(bottoms, default=top) - top
    footnotes = sum(child.margin_height() for child in page_box.children if is_footnote_area(child))
    return float(max(0.0, min(1.0, (used + footnotes) / height)))
