"""Each output edition, described once: what it is laid out from, how, and what is done to it after.

Adding an edition is a new row here (and its template, if it has its own); the pipeline, the
renderers and the checks read these records instead of asking which variant they are building.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .config import Variant

TAGGED_PDF: Mapping[str, Any] = MappingProxyType({"pdf_variant": "pdf/ua-1", "pdf_tags": True})
"""Tagged PDF/UA-1, so screen readers get structure and alt text."""
PRESS_PDF: Mapping[str, Any] = MappingProxyType({"pdf_variant": "pdf/x-4", "pdf_tags": True})
"""PDF/X-4 with a CMYK output intent (the ``@color-profile`` of print.css)."""
PLAIN_PDF: Mapping[str, Any] = MappingProxyType({"pdf_variant": None, "pdf_tags": False})
"""For pages that are imposed afterwards: no tag tree survives being placed 2-up."""


@dataclass(frozen=True)
class Edition:
    """One edition of the contract (§2)."""

    variant: Variant
    name: str
    """What messages call it: a warning about "page 4" says of which edition."""
    file_suffix: str
    """After the slug: ``SLUG-print.pdf``."""
    template: str
    """The page template under ``templates/``."""
    laid_out: bool = True
    """False: the rendered HTML is the output."""
    pdf_options: Mapping[str, Any] = field(default_factory=lambda: TAGGED_PDF)
    excerpt: bool = False
    """Holds part of the briefing (the handout): copy-fitted, cross-references to the rest as plain text."""
    press: bool = False
    """For a print shop: CMYK, the output intent, bleed and crop marks."""
    bound: bool = False
    """Pages face each other: mirrored margins, outer folios, the body on a right-hand page."""
    folded: bool = False
    """Laid out at half the sheet and imposed 2-up in saddle-stitch order."""
    page_multiple: int = 1
    """Blank pages pad the end to a multiple of this (a stitched print job asks for 4, see ``page_multiple_for``)."""
    inline_assets: bool = False
    """Figures and images as data: URIs (one self-contained file)."""
    screen: bool = False
    """A page for screens: notes numbered at the end (and beside the text), citations linked back by
    place, the contents as a tree, the fonts subset and inline (``render_web.py``, ``web_fonts.py``)."""
    partials: str | None = None
    """A folder under ``templates/partials/`` whose partials win over the shared ones."""


EDITIONS: Mapping[Variant, Edition] = MappingProxyType({
    Variant.PDF: Edition(Variant.PDF, "digital edition", ".pdf", "briefing.html"),
    Variant.PRINT: Edition(Variant.PRINT, "print edition", "-print.pdf", "briefing.html", pdf_options=PRESS_PDF, press=True,
                           bound=True, page_multiple=2),
    Variant.HANDOUT: Edition(Variant.HANDOUT, "handout", "-handout.pdf", "handout.html", excerpt=True),
    Variant.BOOKLET: Edition(Variant.BOOKLET, "booklet", "-booklet.pdf", "briefing.html", pdf_options=PLAIN_PDF, bound=True,
                             folded=True, page_multiple=4),
    Variant.HTML: Edition(Variant.HTML, "web edition", ".html", "web.html", laid_out=False, inline_assets=True,
                          screen=True, partials="web"),
})


def edition(variant: Variant) -> Edition:
    return EDITIONS[variant]


def page_multiple_for(edition: Edition, stitched: bool) -> int:
    """A saddle-stitched print job needs whole sheets of four pages, not only pairs."""
    return 4 if edition.press and stitched else edition.page_multiple
