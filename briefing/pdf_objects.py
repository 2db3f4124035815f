"""The tag tree among WeasyPrint's PDF objects (pydyf), as the finisher sees them before writing.

Objects refer to each other by reference (``b"12 0 R"``); these helpers follow the references,
so the passes in ``pdf_tags`` and ``pdf_tables`` read as operations on a tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class PdfObjects:
    """One PDF being finished: its objects, its structure tree and its pages' content."""

    def __init__(self, pdf: Any) -> None:
        self.pdf = pdf

    def get(self, reference: Any) -> Any:
        return self.pdf.objects[int(reference.split()[0])]

    def document(self) -> Any:
        """The /Document element: the root of the tags WeasyPrint writes."""
        return self.get(self.get(self.pdf.catalog["StructTreeRoot"])["K"][0])

    def struct_kids(self, struct: Any) -> Iterator[Any]:
        """The structure elements directly under ``struct`` (not its content or annotations)."""
        for kid in struct["K"]:
            if not isinstance(kid, int):
                child = self.get(kid)
                if child.get("Type") != "/OBJR":
                    yield child

    def struct_leaf_paths(self) -> Iterator[list[Any]]:
        """For each marked-content id in the tree, in reading order: the elements down to it."""

        def walk(struct: Any, path: list[Any]) -> Iterator[list[Any]]:
            for kid in struct["K"]:
                if isinstance(kid, int):
                    yield path
                    continue
                child = self.get(kid)
                if child.get("Type") != "/OBJR":
                    yield from walk(child, [*path, child])

        for top in self.struct_kids(self.document()):
            yield from walk(top, [top])

    def parent(self, struct: Any) -> Any:
        return self.get(struct["P"])

    def detach(self, struct: Any) -> None:
        """Take ``struct`` out of its parent's kids."""
        kids = self.parent(struct)["K"]
        kids[:] = [kid for kid in kids if isinstance(kid, int) or int(kid.split()[0]) != struct.number]

    def adopt(self, parent: Any, kids: list[Any]) -> None:
        """Append structure elements (with their subtrees) to ``parent``."""
        for kid in kids:
            kid["P"] = parent.reference
            parent["K"].append(kid.reference)

    def marked_ids(self, struct: Any) -> Iterator[tuple[Any, int]]:
        """(page reference, marked-content id) of all the content under ``struct``."""
        for kid in struct["K"]:
            if isinstance(kid, int):
                yield struct["Pg"], kid
            else:
                child = self.get(kid)
                if child.get("Type") != "/OBJR":
                    yield from self.marked_ids(child)

    def as_artifact(self, page: Any, mcid: int) -> None:
        """Content no longer in the tree (a repeated table header) is marked as an artifact."""
        number = [int(ref.split()[0]) for ref in self.pdf.page_references].index(int(page.split()[0]))
        stream = self.get(self.get(page)["Contents"]).stream
        for index, item in enumerate(stream):
            if isinstance(item, dict) and item.get("MCID") == mcid and stream[index + 1] == b"BDC":
                stream[index - 1:index + 2] = ["/Artifact", b"BMC"]
                break
        nums = self.get(self.pdf.catalog["StructTreeRoot"])["ParentTree"]
        self.get(nums)["Nums"][2 * number + 1][mcid] = "null"
