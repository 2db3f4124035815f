"""The PDF's content streams -> each automatic hyphen read as the word it breaks (/ActualText).

A word the engine breaks at a line end ("partner-" / "ship") should be copied, searched and read
aloud as the word, while a hyphen the author typed ("F-14", "US-Iran") stays. WeasyPrint 70
writes no /ActualText, so the two are told apart by the character drawn: the engine draws its
automatic hyphen as U+2010 HYPHEN (``hyphenate-character`` in print.css), which the layout never
receives from the content (``engine_html`` sets a typed one as U+002D). Each font's /ToUnicode
map names the glyph that stands for U+2010, and wherever a page shows it:

- the hyphen is replaced by the rest of the word, ``/Span <</ActualText (ship)>> BDC … EMC``,
- and the rest of the word, at the start of the next line (on this page or the next), by
  nothing, ``/Span <</ActualText ()>> BDC … EMC``,

so the text reads "partnership" where the line ends, and the next line goes on after it. The
rest of the word comes from the layout (the next line of the same block) and must be what the
content stream shows there; where it is not found, the hyphen alone is replaced by nothing. The
spans sit inside the marked content that holds the glyphs, so the structure tree and its MCIDs
are untouched, and every glyph is drawn where it was.

Runs in WeasyPrint's *finisher* (``render_pdf.write_pdf``), on the pydyf objects before they are
written, when the fonts' maps are complete.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from io import BytesIO
from typing import Any

AUTOMATIC_HYPHEN = "\u2010"
"""What the engine draws for a hyphen it adds at a line end (print.css ``hyphenate-character``)."""

_FONT = re.compile(rb"/(\S+) \S+ Tf")
_ELEMENT = re.compile(rb"<([0-9a-fA-F]*)>|([^<>\s]+)")
_WORD_START = re.compile(r"[^\s\u2010]+")
"""The rest of a broken word, with the punctuation that follows it ("ship," stays with "partner"); not
a hyphen that breaks it again (a word over three lines), which has a span of its own."""
_UNDRAWN = re.compile("[\u00ad\u200b\u2060]")
"""Soft hyphens and zero-width characters: in the layout's text, but drawn as no glyph."""


@dataclass(eq=False)
class _Shown:
    """One text-showing operation (``[…] TJ``) of a page's content stream."""

    items: list[Any]
    index: int
    font: bytes
    line_start: bool
    """The first text shown after the text matrix was set: where a line's text begins."""
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    """(first glyph, glyph after the last, replacement text) to wrap in /ActualText."""


@dataclass(frozen=True)
class _Break:
    """A word the layout hyphenated: the text before the hyphen, the rest, the rest's page."""

    head: str
    tail: str
    tail_page: int


def mark_automatic_hyphens(document: Any, pdf: Any) -> int:
    """Give every automatic hyphen of the PDF an /ActualText (see the module docstring).

    Returns how many were marked.
    """
    hyphens = automatic_hyphen_glyphs(document)
    if not hyphens:
        return 0
    maps = {font.hash.encode(): font.to_unicode for font in document.fonts.values()}
    breaks = list(_hyphenated_words(document))
    wanted = {page for number, words in enumerate(breaks) if words for page in (number, *(w.tail_page for w in words))}
    pages = [_shown_texts(_get(pdf, _get(pdf, page)["Contents"]).stream) if number in wanted else []
             for number, page in enumerate(pdf.page_references)]
    marked = 0
    for number, shown in enumerate(pages):
        found = [(op, glyph) for op in shown if op.font in hyphens for glyph in _positions(op, hyphens[op.font])]
        layout = breaks[number] if number < len(breaks) else []
        aligned = len(found) == len(layout) and all(
            _same_end(_decode(op, maps, glyph), word.head) for (op, glyph), word in zip(found, layout, strict=False))
        for position, (op, glyph) in enumerate(found):
            tail = _find_tail(layout[position], pages, number, op, maps) if aligned else None
            if tail is not None:
                tail_op, length = tail
                tail_op.spans.append((0, length, ""))
            op.spans.append((glyph, glyph + 1, layout[position].tail if tail is not None else ""))
            marked += 1
        for op in shown:
            if op.spans:
                op.items[op.index] = _rewrite(op.items[op.index], op.spans)
    for stream in _group_streams(pdf):  # text in a group (opacity): the hyphen alone, left out of the text
        marked += _mark_group(stream.stream, hyphens)
    for shown in pages:
        for op in reversed([op for op in shown if isinstance(op.items[op.index], list)]):
            op.items[op.index:op.index + 1] = op.items[op.index]
    return marked


