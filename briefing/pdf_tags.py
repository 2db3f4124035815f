"""The PDF's tag tree, finished for screen readers: what WeasyPrint 70 cannot say from the HTML.

Runs as part of WeasyPrint's *finisher* (see ``render_pdf.write_pdf``), on the PDF objects after
the engine has built its tag tree and before they are written. The engine, not the HTML, is the
limit here:

- it describes a link annotation by its target's id ("ref-kinzer2003", read aloud as "ref
  kinzer 2003"), and maps neither ``title`` nor ``aria-label``: ``describe_links`` says what the
  link leads to, in the briefing's language ("Reference: Kinzer…", "Section 2.2 …, page 5");
- it writes no ``/Lang`` on structure elements (only the catalog's): every element made from
  an HTML element with a ``lang`` attribute gets it, so Persian is read with a Persian voice;
- it knows no role for notes or contents: an element with ``data-pdf-tag="Note"`` (footnotes)
  or ``"TOC"`` (the contents list) is retagged, and a TOC's items become TOCI;
- it builds the tree page by page, so a table that runs over pages is one Table per page, each
  with its repeated header (read again on every page): ``pdf_tables.py`` joins them.

To know which structure element came from which HTML element, the box tree is walked in the
order the engine walked it (``weasyprint.pdf.tags._build_box_tree``), and the two are matched by
their marked-content leaves; where they do not match (another engine version), the tree is left
as the engine wrote it rather than guessed at.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .i18n import Language, load_language, resolve_language
from .pdf_objects import PdfObjects
from .pdf_tables import join_tables

Finisher = Callable[[Any, Any], None]

ROLE_ATTRIBUTE = "data-pdf-tag"
"""A template asks for a structure type WeasyPrint does not map: ``Note`` or ``TOC``."""
ROLES = frozenset({"Note", "TOC"})
DESCRIPTION_LIMIT = 200
"""Characters of a reference read out for a citation link: enough to tell the work."""


def tag_finisher(templates_dir: Path, then: Finisher | None = None) -> Finisher:
    """The finisher that completes the tag tree, then runs ``then`` (the press finishing)."""

    def finish(document: Any, pdf: Any) -> None:
        if "StructTreeRoot" in pdf.catalog:
            complete_tags(document, pdf, templates_dir)
        if then is not None:
            then(document, pdf)

    return finish


def complete_tags(document: Any, pdf: Any, templates_dir: Path) -> None:
    objects = PdfObjects(pdf)
    root = _root_element(document)
    tag = root.get("lang") or "en"
    language = load_language(resolve_language(tag, templates_dir) or "en", templates_dir)
    describe_links(document, root, language)
    matched = match_elements(document, objects)
    if matched is None:  # the engine's log is copied into the build's report (render_pdf.engine_messages)
        logging.getLogger("weasyprint.tags").warning(
            "tags: the layout and the engine's tag tree do not match; languages, notes and contents are left untagged")
    for element, struct in matched or []:
        _apply_attributes(element, struct, objects)
    notes = [struct for _, struct in matched or [] if struct["S"] == "/Note"]
    for number, note in enumerate(notes, 1):
        note["ID"] = _pdf_string(f"note-{number}")  # PDF/UA-1 (7.9): every Note has a unique ID
    join_tables(document, objects)


# -- Link descriptions ------------------------------------------------------------------------


def describe_links(document: Any, root: Any, language: Language) -> None:
    """Each link annotation's /Contents says what the link leads to, as a reader hears it."""
    by_id: dict[str, Any] = {}
    for part in _root_elements(document):  # the References are laid out apart: their own <html>
        for element in part.iter():
            if element.get("id"):
                by_id.setdefault(element.get("id"), element)
    pages = {name: number for number, page in enumerate(document.pages, 1) for name in page.anchors}
    for page in document.pages:
        for kind, target, _rect, box in page.links:
            annotation = getattr(box, "link_annotation", None)
            if annotation is None or kind != "internal":
                continue
            text = link_description(target, by_id.get(target), _text(box.element), pages.get(target), language)
            annotation["Contents"] = _pdf_string(text)


def link_description(target: str, element: Any, link_text: str, page: int | None, t: Language) -> str:
    """"Reference: …", "Citation on page 4", "Section 2.2 Title, page 5", "Figure 2, page 7"."""
    if target.startswith("ref-") and element is not None:
        return t["link-reference"].format(text=_shorten(_text(element, skip=("cited-on", "url"))))
    if target.startswith("cite-") and page is not None:
        return t["link-citation"].format(n=page)
    link_text = re.sub(r"\s+", " ", link_text).strip()
    heading = _heading(element)
    if heading is not None and not link_text.strip(" ()"):
        link_text = _text(heading)
    if heading is not None and heading.find(".//*[@class='heading-number']") is not None:
        numbered = _text(heading)  # an appendix's number already says "Appendix A"
        link_text = numbered if numbered.startswith(t["appendix"]) else f"{t['section']} {numbered}"
    text = link_text or target
    return t["link-page"].format(text=text, n=page) if page is not None else text


def _heading(element: Any) -> Any:
    """The heading a link leads to: the element itself, or the first heading of a section."""
    if element is None:
        return None
    if re.fullmatch(r"h[1-6]", str(element.tag)):
        return element
    return next((child for child in element.iter() if re.fullmatch(r"h[1-6]", str(child.tag))), None)


def _text(element: Any, skip: tuple[str, ...] = ()) -> str:
    """An element's text as read: spaces collapsed, no zero-width or soft hyphen characters;
    descendants with a class in ``skip`` left out."""

    def pieces(node: Any) -> Iterator[str]:
        yield node.text or ""
        for child in node:
            if not set(str(child.get("class") or "").split()) & set(skip):
                yield from pieces(child)
            yield child.tail or ""

    text = "".join(pieces(element)) if element is not None else ""
    return re.sub(r"\s+", " ", re.sub("[\u200b\u00ad\u2060]", "", text)).strip()


