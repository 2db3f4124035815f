"""Run the build stages in order; stop at the first stage that reports errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from . import layout_parts, manifest
from .citations import resolve_citations
from .config import (
    MAX_FIGURE_SHARE_OF_PAGE,
    PAGE_GEOMETRY,
    BuildConfig,
    PageGeometry,
    Variant,
    page_geometry,
    resolve_epoch,
)
from .editions import edition, page_multiple_for
from .errors import ContentError, Diagnostic, Diagnostics
from .figures import draw_figures
from .fonts import report_uncovered
from .i18n import load_language, resolve_language
from .images import check_images
from .impose import booklet_sheet_sides, impose_booklet
from .layout_parts import KeptLayouts
from .load import ContentFiles, load_content
from .log import PROGRESS_LOGGER
from .markdown import parse_document
from .model import Briefing, BuildResult, DrawnFigure, FigureStyle, Output, Paper
from .model_text import Citations, ParsedDocument
from .page_boxes import page_fill
from .processes import run_all, worker_pool
from .render_html import (
    HANDOUT_FIT_STEPS,
    HANDOUT_ROOMY,
    ReferencesPart,
    handout_figure,
    render_html,
    render_references,
)
from .render_pdf import (
    RenderedDocument,
    new_font_config,
    render_pdf,
    variant_options,
    variant_resource_dirs,
    write_pdf,
)
from .text_finish import finish_content, finish_figures
from .theme_context import theme_asset_dirs
from .theme_fonts import report_theme_uncovered
from .validate import validate_briefing
from .verify import HANDOUT_MAX_PAGES, VerifyContext, verify_document
from .write import write_set

STAGES = (
    "Loading content",
    "Validating content",
    "Parsing Markdown",
    "Resolving citations",
    "Drawing figures",
    "Rendering HTML",
    "Laying out pages",
    "Verifying layout",
    "Serialising PDF",
    "Writing files",
)


@dataclass(frozen=True)
class Prepared:
    """The content, checked and parsed once for every variant."""

    briefing: Briefing
    document: ParsedDocument
    citations: Citations
    texts: dict[Path, str] = field(default_factory=dict)
    """The content's text files as read, to point at a character when the layout finds a problem."""


@contextmanager
def step(
    number: int, report: Diagnostics, slug: str, gate: bool = True, announced: set[tuple[str, int]] | None = None,
) -> Iterator[None]:
    """Log the stage, run it, and stop the build if it added errors (later stages need valid input).

    ``gate=False`` lets the next stage run anyway when it can still find problems of its own,
    so one run reports every error in the content. A stage run again for the same edition (a
    second layout) is announced once: ``announced`` remembers what was said.
    """
    if announced is None or (slug, number) not in announced:
        PROGRESS_LOGGER.info("[%s] %d/%d %s", slug, number, len(STAGES), STAGES[number - 1])
        if announced is not None:
            announced.add((slug, number))
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
        check_images(files, document.images, report)
        report_uncovered(files.texts, config.templates_dir / "fonts", report, briefing.theme.fallback_fonts)
        report_theme_uncovered(files.texts, briefing.theme, config.templates_dir / "fonts", report)
    with step(4, report, slug):
        citations = resolve_citations(document, briefing, report, config.cache_dir.resolve() if config.use_cache else None)
        briefing, document, citations = finish_content(briefing, document, citations)  # the one text pass
    return Prepared(briefing, document, citations, files.texts)


