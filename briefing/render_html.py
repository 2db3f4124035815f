"""Model + parsed Markdown + citations + figures -> one HTML document, through Jinja templates."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from .citations import Citations
from .config import PageGeometry, Variant
from .errors import Diagnostics, SourceLocation, TemplateError
from .markdown import Fragment, ParsedDocument, RenderContext, render_fragment
from .model import Briefing, DrawnFigure, TimelineEvent

FONT_FILES = {
    ("Noto Serif", "normal", 400): "NotoSerif-Regular.ttf",
    ("Noto Serif", "italic", 400): "NotoSerif-Italic.ttf",
    ("Noto Serif", "normal", 700): "NotoSerif-Bold.ttf",
    ("Noto Serif", "italic", 700): "NotoSerif-BoldItalic.ttf",
    ("Noto Sans", "normal", 400): "NotoSans-Regular.ttf",
    ("Noto Sans", "italic", 400): "NotoSans-Italic.ttf",
    ("Noto Sans", "normal", 700): "NotoSans-Bold.ttf",
    ("Noto Naskh Arabic", "normal", 400): "NotoNaskhArabic-Regular.ttf",
    ("Noto Naskh Arabic", "normal", 700): "NotoNaskhArabic-Bold.ttf",
}
"""The vendored fonts (templates/fonts/), the only ones a PDF may embed."""


MEDIA_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


@dataclass(frozen=True)
class ChronologyRow:
    event: TimelineEvent
    summary_html: Markup
    sources_html: Markup


def make_environment(templates_dir: Path) -> jinja2.Environment:
    """The one Jinja environment: autoescaped, undefined names are errors, templates from disk only."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["date_range"] = _date_range
    return env


def _date_range(event: TimelineEvent) -> str:
    if event.end is None:
        return event.date.display()
    return f"{event.date.display()} – {event.end.display()}"


def render_html(
    briefing: Briefing,
    document: ParsedDocument,
    citations: Citations,
    figures: dict[str, DrawnFigure],
    geometry: PageGeometry,
    variant: Variant,
    templates_dir: Path,
    report: Diagnostics,
) -> str:
    """Render the whole briefing; template errors become located diagnostics."""
    env = make_environment(templates_dir)
    inline_assets = variant is Variant.HTML

    def asset_url(path: Path | str) -> str:
        """Local files only: figures from the cache, images from the briefing folder."""
        resolved = (briefing.folder / path).resolve()
        return _data_uri(resolved) if inline_assets else resolved.as_uri()

    def partial(name: str, **context: Any) -> Markup:
        template = env.get_template(f"partials/{name}.html")
        return Markup(template.render(figures=figures, asset_url=asset_url, **context))

    render_context = RenderContext(citations.clusters, document.targets, partial)

    def markdown(fragment: Fragment | None) -> Markup:
        # The one place rendered Markdown is marked safe: the renderer escapes all content text.
        return Markup(render_fragment(fragment, render_context)) if fragment else Markup("")

    events = briefing.timeline.events
    rows = [
        ChronologyRow(
            event,
            markdown(document.event_summaries[i]),
            partial("citation", citation=citations.clusters[c.index]) if (c := document.event_citations[i]) else Markup(""),
        )
        for i, event in enumerate(events)
    ]
    rows.sort(key=lambda row: row.event.date.sort_key())
    context = {
        "briefing": briefing,
        "meta": briefing.metadata,
        "summary": markdown(document.summary),
        "sections": [markdown(fragment) for fragment in document.sections],
        "headings": document.headings,
        "chronology": rows,
        "timeline": briefing.timeline,
        "bibliography": citations.bibliography,
        "page": geometry,
        "variant": variant.value,
        "fonts": [(family, style, weight, (templates_dir / "fonts" / name).as_uri())
                  for (family, style, weight), name in FONT_FILES.items()],
        "inline_assets": inline_assets,
    }
    try:
        return env.get_template("briefing.html").render(**context)
    except jinja2.TemplateSyntaxError as error:
        report.error(SourceLocation(Path(error.filename or "templates"), error.lineno), f"template: {error.message}")
    except jinja2.TemplateError as error:
        report.error(_template_location(error, templates_dir), f"template: {error}")
    return ""


def _template_location(error: Exception, templates_dir: Path) -> SourceLocation:
    """Find the template frame in the traceback, as Jinja rewrites it."""
    traceback = error.__traceback__
    location = SourceLocation(templates_dir)
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename
        if filename.endswith(".html") or filename.endswith(".css"):
            location = SourceLocation(Path(filename), traceback.tb_lineno)
        traceback = traceback.tb_next
    return location


def _data_uri(path: Path) -> str:
    """A local file as a data: URI, for the self-contained HTML preview."""
    kind = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
