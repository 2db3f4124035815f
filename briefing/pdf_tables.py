"""A table laid out over several pages is one Table in the tags, with its header read once.

WeasyPrint 70 builds the tag tree page by page (upstream: Kozea/WeasyPrint#2902 and #2903, open
for tables and lists; paragraphs and sections split at a page break stay split here too): each
page's part of a table becomes a Table of its own, and the header it repeats at the top of every
page (``thead``, as print tables should) a THead of its own, so a screen reader announces four
tables and reads the header four times.
This joins the parts: the rows move into the first part, the repeated headers become artifacts
(drawn, not read), the cells name the first header's cells, and the section around a part that
holds nothing else is dropped (the table continuing means its sections continue).

The parts of one table are told by the engine's own link from each cell's box to its tag
(``box.mark``), so two different tables that happen to meet at a page break stay two.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .pdf_objects import PdfObjects


def join_tables(document: Any, objects: PdfObjects) -> None:
    parts: dict[int, list[Any]] = {}
    for table_element, cell in _cells(document):
        table = _table_of(cell, objects)
        if table is not None:
            found = parts.setdefault(id(table_element), [])
            if all(part is not table for part in found):
                found.append(table)
    for tables in parts.values():
        for part in tables[1:]:
            _join(tables[0], part, objects)


def _cells(document: Any) -> Iterator[tuple[Any, Any]]:
    """(HTML table, tag of a cell) for every cell laid out, page after page."""
    from weasyprint.formatting_structure import boxes

    def walk(box: Any, table: Any) -> Iterator[tuple[Any, Any]]:
        if isinstance(box, boxes.TableBox):
            table = box.element
        mark = getattr(box, "mark", None)
        if isinstance(box, boxes.TableCellBox) and isinstance(mark, dict):
            yield table, mark
        for child in getattr(box, "children", ()):
            yield from walk(child, table)

    for page in document.pages:
        yield from walk(page._page_box, None)


def _table_of(cell: Any, objects: PdfObjects) -> Any:
    struct = cell
    while "P" in struct and struct.get("S") != "/Table":
        struct = objects.parent(struct)
    return struct if struct.get("S") == "/Table" else None


def _join(first: Any, part: Any, objects: PdfObjects) -> None:
    heads = [kid for kid in objects.struct_kids(first) if kid["S"] == "/THead"]
    kids = list(objects.struct_kids(part))
    repeated = [kid for kid in kids if kid["S"] == "/THead"]
    if heads and repeated:
        _rename_headers(_header_ids(repeated[0], objects), _header_ids(heads[0], objects), kids, objects)
        for head in repeated:
            for page, mcid in list(objects.marked_ids(head)):
                objects.as_artifact(page, mcid)
            kids.remove(head)
    last = list(objects.struct_kids(first))[-1:]
    if last and kids and last[0]["S"] == kids[0]["S"] == "/TBody":  # the row group at the break goes on
        continued = kids.pop(0)
        objects.adopt(last[0], list(objects.struct_kids(continued)))
    objects.adopt(first, kids)
    part["K"] = type(part["K"])()
    _drop_empty(part, objects)


def _header_ids(head: Any, objects: PdfObjects) -> list[Any]:
    found: list[Any] = []

    def walk(struct: Any) -> None:
        if struct["S"] == "/TH" and "ID" in struct:
            found.append(struct["ID"])
        for kid in objects.struct_kids(struct):
            walk(kid)

    walk(head)
    return found


def _rename_headers(old: list[Any], new: list[Any], kids: list[Any], objects: PdfObjects) -> None:
    """Cells of a later part name the first part's header cells, column by column."""
    if len(old) != len(new):
        return
    renamed = {bytes(_to_bytes(a)): b for a, b in zip(old, new, strict=True)}

    def walk(struct: Any) -> None:
        attributes = struct.get("A")
        if struct["S"] == "/TD" and isinstance(attributes, dict) and "Headers" in attributes:
            headers = attributes["Headers"]
            headers[:] = [renamed.get(bytes(_to_bytes(h)), h) for h in headers]
        for kid in objects.struct_kids(struct):
            walk(kid)

    for kid in kids:
        walk(kid)


def _to_bytes(value: Any) -> bytes:
    data = getattr(value, "data", value)
    return data if isinstance(data, bytes) else str(data).encode()


def _drop_empty(struct: Any, objects: PdfObjects) -> None:
    """Take an emptied part out of the tree, and its sections if they hold nothing else."""
    while not struct["K"] and struct.get("S") != "/Document":
        parent = objects.parent(struct)
        objects.detach(struct)
        struct = parent
