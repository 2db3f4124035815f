"""A booklet laid out at its folded size -> sheets: pages 2-up, in saddle-stitch order, for paper.

The pages are A5 (or half-Letter) already, so they sit on the sheet at their own size: nothing
is scaled. Links go (a folded sheet has nothing to click), streams are compressed, and the title
and language stay in the file.
"""

from __future__ import annotations

import io

BLANK = None


def saddle_stitch_order(page_count: int) -> list[tuple[int | None, int | None]]:
    """Page indexes (0-based, None for blank) for each sheet side, left then right.

    Pages are padded with blanks to a multiple of 4. Side 2k is the front of sheet k, side
    2k+1 its back; printed duplex (flip on short edge) and folded, they read in order.
    """
    padded = -(-max(page_count, 1) // 4) * 4
    sides: list[tuple[int | None, int | None]] = []
    for sheet in range(padded // 4):
        front = (padded - 1 - 2 * sheet, 2 * sheet)
        back = (2 * sheet + 1, padded - 2 - 2 * sheet)
        for left, right in (front, back):
            sides.append(
                (left if left < page_count else BLANK, right if right < page_count else BLANK)
            )
    return sides


def booklet_sheet_sides(page_count: int) -> int:
    """Pages of the imposed file: two per side, padded to a multiple of four pages."""
    return len(saddle_stitch_order(page_count))


def impose_booklet(pdf_bytes: bytes) -> bytes:
    """Place the folded-size pages 2-up on sheets twice as wide, in saddle-stitch order."""
    from pypdf import PdfReader, PdfWriter, Transformation
    from pypdf.generic import NameObject

    reader = PdfReader(io.BytesIO(pdf_bytes))
    first = reader.pages[0]
    page_width, page_height = float(first.mediabox.width), float(first.mediabox.height)
    writer = PdfWriter()
    for page in reader.pages:
        if "/Annots" in page:
            del page[NameObject("/Annots")]  # internal links would point at pages that moved
    for left, right in saddle_stitch_order(len(reader.pages)):
        sheet = writer.add_blank_page(width=2 * page_width, height=page_height)
        for slot, index in enumerate((left, right)):
            if index is not None:
                sheet.merge_transformed_page(reader.pages[index], Transformation().translate(slot * page_width, 0))
        sheet.compress_content_streams()
    writer.add_metadata({key: value for key, value in (reader.metadata or {}).items() if isinstance(value, str)})
    language = reader.root_object.get("/Lang")
    if language is not None:
        writer._root_object[NameObject("/Lang")] = language
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