def _shorten(text: str) -> str:
    if len(text) <= DESCRIPTION_LIMIT:
        return text
    return text[:DESCRIPTION_LIMIT].rsplit(" ", 1)[0] + "…"


def _pdf_string(text: str) -> Any:
    import pydyf

    return pydyf.String(text)


def _root_element(document: Any) -> Any:
    """The <html> element, found from the first page's boxes."""
    root = _page_root(document.pages[0])
    if root is None:
        raise ValueError("no <html> element among the laid-out boxes")
    return root


def _root_elements(document: Any) -> list[Any]:
    """The <html> element of each document whose pages were joined into this one, in page order."""
    roots: list[Any] = []
    for page in document.pages:
        root = _page_root(page)
        if root is not None and not any(root is seen for seen in roots):
            roots.append(root)
    return roots


def _page_root(page: Any) -> Any:
    boxes = [page._page_box]
    while boxes:
        box = boxes.pop(0)
        if box.element_tag == "html":
            return box.element
        boxes += getattr(box, "children", [])
    return None


# -- Structure elements of HTML elements ------------------------------------------------------


@dataclass
class _Leaf:
    """One marked-content sequence, as the box walk sees it."""

    depth: int
    """Structure elements from the top of the tree down to the one that holds it."""
    marks: list[tuple[int, Any, str]] = field(default_factory=list)
    """(depth, HTML element, expected structure type) of the elements around it we annotate."""


def match_elements(document: Any, objects: PdfObjects) -> list[tuple[Any, Any]] | None:
    """(HTML element, structure element) for every element with a ``lang`` or a role, or None
    when the box walk and the tag tree disagree."""
    leaves = list(_box_leaves(document))
    paths = list(objects.struct_leaf_paths())
    if len(leaves) != len(paths):
        return None
    found: dict[int, tuple[Any, Any]] = {}
    for leaf, path in zip(leaves, paths, strict=True):
        if len(path) != leaf.depth:
            return None
        for depth, element, expected in leaf.marks:
            struct = path[depth - 1]
            if struct["S"] != f"/{expected}":
                return None
            found.setdefault(id(struct), (element, struct))
    return list(found.values())


def _apply_attributes(element: Any, struct: Any, objects: PdfObjects) -> None:
    lang = element.get("lang")
    if lang and element.tag != "html":
        struct["Lang"] = _pdf_string(lang)
    role = element.get(ROLE_ATTRIBUTE)
    if role == "Note":
        struct["S"] = "/Note"
    elif role == "TOC":
        _as_toc(struct, objects)


def _as_toc(struct: Any, objects: PdfObjects) -> None:
    """L -> TOC, its LI -> TOCI, an item's body -> Reference (what a TOCI may hold)."""
    renames = {"/L": "/TOC", "/LI": "/TOCI", "/LBody": "/Reference"}
    struct["S"] = renames.get(struct["S"], struct["S"])
    for kid in objects.struct_kids(struct):
        if kid["S"] in renames:
            _as_toc(kid, objects)


def _box_leaves(document: Any) -> Iterator[_Leaf]:
    """The leaves of the engine's tag tree, in its order, from the laid-out boxes."""
    for page in document.pages:
        yield from _walk(page._page_box, 0, "Document", None, [])


def _walk(box: Any, depth: int, parent_tag: str, parent_element: Any, marks: list[Any]) -> Iterator[_Leaf]:
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout.absolute import AbsolutePlaceholder
    from weasyprint.pdf.tags import _get_pdf_tag

    if isinstance(box, AbsolutePlaceholder):
        box = box._box
    element_tag = None if box.element is None else box.element_tag
    tag = _get_pdf_tag(element_tag)
    if element_tag in ("html", "body") or isinstance(box, boxes.PageBox):
        if isinstance(box, boxes.ParentBox) and not isinstance(box, boxes.LineBox):
            for child in box.children:
                yield from _walk(child, depth, parent_tag, parent_element, marks)
        return
    if isinstance(box, boxes.MarginBox):
        return  # tagged by the engine, but outside the tree
    if tag in ("TD", "TH") and parent_tag in ("TD", "TH"):
        tag = "NonStruct"
    elif tag == "LI":
        if parent_tag == "LI":
            tag = "LBody"
        elif parent_tag == "LBody":
            tag = "NonStruct"
        elif element_tag in ("dt", "dd") or (element_tag == "li" and (
                "list-item" not in box.style["display"] or box.style["list_style_type"] == "none")):
            tag, depth = "LBody", depth + 1  # wrapped in an LI of its own
    depth += 1
    element = box.element
    if element is not None and element is not parent_element and "::" not in str(element_tag) and (
            element.get("lang") or element.get(ROLE_ATTRIBUTE) in ROLES):
        marks = [*marks, (depth, element, tag)]
    children = list(getattr(box, "children", ()))
    if tag == "Table" and getattr(box, "is_table_wrapper", False) and (table := box.get_wrapped_table()):
        children = [grand for child in children for grand in (child.children if child is table else [child])]
    for child in children:
        for item in child.children if isinstance(child, boxes.LineBox) else [child]:
            if isinstance(item, boxes.TextBox):
                yield _Leaf(depth if tag == "Link" else depth + 1, marks)
            elif item.element_tag in ("ul", "ol") and tag == "LI":
                yield from _walk(item, depth - 1, parent_tag, element, marks)  # hoisted, as PDF nests lists
            else:
                yield from _walk(item, depth, tag, element, marks)
    if isinstance(box, boxes.ReplacedBox):
        yield _Leaf(depth, marks)


