"""Model + parsed Markdown + citations + figures -> one HTML document, through Jinja templates."""

from __future__ import annotations

import base64
import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from .colour_vision import lightened
from .config import PageGeometry, Variant
from .editions import edition
from .errors import Diagnostics, SourceLocation
from .fonts import SCRIPT_FACES
from .i18n import Language, load_language, resolve_language
from .model import Briefing, DrawnFigure, Theme, TimelineEvent, TimelineFigureSpec
from .model_html import HtmlWriter, RenderContext, WrittenEntry, runs_html, written_bibliography
from .model_text import Citation, Citations, CrossRef, Fragment, Node, ParsedDocument, Text, TimelineFigure, walk
from .render_web import WebNotes, backlinks, citation_places, contents_tree, web_fragment
from .template_env import make_sandbox
from .theme_context import theme_asset_dirs, theme_context, theme_font_faces
from .web_fonts import web_fonts

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
    ("Noto Serif Hebrew", "normal", 400): "NotoSerifHebrew-Regular.ttf",
    ("Noto Serif Hebrew", "normal", 700): "NotoSerifHebrew-Bold.ttf",
    ("Noto Sans Hebrew", "normal", 400): "NotoSansHebrew-Regular.ttf",
    ("Noto Sans Hebrew", "normal", 700): "NotoSansHebrew-Bold.ttf",
    **{(f"Noto {kind} {script}", "normal", weight): f"Noto{kind}{script}-{name}.ttf"
       for script in SCRIPT_FACES for kind in ("Serif", "Sans") for weight, name in ((400, "Regular"), (700, "Bold"))},
    ("Noto Sans Symbols", "normal", 400): "NotoSansSymbols-Regular.ttf",
    ("Noto Sans Symbols 2", "normal", 400): "NotoSansSymbols2-Regular.ttf",
    ("Noto Sans Math", "normal", 400): "NotoSansMath-Regular.ttf",
    ("Noto Sans Mono", "normal", 400): "NotoSansMono-Regular.ttf",
    ("Noto Sans Mono", "normal", 700): "NotoSansMono-Bold.ttf",
}
"""The vendored fonts (templates/fonts/), the only ones a PDF may embed."""


MEDIA_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


@dataclass(frozen=True)
class ChronologyRow:
    event: TimelineEvent
    summary_html: Markup
    sources_html: Markup


def partial_names(name: str, own_folder: str | None) -> list[str]:
    """An edition's own version of a partial (``partials/web/`` for the web edition) wins where there is one."""
    generic = f"partials/{name}.html"
    return [f"partials/{own_folder}/{name}.html", generic] if own_folder else [generic]


def make_environment(templates_dir: Path, theme: Theme | None = None) -> jinja2.Environment:
    """The one Jinja environment: the theme's overrides first, sandboxed (see ``template_env``)."""
    env = make_sandbox(templates_dir, theme or Theme())
    env.filters["runs"] = runs
    env.filters["css_string"] = css_string
    env.filters["readable_on"] = lightened  # a theme colour for a dark page: its own hue, reading at 4.5:1
    return env


def runs(value: str) -> Markup:
    """A finished text of a data file as page text: its languages and names marked (``{{ event.title | runs }}``).

    Only where the text is the content of an element: in an attribute or a ``<title>`` the plain
    text is what is wanted, and what ``{{ event.title }}`` prints.
    """
    return Markup(runs_html(value.runs)) if isinstance(value, Text) else Markup.escape(value)


def css_string(text: str) -> Markup:
    """Text as a CSS string literal inside the page's <style> (page furniture in a translated language).

    Escaped for CSS, not HTML: quotes, backslashes and anything that could close the style element.
    """
    escaped = "".join(f"\\{ord(char):x} " if char in '\\"<>&\n' else char for char in text)
    return Markup(f'"{escaped}"')


