"""A digital edition PDF -> a booklet: pages 2-up on landscape sheets in saddle-stitch order."""

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
    """Place pages 2-up, scaled to fit half a sheet of the same paper turned landscape."""
    from pypdf import PdfReader, PdfWriter, Transformation

    reader = PdfReader(io.BytesIO(pdf_bytes))
    first = reader.pages[0]
    page_width, page_height = float(first.mediabox.width), float(first.mediabox.height)
    sheet_width, sheet_height = page_height, page_width  # the same paper, landscape
    scale = min((sheet_width / 2) / page_width, sheet_height / page_height)
    offset_y = (sheet_height - page_height * scale) / 2
    writer = PdfWriter()
    for left, right in saddle_stitch_order(len(reader.pages)):
        sheet = writer.add_blank_page(width=sheet_width, height=sheet_height)
        for slot, index in enumerate((left, right)):
            if index is None:
                continue
            offset_x = slot * sheet_width / 2 + (sheet_width / 2 - page_width * scale) / 2
            transform = Transformation().scale(scale, scale).translate(offset_x, offset_y)
            sheet.merge_transformed_page(reader.pages[index], transform)
    writer.add_metadata({key: value for key, value in (reader.metadata or {}).items() if isinstance(value, str)})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
