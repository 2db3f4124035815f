"""Run the build stages in order; stop at the first stage that reports errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import manifest
from .citations import Citations, resolve_citations
from .config import PAGE_GEOMETRY, BuildConfig, Variant
from .errors import ContentError, Diagnostics
from .figures import draw_figures
from .load import ContentFiles, LocatedStr, load_content, resolve_inside
from .log import PROGRESS_LOGGER
from .markdown import ParsedDocument, parse_document
from .model import Briefing, FigureStyle
from .render_html import render_html
from .render_pdf import render_pdf, write_pdf
from .verify import verify_document
from .write import write_atomically

STAGES = (
    "Loading content",
    "Validating content",
    "Parsing Markdown",
    "Resolving citations",
    "Drawing figures",
    "Rendering HTML",
    "Laying out pages",
    "Verifying layout",
    "Writing files",
)


@dataclass(frozen=True)
class Prepared:
    """The content, checked and parsed once for every variant."""

    briefing: Briefing
    document: ParsedDocument
    citations: Citations

    def __iter__(self) -> Iterator[object]:
        return iter((self.briefing, self.document, self.citations))


@dataclass(frozen=True)
class Output:
    path: Path
    pages: int | None = None


@dataclass
class BuildResult:
    briefing: str
    outputs: list[Output] = field(default_factory=list)
    seconds: float = 0.0
    report: Diagnostics = field(default_factory=Diagnostics)


@contextmanager
def step(number: int, report: Diagnostics, slug: str, gate: bool = True) -> Iterator[None]:
    """Log the stage, run it, and stop the build if it added errors (later stages need valid input).

    ``gate=False`` lets the next stage run anyway when it can still find problems of its own,
    so one run reports every error in the content.
    """
    PROGRESS_LOGGER.info("[%s] %d/%d %s", slug, number, len(STAGES), STAGES[number - 1])
    yield
    if gate and report.errors:
        raise ContentError(report, STAGES[number - 1])


def check(config: BuildConfig, report: Diagnostics) -> Prepared:
    """Stages 1-4: everything that can be wrong in the content, without writing anything."""
    slug = config.slug
    with step(1, report, slug):
        files = load_content(config.content_dir, report)
    with step(2, report, slug):
        briefing = validate_or_fail(files, report)
    with step(3, report, slug, gate=False):  # citation keys are checked next, whatever happens here
        document = parse_document(briefing, report)
        _check_images(files, document, report)
    with step(4, report, slug):
        citations = resolve_citations(document, briefing, report)
    return Prepared(briefing, document, citations)


def build(config: BuildConfig, report: Diagnostics | None = None) -> BuildResult:
    """Turn ``config.content_dir`` into verified outputs in ``config.output_dir``."""
    started = time.perf_counter()
    if report is None:
        report = Diagnostics(strict=config.strict)
    slug = config.slug
    briefing, document, citations = check(config, report)
    geometry = PAGE_GEOMETRY[config.paper or briefing.metadata.paper]
    with step(5, report, slug):
        style = FigureStyle(width_mm=geometry.text_width_mm, font_dir=config.templates_dir / "fonts")
        figures = draw_figures(document.timeline_figures, briefing.timeline, style, config.cache_dir.resolve(), report)
    rendered_files: dict[Variant, bytes] = {}
    pages: dict[Variant, int] = {}
    html_name = config.output_path(Variant.HTML)
    for variant in config.variants:
        with step(6, report, slug):
            html = render_html(briefing, document, citations, figures, geometry, variant, config.templates_dir, report)
        if variant is Variant.HTML:
            rendered_files[variant] = html.encode("utf-8")
            continue
        with step(7, report, slug):
            allowed = [config.templates_dir, config.cache_dir.resolve()]
            rendered = render_pdf(html, briefing.folder, allowed, html_name, report)
        with step(8, report, slug):
            assert rendered is not None
            verify_document(rendered, document, figures, report)
        rendered_files[variant] = write_pdf(rendered, report)
        pages[variant] = len(rendered.document.pages)
    if report.has_failures():
        raise ContentError(report, "checking the output")
    with step(9, report, slug):
        outputs = []
        for variant, data in rendered_files.items():
            path = config.output_path(variant)
            write_atomically(path, data)
            outputs.append(Output(path, pages.get(variant)))
        manifest_path = config.output_dir / f"{slug}.manifest.json"
        write_atomically(manifest_path, manifest.make_manifest(briefing, outputs, config))
    return BuildResult(slug, outputs, time.perf_counter() - started, report)


def validate_or_fail(files: ContentFiles, report: Diagnostics) -> Briefing:
    from .validate import validate_briefing

    briefing = validate_briefing(files, report)
    if briefing is None:
        raise ContentError(report, STAGES[1])
    return briefing


def _check_images(files: ContentFiles, document: ParsedDocument, report: Diagnostics) -> None:
    """Images are local files inside the briefing folder, nothing fetched."""
    for image in document.images:
        if "://" in image.path or image.path.startswith(("data:", "//")):
            report.error(image.location, f"image '{image.path}': only local files inside the briefing folder can be used")
            continue
        resolve_inside(files, LocatedStr(image.path, image.location), report)