def automatic_hyphen_glyphs(document: Any) -> dict[bytes, bytes]:
    """Font resource name -> the glyph (hex, as content streams write it) its /ToUnicode maps to U+2010.

    A font that draws U+002D with the same glyph is left out: there the map cannot tell an
    automatic hyphen from a typed one, and a typed hyphen must never vanish from the text.
    """
    found: dict[bytes, bytes] = {}
    for font in document.fonts.values():
        if font.bitmap:
            continue
        glyphs = [glyph for glyph, text in font.to_unicode.items() if text == AUTOMATIC_HYPHEN]
        if len(glyphs) == 1 and not _one_glyph_for_both_hyphens(font):
            found[font.hash.encode()] = f"{glyphs[0]:04x}".encode()
    return found


def _one_glyph_for_both_hyphens(font: Any) -> bool:
    """Whether the font file's cmap gives U+2010 and U+002D the same glyph (the whole file's, not the subset's)."""
    from weasyprint.text.fonts import get_hb_object_data

    return _shares_glyph(get_hb_object_data(font.hb_face), font.index)


@lru_cache(maxsize=16)
def _shares_glyph(data: bytes, index: int) -> bool:
    """Read once per font file and process: a warm rebuild (``briefing watch``) does not parse it again."""
    from fontTools.ttLib import TTFont

    with TTFont(BytesIO(data), fontNumber=index, lazy=True) as file:
        cmap = file.getBestCmap() or {}
    return cmap.get(ord("-")) is not None and cmap.get(ord("-")) == cmap.get(ord(AUTOMATIC_HYPHEN))


# -- The layout: which words were broken, and how they go on ----------------------------------


def _hyphenated_words(document: Any) -> Iterator[list[_Break]]:
    """For each page, its hyphenated words in the order the page draws its lines."""
    from weasyprint.formatting_structure import boxes

    lines = [list(_lines(page._page_box, None, boxes)) for page in document.pages]
    for number, page_lines in enumerate(lines):
        words = []
        for index, (block, texts) in enumerate(page_lines):
            if texts and texts[-1].endswith(AUTOMATIC_HYPHEN):
                following = _next_line(block, lines, number, index + 1)
                head = _UNDRAWN.sub("", texts[-1][:-1])
                if following is None or not following[1]:
                    words.append(_Break(head, "", number))
                    continue
                match = _WORD_START.match(_UNDRAWN.sub("", following[1][0]))
                words.append(_Break(head, match.group(0) if match else "", following[0]))
        yield words


def _lines(box: Any, block: Any, boxes: Any) -> Iterator[tuple[Any, list[str]]]:
    """(block element, the texts of its line) for every line box under ``box``, in tree order."""
    if isinstance(box, boxes.LineBox):
        yield block, [text.text for text in _texts(box, boxes)]
        return
    if isinstance(box, boxes.BlockContainerBox):
        block = box.element
    for child in getattr(box, "children", ()):
        yield from _lines(child, block, boxes)


def _texts(box: Any, boxes: Any) -> Iterator[Any]:
    for child in box.children:
        if isinstance(child, boxes.TextBox):
            yield child
        elif isinstance(child, boxes.InlineBox):
            yield from _texts(child, boxes)


def _next_line(block: Any, lines: list[list[tuple[Any, list[str]]]], page: int, start: int
               ) -> tuple[int, list[str]] | None:
    """The next line of the same block element: on this page, else the first on a later one."""
    for number in range(page, len(lines)):
        for line_block, texts in lines[number][start if number == page else 0:]:
            if line_block is block and block is not None:
                return number, texts
    return None


# -- The content streams ----------------------------------------------------------------------


def _shown_texts(items: list[Any]) -> list[_Shown]:
    """The TJ operations of one content stream outside artifacts, with the font each is set in."""
    shown: list[_Shown] = []
    font, line_start, artifacts, depth = b"", False, [], 0
    for index, item in enumerate(items):
        if isinstance(item, str) and item == "/Artifact":
            artifacts.append(depth)
        elif not isinstance(item, bytes):
            continue
        elif item in (b"BMC", b"BDC"):
            depth += 1
        elif item == b"EMC":
            depth -= 1
            if artifacts and artifacts[-1] == depth:
                artifacts.pop()
        elif item.endswith(b" Tm"):
            line_start = True
        elif item.endswith(b" Tf"):
            match = _FONT.fullmatch(item)
            font = match.group(1) if match else b""
        elif item.endswith(b"] TJ"):
            if not artifacts:
                shown.append(_Shown(items, index, font, line_start))
            line_start = False
    return shown