def render_html(
    briefing: Briefing,
    document: ParsedDocument,
    citations: Citations,
    figures: dict[str, tuple[DrawnFigure, ...]],
    geometry: PageGeometry,
    variant: Variant,
    templates_dir: Path,
    built: dt.datetime,
    report: Diagnostics,
    tail_pages: int = 0,
    handout_fit: int = 0,
    cache_dir: Path | None = None,
    tail_to_verso: bool = False,
) -> str:
    """Render the briefing up to its References (laid out apart: ``render_references``).

    Template errors become located diagnostics. ``tail_pages`` follow the References' placeholder
    page to be dropped after layout: they make the engine's page count the whole document's (with
    ``tail_to_verso``, the last on a left-hand page: the engine pads to an even count);
    ``handout_fit`` is how far the handout is condensed to fit its page (see ``HANDOUT_FIT_STEPS``);
    ``cache_dir`` keeps the web edition's font subsets from one build to the next.
    """
    env, language = _environment(briefing, templates_dir)
    spec = edition(variant)
    web = WebNotes() if spec.screen else None
    inline_assets = spec.inline_assets
    excerpt = spec.excerpt  # cross-references point to pages the handout does not have
    with_figure = handout_fit != HANDOUT_FIT_STEPS - 1
    handout = _handout(document, citations, with_figure) if excerpt else None
    included = {handout.figure.id} if handout and handout.figure else set()
    titles = {heading.id: heading.text for heading in document.headings}

    asset_url = _asset_urls(briefing, figures, inline_assets)

    def partial(name: str, **context: Any) -> Markup:
        if web is not None:
            context = web.partial_context(name, context)
        try:  # partials rendered from Markdown run outside the page's render: a theme's override may fail here
            template = env.select_template(partial_names(name, spec.partials))
            return Markup(template.render(
                figures=figures, asset_url=asset_url, excerpt=excerpt, included=included, titles=titles,
                variant=variant.value, edition=spec, t=language, page=geometry, **context,
            ))
        except jinja2.TemplateError as error:
            _report_template_error(error, templates_dir, report)
            return Markup("")

    render_context = RenderContext(citations.clusters, document.targets, partial, language=language.tag)
    writer = HtmlWriter(render_context)

    def markdown(fragment: Fragment | None) -> Markup:
        # The one place written Markdown is marked safe: the writer escapes all content text.
        html = Markup(writer.fragment(fragment)) if fragment else Markup("")
        return web_fragment(html) if web is not None else html

    # In reading order: the web edition numbers its notes as they are rendered.
    bottom_line = markdown(document.bottom_line)
    summary = markdown(document.summary)
    sections = [markdown(fragment) for fragment in document.sections]  # also collects figure captions
    events = briefing.timeline.events
    rows = [
        ChronologyRow(
            event,
            markdown(document.event_summaries[i]),
            partial("chronology_sources", citation=writer.citation(citations.clusters[c.index]))
            if (c := document.event_citations[i]) else Markup(""),
        )
        for i, event in enumerate(events)
    ]
    rows.sort(key=lambda row: row.event.date.sort_key())
    appendices = [markdown(fragment) for fragment in document.appendices]  # after the chronology, as printed
    context = _page_context(briefing, geometry, variant, templates_dir, built, language, asset_url) | {
        "briefing": briefing,
        "summary": summary,
        "sections": sections,
        "headings": document.headings,
        "chronology": rows,
        "timeline": briefing.timeline,
        "bibliography": written_bibliography(citations),
        "figures": figures,
        "tail_pages": tail_pages,
        "tail_to_verso": tail_to_verso,
        "handout": handout,
        "handout_fit": handout_fit,
        "bottom_line": bottom_line,
        "appendices": appendices,
        "figure_list": document.figure_list if briefing.lists.figures else [],
        "table_list": document.table_list if briefing.lists.tables else [],
        "revisions": briefing.revisions,
        "captions": {key: Markup(html) for key, html in render_context.captions.items()},  # rendered Markdown
    }
    if web is not None:
        places = citation_places(document)
        context |= {
            "notes": web.notes,
            "backlinks": {e.key: backlinks(e.cited_in, places) for e in citations.bibliography},
            "contents": contents_tree([h for h in document.headings if not h.appendix]),
            "appendix_contents": contents_tree([h for h in document.headings if h.appendix]),
            "web_fonts": [],
        }
    try:
        template = env.get_template(spec.template)
        if web is None:
            return template.render(**context)
        # Rendered once to learn the page's characters, then again with the fonts subset to them.
        page = template.render(**context)
        theme = briefing.theme
        context["web_fonts"] = web_fonts(page, templates_dir / "fonts", cache_dir,
                                         [f for f in theme.fonts if f not in theme.fallback_fonts], theme.fallback_fonts)
        return template.render(**context)
    except jinja2.TemplateError as error:
        _report_template_error(error, templates_dir, report)
    return ""