def build(config: BuildConfig, report: Diagnostics | None = None, kept: KeptLayouts | None = None) -> BuildResult:
    """Turn ``config.content_dir`` into verified outputs in ``config.output_dir``.

    A long-lived process passes the same ``kept`` to every build: References it laid out serve again.
    """
    started = time.perf_counter()
    if report is None:
        report = Diagnostics(strict=config.strict)
    editions = _prepare(config, report, kept)
    editions.render_in_parallel(config.variants, config.workers)
    rendered_files = {variant: editions.render(variant) for variant in config.variants}
    if report.has_failures():
        raise ContentError(report, "checking the output")
    slug, briefing = config.slug, editions.prepared.briefing
    with step(10, report, slug):
        written = [(Output(config.output_path(v), e.pages), e.data) for v, e in rendered_files.items()]
        files = {output.path: data for output, data in written}
        files[config.manifest_path()] = manifest.make_manifest(briefing, written, config, editions.epoch)
        write_set(files, slug)
        outputs = [output for output, _ in written]
    theme = briefing.theme
    return BuildResult(slug, outputs, time.perf_counter() - started, report, theme_inputs=(*theme.files, *theme.folders))


def render_web_edition(config: BuildConfig, report: Diagnostics) -> bytes:
    """The web edition, in memory and written nowhere: what the live preview serves after each save."""
    editions = _prepare(config, report)
    edition = editions.render(Variant.HTML)
    if report.has_failures():
        raise ContentError(report, STAGES[5])
    return edition.data


def _prepare(config: BuildConfig, report: Diagnostics, kept: KeptLayouts | None = None) -> _Editions:
    """Stages 1-5, once for every edition: the content checked and parsed, the figures drawn."""
    prepared = check(config, report)
    epoch = config.epoch if config.epoch is not None else resolve_epoch(config.content_dir, config.generated_dirs())
    editions = _Editions(config, prepared, config.paper or prepared.briefing.metadata.paper, epoch, report, kept)
    editions.figures_for(PAGE_GEOMETRY[editions.paper])  # the digital edition's: most editions share them
    return editions


@dataclass(frozen=True)
class RenderedEdition:
    """An edition's bytes, and its page count for the summary and the manifest."""

    data: bytes
    pages: int | None = None