def _glyphs(operation: bytes) -> list[bytes]:
    return [hexes[start:start + 4] for hexes, other in _ELEMENT.findall(operation[1:-len(b"] TJ")])
            if not other for start in range(0, len(hexes), 4)]


def _positions(op: _Shown, hyphen: bytes) -> list[int]:
    operation = op.items[op.index]
    if hyphen not in operation:
        return []
    return [number for number, glyph in enumerate(_glyphs(operation)) if glyph.lower() == hyphen]


def _decode(op: _Shown, maps: dict[bytes, dict[int, str]], end: int | None = None) -> str:
    """The text of the operation's first ``end`` glyphs, as the font's map gives it."""
    to_unicode = maps.get(op.font, {})
    return "".join(to_unicode.get(int(glyph, 16), "") for glyph in _glyphs(op.items[op.index])[:end])


def _same_end(drawn: str, head: str) -> bool:
    """Whether the text drawn before a hyphen ends as the layout's line does (up to 8 characters)."""
    length = min(len(drawn), len(head), 8)
    return length > 0 and drawn[-length:] == head[-length:]


def _find_tail(word: _Break, pages: list[list[_Shown]], page: int, after: _Shown, maps: dict[bytes, dict[int, str]]
               ) -> tuple[_Shown, int] | None:
    """The operation that begins the next line with the rest of the word, and how many glyphs it takes."""
    if not word.tail:
        return None
    candidates = pages[word.tail_page]
    if word.tail_page == page:
        candidates = candidates[candidates.index(after) + 1:]
    for op in candidates:
        if not op.line_start:
            continue
        glyphs = _glyphs(op.items[op.index])
        to_unicode = maps.get(op.font, {})
        text = ""
        for count, glyph in enumerate(glyphs, 1):
            text += to_unicode.get(int(glyph, 16), "")
            if text == word.tail:
                return op, count
            if not word.tail.startswith(text):
                break
        return None  # the first line after the hyphen does not go on with the word: leave it
    return None


def _rewrite(operation: bytes, spans: list[tuple[int, int, str]]) -> list[bytes]:
    """The TJ operation split so that each span's glyphs are shown inside their /ActualText span.

    The numbers of a TJ array move the pen; split between operators they move it just the same,
    so every glyph stays where it was.
    """
    starts = {start: (end, text) for start, end, text in spans}
    out: list[bytes] = []
    elements: list[bytes] = []
    glyph_number, closing = 0, None

    def flush() -> None:
        if elements and any(element.startswith(b"<") or element.strip(b"0.-") for element in elements):
            out.append(b"[" + b" ".join(elements) + b"] TJ")
        elements.clear()

    for hexes, other in _ELEMENT.findall(operation[1:-len(b"] TJ")]):
        if other:
            elements.append(other)
            continue
        for start in range(0, len(hexes), 4):
            if glyph_number in starts:
                flush()
                closing, text = starts[glyph_number]
                out.append(b"/Span <</ActualText " + _pdf_text(text) + b">> BDC")
            elements.append(b"<" + hexes[start:start + 4] + b">")
            glyph_number += 1
            if glyph_number == closing:
                flush()
                out.append(b"EMC")
                closing = None
    flush()
    return out


def _pdf_text(text: str) -> bytes:
    """A PDF text string: UTF-16BE with its byte order mark, in hex (no escaping to get wrong)."""
    if not text:
        return b"()"
    return b"<feff" + text.encode("utf-16-be").hex().encode() + b">"


def _group_streams(pdf: Any) -> Iterator[Any]:
    """The form XObjects (groups) the pages paint: content streams other than the pages' own."""
    from weasyprint.pdf.stream import Stream

    pages = {id(_get(pdf, _get(pdf, page)["Contents"])) for page in pdf.page_references}
    for item in pdf.objects:
        if isinstance(item, Stream) and id(item) not in pages:
            yield item


def _mark_group(items: list[Any], hyphens: dict[bytes, bytes]) -> int:
    marked = 0
    for op in _shown_texts(items):
        if op.font in hyphens and (positions := _positions(op, hyphens[op.font])):
            op.items[op.index] = _rewrite(op.items[op.index], [(glyph, glyph + 1, "") for glyph in positions])
            marked += len(positions)
    for index in reversed(range(len(items))):
        if isinstance(items[index], list):
            items[index:index + 1] = items[index]
    return marked


def _get(pdf: Any, value: Any) -> Any:
    """The object a reference (``"12 0 R"``) names, or the value itself."""
    if isinstance(value, (bytes, str)):
        text = value.decode() if isinstance(value, bytes) else value
        if text.endswith(" R"):
            return pdf.objects[int(text.split()[0])]
    return value
