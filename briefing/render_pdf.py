"""HTML -> a laid-out WeasyPrint Document (fonts, figures and images from allowed folders only) -> PDF bytes."""

from __future__ import annotations

import logging
from collections import ChainMap
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from .config import Variant
from .editions import TAGGED_PDF, edition
from .engine_html import prepare_for_engine
from .errors import Diagnostics, SourceLocation
from .model import PrintSettings
from .pdf_hyphens import mark_automatic_hyphens
from .pdf_tags import tag_finisher
from .press import DEFAULT_CONDITION, finish_for_press

if TYPE_CHECKING:
    from weasyprint.document import Document

CMYK_PROFILE = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")
"""The output intent of the print edition: Artifex's SWOP-based CMYK profile from Debian's
libgs-common (scripts/system-deps.sh installs it). Read from the system, not vendored: its
licence (AGPL) is not ours to redistribute with the project."""


def variant_options(variant: Variant) -> dict[str, Any]:
    return dict(edition(variant).pdf_options)


def srgb_profile() -> Path:
    """WeasyPrint's own sRGB profile: what RGB content means in the print edition."""
    import weasyprint

    return Path(weasyprint.__file__).parent / "pdf" / "sRGB2014.icc"


def variant_resource_dirs(variant: Variant) -> list[Path]:
    """Folders besides the briefing and the templates a variant may read (colour profiles)."""
    if not edition(variant).press:
        return []
    return [CMYK_PROFILE.parent, srgb_profile().parent]


@dataclass(frozen=True)
class RenderedDocument:
    document: Document
    html_path: Path
    """The template the HTML came from, for messages about the layout."""
    url_locations: MutableMapping[str, SourceLocation]
    """Where the content names each URL the engine may complain about (filled while fetching)."""
    files_read: list[Path] = field(default_factory=list)
    """The local files the engine read while laying out (fonts, images, profiles)."""


def _confined_fetcher(
    allowed_roots: Sequence[Path], url_locations: dict[str, SourceLocation], files_read: list[Path] | None = None,
) -> Any:
    """A URL fetcher that serves local files under ``allowed_roots`` and nothing else.

    A refused URL asked for while a content image is being read (an SVG naming a remote file)
    is located at that image: ``url_locations`` learns it. ``files_read`` learns every file served.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    roots = [root.resolve() for root in allowed_roots]
    last_content_image: list[SourceLocation] = []

    class ConfinedURLFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "file" and parts.netloc in ("", "localhost"):
                path = Path(unquote(parts.path)).resolve()  # symlinks followed, then re-checked
                if any(path.is_relative_to(root) for root in roots) and path.is_file():
                    if url in url_locations:
                        last_content_image[:] = [url_locations[url]]
                    if files_read is not None:
                        files_read.append(path)
                    return URLFetcherResponse(url, body=path.read_bytes())
            if last_content_image and url not in url_locations:
                url_locations[url] = last_content_image[0]
            raise ValueError(f"refused to fetch '{url}': only files inside the briefing folder may be used")

    return ConfinedURLFetcher()


@contextmanager
def engine_messages(
    report: Diagnostics, where: SourceLocation, url_locations: Mapping[str, SourceLocation] | None = None
) -> Iterator[None]:
    """Copy WeasyPrint's log into the report: its errors fail the build, its warnings are kept.

    A message about a URL that came from the content is located where the content names it.
    """
    logger = logging.getLogger("weasyprint")
    locations = url_locations or {}

    class ToReport(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage().splitlines()[0]
            location = next((loc for url, loc in locations.items() if url in message), where)
            if record.levelno >= logging.ERROR:
                report.error(location, f"rendering: {message}")
            elif record.levelno >= logging.WARNING:
                report.warning(location, f"rendering: {message}")

    handler = ToReport(logging.WARNING)
    saved = (logger.handlers[:], logger.propagate, logger.level)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.handlers[:], logger.propagate, _ = saved
        logger.setLevel(saved[2])


def render_pdf(
    html: str,
    base_dir: Path,
    allowed_roots: Sequence[Path],
    template: Path,
    report: Diagnostics,
    url_locations: Mapping[str, SourceLocation] | None = None,
    font_config: Any = None,
    **options: Any,
) -> RenderedDocument:
    """Lay out the HTML; the engine's complaints land in ``report``.

    Parts of one document share ``font_config`` (``new_font_config``), so each font is embedded once.
    """
    from weasyprint import HTML

    locations = dict(url_locations or {})
    files_read: list[Path] = []
    fetcher = _confined_fetcher([base_dir, *allowed_roots], locations, files_read)
    where = SourceLocation(template)
    with engine_messages(report, where, locations):
        document = HTML(string=prepare_for_engine(html), base_url=base_dir.as_uri() + "/", url_fetcher=fetcher).render(
            font_config=font_config, **{**TAGGED_PDF, **options}
        )
    return RenderedDocument(document, template, locations, files_read)


def new_font_config() -> Any:
    """One font configuration for every part of a document."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def join(first: RenderedDocument, first_pages: int, second: RenderedDocument | None, second_pages: int) -> RenderedDocument:
    """The first ``first_pages`` pages of one layout, then the first ``second_pages`` of another, as one document.

    Links, anchors, bookmarks and tags live on the pages, so they resolve across the join; the
    metadata is the first part's.
    """
    pages = [*first.document.pages[:first_pages], *(second.document.pages[:second_pages] if second else [])]
    # A live view, not a copy: SVG images fetch what they name while the PDF is drawn, and each
    # part's fetcher records where the content named it in its own part's mapping.
    locations = ChainMap(first.url_locations, second.url_locations) if second else first.url_locations
    return RenderedDocument(first.document.copy(pages), first.html_path, locations)


def write_pdf(
    rendered: RenderedDocument, report: Diagnostics, variant: Variant, document_id: str,
    settings: PrintSettings | None = None,
) -> bytes:
    """Serialise the laid-out document (font subsetting happens here); press finishing for print.

    ``document_id`` (a hash of the inputs) replaces the random identifiers the engine would
    write, so the same inputs give the same bytes.
    """
    condition = (settings.condition if settings else None) or DEFAULT_CONDITION
    press = (
        partial(finish_for_press, document_id=document_id, condition=condition) if edition(variant).press else None
    )
    tags = tag_finisher(rendered.html_path.parent, then=press)  # tags a screen reader can use

    def finisher(document: Any, pdf: Any) -> None:
        mark_automatic_hyphens(document, pdf)  # copied and searched as the word: "durable", not "dur- able"
        tags(document, pdf)

    options = {**variant_options(variant), "pdf_identifier": document_id[:32].encode("ascii")}
    with engine_messages(report, SourceLocation(rendered.html_path), rendered.url_locations):
        data: bytes = rendered.document.write_pdf(finisher=finisher, **options)
    return data