class _Editions:
    """Renders each variant once from the one parse of the content."""

    def __init__(
        self, config: BuildConfig, prepared: Prepared, paper: Paper, epoch: int, report: Diagnostics,
        kept: KeptLayouts | None = None,
    ) -> None:
        self.config, self.prepared, self.paper, self.report = config, prepared, paper, report
        self.kept = kept
        self.epoch = epoch
        self.built = dt.datetime.fromtimestamp(epoch, dt.UTC)
        folder = prepared.briefing.folder
        self.image_locations = {(folder / i.path).resolve().as_uri(): i.location for i in prepared.document.images}
        self.done: dict[Variant, RenderedEdition] = {}
        self.announced: set[tuple[str, int]] = set()
        """Stages already named in the progress lines, per edition."""
        self.figures: dict[PageGeometry, dict[str, tuple[DrawnFigure, ...]]] = {}
        """Timeline figures as drawn for each page size (the booklet's text is narrower)."""

    @cached_property
    def inputs_digest(self) -> str:
        """What the PDFs' identifiers are made from: hashed when a PDF is written (the preview never needs it)."""
        return manifest.inputs_digest(self.prepared.briefing, self.config.templates_dir, self.epoch)

    def _label(self, variant: Variant) -> str:
        return f"{self.config.slug} {variant.value}"

    def figures_for(self, geometry: PageGeometry) -> dict[str, tuple[DrawnFigure, ...]]:
        if geometry not in self.figures:
            config, briefing, document = self.config, self.prepared.briefing, self.prepared.document
            with step(5, self.report, config.slug, announced=self.announced):
                language = resolve_language(briefing.metadata.language, config.templates_dir) or "en"
                style = FigureStyle(
                    width_mm=geometry.text_width_mm,
                    font_dir=config.templates_dir / "fonts",
                    language=load_language(language, config.templates_dir),
                    max_height_mm=round(geometry.text_height_mm * MAX_FIGURE_SHARE_OF_PAGE, 1),
                    palette=briefing.theme.palette,
                    fallback_fonts=briefing.theme.fallback_fonts,
                )
                drawn = draw_figures(
                    document.timeline_figures, briefing.timeline, style, config.cache_dir.resolve(), self.report
                )
                self.figures[geometry] = finish_figures(drawn, briefing.metadata.language)
        return self.figures[geometry]

    def render(self, variant: Variant) -> RenderedEdition:
        if variant not in self.done:
            self.done[variant] = self._render(variant)
        return self.done[variant]

    def render_in_parallel(self, variants: Sequence[Variant], workers: int) -> None:
        """Lay out the PDF editions in worker processes, one core each (layout is CPU-bound Python).

        Workers are forked after the content is parsed and the figures drawn, so each starts
        with everything but the engine; their problems are merged into this build's report.
        """
        laid_out = [v for v in variants if edition(v).laid_out]
        if workers < 2 or len(laid_out) < 2:
            return
        with worker_pool(min(workers, len(laid_out)), fork=True) as pool:
            results = run_all(pool, self._render_detached, laid_out)
        for variant, (rendered, diagnostics) in zip(laid_out, results, strict=True):
            for diagnostic in diagnostics:
                self.report.add(diagnostic)
            if rendered is None:
                raise ContentError(self.report, STAGES[7])
            self.done[variant] = rendered

    def _render_detached(self, variant: Variant) -> tuple[RenderedEdition | None, list[Diagnostic]]:
        """Render in a worker: the edition, or None, and every problem it found."""
        self.report = Diagnostics(strict=self.config.strict)
        try:
            return self.render(variant), self.report.items
        except ContentError:
            return None, self.report.items

    def _render(self, variant: Variant) -> RenderedEdition:
        """Lay out (the body once, the References after it), verify, serialise."""
        config, report = self.config, self.report
        spec, settings = edition(variant), self.prepared.briefing.print_settings
        citations = self.prepared.citations
        geometry = page_geometry(spec.folded, self.paper)
        figures = self.figures_for(geometry)
        if not spec.laid_out:
            return RenderedEdition(self._html(variant, citations, geometry, figures).encode("utf-8"))
        if spec.excerpt:
            rendered = self._fit_handout(variant, citations, geometry, figures)
        else:
            rendered = self._lay_out_parts(variant, citations, geometry, figures)
        with step(8, report, self._label(variant), announced=self.announced):
            context = VerifyContext(
                self.prepared.document, figures, config.templates_dir / "fonts", self.prepared.texts,
                self.image_locations, self.prepared.briefing.metadata.title_location,
                self.prepared.briefing.theme.fallback_fonts,
            )
            verify_document(rendered, context, report, variant)
        document_id = hashlib.sha256(f"{variant.value}\n{self.inputs_digest}".encode()).hexdigest()
        # nested resources of SVG images are fetched while drawing
        with step(9, report, self._label(variant), announced=self.announced):
            data = write_pdf(rendered, report, variant, document_id, settings)
            pages = len(rendered.document.pages)
            if spec.folded:
                data = impose_booklet(data)
                pages = booklet_sheet_sides(pages)
        return RenderedEdition(data, pages)

    def _fit_handout(
        self, variant: Variant, citations: Citations, geometry: PageGeometry,
        figures: dict[str, tuple[DrawnFigure, ...]],
    ) -> RenderedDocument:
        """One full page, or two with the second at least half full.

        A handout as designed that runs to a well-filled second page is kept; one that spills a
        few lines is condensed (sources in columns, the figure smaller, then without the figure)
        until it fits one page. If nothing fits one page, it is set roomier (larger type) so that
        the second page is worth printing, or else kept as designed.
        """
        fallback: RenderedDocument | None = None
        # Without a figure, the steps that shrink or drop it would lay out the same page again.
        steps = range(HANDOUT_FIT_STEPS) if handout_figure(self.prepared.document) else range(2)
        for fit in (*steps, HANDOUT_ROOMY):
            rendered = self._layout(variant, self._html(variant, citations, geometry, figures, handout_fit=fit))
            pages = len(rendered.document.pages)
            if pages == 1 and fit != HANDOUT_ROOMY:
                return rendered
            if pages == 2 and fit in (0, HANDOUT_ROOMY) and page_fill(rendered.document.pages[-1]) >= HANDOUT_MIN_LAST_PAGE_FILL:
                return rendered
            if fallback is None and pages <= HANDOUT_MAX_PAGES:
                fallback = rendered
        return fallback or rendered  # too long even condensed: the layout check says what spills over

    def _lay_out_parts(
        self, variant: Variant, citations: Citations, geometry: PageGeometry,
        figures: dict[str, tuple[DrawnFigure, ...]],
    ) -> RenderedDocument:
        """The body laid out once, the References (and padding for binding) after it, joined."""
        briefing, config = self.prepared.briefing, self.config
        font_config = new_font_config()
        parts = layout_parts.Parts(
            body_html=lambda tail, to_verso: self._html(variant, citations, geometry, figures, tail_pages=tail,
                                                        tail_to_verso=to_verso),
            references_html=lambda part: self._references_html(variant, citations, geometry, part),
            layout=lambda html: self._layout(variant, html, font_config),
            layout_references=lambda html: self._layout(variant, html, font_config, keep=True),
        )
        multiple = page_multiple_for(edition(variant), briefing.print_settings.stitched)
        guess = layout_parts.recall(config, variant, geometry)
        estimate = 0 if guess is not None else layout_parts.estimate_reference_pages(
            parts, citations, geometry, self._source_chars())
        rendered, counts = layout_parts.lay_out(parts, citations, multiple, guess, estimate)
        layout_parts.remember(config, variant, geometry, counts)
        return rendered

    def _source_chars(self) -> int:
        """The length of the body's Markdown, from which a cold build estimates its pages."""
        document = self.prepared.document
        fragments = [document.bottom_line, document.summary, *document.sections, *document.appendices,
                     *document.event_summaries]
        return sum(len(fragment.source.text) for fragment in fragments if fragment is not None)

    def _html(
        self, variant: Variant, citations: Citations, geometry: PageGeometry,
        figures: dict[str, tuple[DrawnFigure, ...]], tail_pages: int = 0, handout_fit: int = 0,
        tail_to_verso: bool = False,
    ) -> str:
        briefing, document = self.prepared.briefing, self.prepared.document
        with step(6, self.report, self._label(variant), announced=self.announced):
            return render_html(
                briefing, document, citations, figures, geometry, variant, self.config.templates_dir,
                self.built, self.report, tail_pages, handout_fit, cache_dir=self.config.cache_dir.resolve(),
                tail_to_verso=tail_to_verso,
            )

    def _references_html(
        self, variant: Variant, citations: Citations, geometry: PageGeometry, part: ReferencesPart,
    ) -> str:
        with step(6, self.report, self._label(variant), announced=self.announced):
            return render_references(
                self.prepared.briefing, citations, geometry, variant, self.config.templates_dir, self.built, part,
                self.report,
            )

    def _layout(self, variant: Variant, html: str, font_config: Any = None, keep: bool = False) -> RenderedDocument:
        """Lay out ``html``; with ``keep``, a layout of the same HTML kept from an earlier build serves."""
        config = self.config
        allowed = [config.templates_dir, config.cache_dir.resolve(), *variant_resource_dirs(variant),
                   *theme_asset_dirs(self.prepared.briefing.theme)]
        template = config.templates_dir / edition(variant).template

        def lay_out(report: Diagnostics) -> RenderedDocument:
            return render_pdf(
                html, self.prepared.briefing.folder, allowed, template, report, self.image_locations,
                font_config, **variant_options(variant),
            )

        with step(7, self.report, self._label(variant), announced=self.announced):
            if keep and self.kept is not None:
                return self.kept.lay_out(variant.value, html, lay_out, self.report)
            return lay_out(self.report)


HANDOUT_MIN_LAST_PAGE_FILL = 0.5
"""A handout's second page is worth printing only when at least half of it is used."""


def validate_or_fail(files: ContentFiles, report: Diagnostics) -> Briefing:
    briefing = validate_briefing(files, report)
    if briefing is None:
        raise ContentError(report, STAGES[1])
    return briefing