@dataclass(frozen=True)
class ReferencesPart:
    """Where the References fall in the joined document, known once the body is laid out."""

    cited_pages: Mapping[str, tuple[tuple[int, int], ...]]
    """Per work, its citations that open a page, as (citation number, page): the back-links."""
    first_page: int
    total_pages: int
    blank_pages: int
    """Padding for binding (an even page count, or a multiple of four) after the References."""


def render_references(
    briefing: Briefing,
    citations: Citations,
    geometry: PageGeometry,
    variant: Variant,
    templates_dir: Path,
    built: dt.datetime,
    part: ReferencesPart,
    report: Diagnostics,
) -> str:
    """The References as a document of their own, folios and back-links printed from the body's pages.

    The engine cannot start its page counter past another document's pages, nor count pages it
    has not laid out, so the numbers come in as text.
    """
    env, language = _environment(briefing, templates_dir)
    asset_url = _asset_urls(briefing, {}, edition(variant).inline_assets)
    context = _page_context(briefing, geometry, variant, templates_dir, built, language, asset_url) | {
        "bibliography": written_bibliography(citations),
        "cited_pages": part.cited_pages,
        "first_page": part.first_page,
        "starts_left": edition(variant).bound and part.first_page % 2 == 0,
        "page_total": css_string(str(part.total_pages)),
        "blank_pages": part.blank_pages,
    }
    try:
        return env.get_template(REFERENCES_TEMPLATE).render(**context)
    except jinja2.TemplateError as error:
        _report_template_error(error, templates_dir, report)
    return ""


REFERENCES_TEMPLATE = "references.html"


def _environment(briefing: Briefing, templates_dir: Path) -> tuple[jinja2.Environment, Language]:
    tag = resolve_language(briefing.metadata.language, templates_dir) or "en"
    return _language_environment(templates_dir, briefing.theme, tag), load_language(tag, templates_dir)


@functools.lru_cache(maxsize=8)
def _language_environment(templates_dir: Path, theme: Theme, tag: str) -> jinja2.Environment:
    """Made once per templates, theme and language: an edition renders its HTML several times (the
    body, the References, a wrong guess of the tail, the handout's fits), and each new environment
    would compile every template again. Jinja reloads a template whose file changed."""
    env = make_environment(templates_dir, theme)
    language = load_language(tag, templates_dir)
    env.filters["long_date"] = language.long_date
    env.filters["partial_date"] = language.partial_date
    return env


def _asset_urls(
    briefing: Briefing, figures: Mapping[str, tuple[DrawnFigure, ...]], inline_assets: bool,
) -> Callable[[Path | str], str]:
    drawn = {p.parent for parts in figures.values() for f in parts for p in (f.svg_path, f.print_svg_path, f.html_svg_path) if p}
    readable = [briefing.folder, *theme_asset_dirs(briefing.theme), *(folder.resolve() for folder in drawn)]

    def asset_url(path: Path | str) -> str:
        """Local files only: figures from the cache, images from the briefing folder, the theme's logo.

        Overriding templates call this too: it serves nothing from outside those folders.
        """
        resolved = (briefing.folder / path).resolve()
        if not any(resolved.is_relative_to(folder) for folder in readable):
            raise jinja2.TemplateRuntimeError(f"asset_url: '{path}' is outside the briefing folder")
        return _data_uri(resolved) if inline_assets else resolved.as_uri()

    return asset_url


