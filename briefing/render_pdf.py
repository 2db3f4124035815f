"""HTML -> a laid-out WeasyPrint Document (fonts, figures and images from allowed folders only) -> PDF bytes."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from .errors import Diagnostics, SourceLocation

if TYPE_CHECKING:
    from weasyprint.document import Document

PDF_OPTIONS: dict[str, Any] = {"pdf_variant": "pdf/ua-1", "pdf_tags": True}
"""The digital edition: tagged PDF/UA-1, so screen readers get structure and alt text."""


@dataclass(frozen=True)
class RenderedDocument:
    document: Document
    html_path: Path
    """Where the HTML came from, for messages about it."""


def _confined_fetcher(allowed_roots: Sequence[Path], refused: list[str]) -> Any:
    """A URL fetcher that serves local files under ``allowed_roots`` and nothing else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    roots = [root.resolve() for root in allowed_roots]

    class ConfinedURLFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "file" and parts.netloc in ("", "localhost"):
                path = Path(unquote(parts.path)).resolve()  # symlinks followed, then re-checked
                if any(path.is_relative_to(root) for root in roots) and path.is_file():
                    return URLFetcherResponse(url, body=path.read_bytes())
            refused.append(url)
            raise ValueError(f"refused to fetch '{url}': only files inside the briefing folder may be used")

    return ConfinedURLFetcher()


@contextmanager
def engine_messages(report: Diagnostics, where: SourceLocation) -> Iterator[None]:
    """Copy WeasyPrint's log into the report: its errors fail the build, its warnings are kept."""
    logger = logging.getLogger("weasyprint")

    class ToReport(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage().splitlines()[0]
            if record.levelno >= logging.ERROR:
                report.error(where, f"rendering: {message}")
            elif record.levelno >= logging.WARNING:
                report.warning(where, f"rendering: {message}")

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
    html: str, base_dir: Path, allowed_roots: Sequence[Path], html_name: Path, report: Diagnostics
) -> RenderedDocument | None:
    """Lay out the HTML; None when the engine reported errors."""
    from weasyprint import HTML

    refused: list[str] = []
    fetcher = _confined_fetcher([base_dir, *allowed_roots], refused)
    where = SourceLocation(html_name)
    with engine_messages(report, where):
        document = HTML(string=html, base_url=base_dir.as_uri() + "/", url_fetcher=fetcher).render(**PDF_OPTIONS)
    return RenderedDocument(document, html_name)


def write_pdf(rendered: RenderedDocument, report: Diagnostics, **options: Any) -> bytes:
    """Serialise the laid-out document (font subsetting happens here)."""
    with engine_messages(report, SourceLocation(rendered.html_path)):
        data: bytes = rendered.document.write_pdf(**{**PDF_OPTIONS, **options})
    return data