def _page_context(
    briefing: Briefing, geometry: PageGeometry, variant: Variant, templates_dir: Path, built: dt.datetime,
    language: Language, asset_url: Callable[[Path | str], str],
) -> dict[str, Any]:
    """What every page template and print.css read: the page, the fonts, the theme, the language."""
    spec = edition(variant)
    return {
        "meta": briefing.metadata,
        "page": geometry,
        "variant": variant.value,
        "fonts": [(family, style, weight, (templates_dir / "fonts" / name).as_uri())
                  for (family, style, weight), name in FONT_FILES.items()] + theme_font_faces(briefing.theme),
        "theme": theme_context(briefing.theme, asset_url),
        "inline_assets": spec.inline_assets,
        "built": built.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "press": _press_profiles(briefing) if spec.press else None,
        "bound": spec.bound,
        "t": language,
        "edition": spec,
        "page_total": Markup("counter(pages)"),
    }


def _report_template_error(error: jinja2.TemplateError, templates_dir: Path, report: Diagnostics) -> None:
    if isinstance(error, jinja2.TemplateSyntaxError):
        report.error(SourceLocation(Path(error.filename or "templates"), error.lineno), f"template: {error.message}")
    else:
        report.error(_template_location(error, templates_dir), f"template: {error}")


@dataclass(frozen=True)
class PressProfiles:
    cmyk_url: str
    srgb_url: str


def _press_profiles(briefing: Briefing) -> PressProfiles:
    from .render_pdf import CMYK_PROFILE, srgb_profile

    cmyk = briefing.print_settings.profile or CMYK_PROFILE  # the print shop's own, when briefing.yaml names it
    return PressProfiles(cmyk.as_uri(), srgb_profile().as_uri())


HANDOUT_FIT_STEPS = 4
"""How far a handout is condensed, in order, until it fills one page: 0 as designed; 1 the sources
in two columns at a smaller size; 2 the figure at a smaller size too; 3 the figure left out."""
HANDOUT_ROOMY = -1
"""The other way: larger type, for a handout that needs two pages but would leave the second nearly empty."""


@dataclass(frozen=True)
class Handout:
    """What the handout shows besides the key judgments: the figure they cite and the works cited."""

    figure: TimelineFigureSpec | None
    figure_number: str | None
    sources: tuple[WrittenEntry, ...]


def handout_figure(document: ParsedDocument) -> TimelineFigureSpec | None:
    """The timeline figure the key judgments (or the bottom line) refer to: the handout's, if any."""
    referred = [node.id for node in _front(document) if isinstance(node, CrossRef)]
    return next((spec for spec in document.timeline_figures if spec.id in referred), None)


def _front(document: ParsedDocument) -> list[Node]:
    """The bottom line and the key judgments, without their notes' text."""
    return [node for fragment in (document.bottom_line, document.summary) if fragment is not None
            for node in walk(fragment.blocks, notes=False)]


def _handout(document: ParsedDocument, citations: Citations, with_figure: bool) -> Handout:
    """The figure is the timeline figure the key judgments refer to (none if they refer to none)."""
    figure = handout_figure(document) if with_figure else None
    cited = _cited_keys(_front(document), citations)
    if figure:
        cited |= _cited_keys(_figure_caption(document, figure), citations)
    number = document.targets[figure.id].number if figure and figure.id in document.targets else None
    sources = tuple(entry for entry in written_bibliography(citations) if entry.key in cited)
    return Handout(figure, number, sources)


def _figure_caption(document: ParsedDocument, figure: TimelineFigureSpec) -> list[Node]:
    for fragment in [*document.sections, *document.appendices]:
        for node in walk(fragment.blocks, notes=False):
            if isinstance(node, TimelineFigure) and node.spec is figure:
                return list(walk(node.caption, notes=False))
    return []


def _cited_keys(nodes: list[Node], citations: Citations) -> set[str]:
    return {key for node in nodes if isinstance(node, Citation) for key in citations.clusters[node.cluster.index].keys}


def _template_location(error: Exception, templates_dir: Path) -> SourceLocation:
    """Find the template frame in the traceback, as Jinja rewrites it."""
    traceback = error.__traceback__
    location = SourceLocation(templates_dir)
    while traceback is not None:
        filename = traceback.tb_frame.f_code.co_filename
        if filename.endswith((".html", ".css")):
            location = SourceLocation(Path(filename), traceback.tb_lineno)
        traceback = traceback.tb_next
    return location


def _data_uri(path: Path) -> str:
    """A local file as a data: URI, for the self-contained HTML preview."""
    kind = MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
