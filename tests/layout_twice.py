"""The layout-twice algorithm single layout replaced, kept as an independent reference.

The whole briefing as one HTML document (the old References markup in the body template's
``references`` block, back-links printed by ``target-counter``), laid out; back-links reduced to
the first citation on each page and blank pages added for binding; laid out again. The
equivalence tests compare a build with its result, and the benchmark times the raw engine on its
final HTML (the whole document, laid out once).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from briefing.config import BuildConfig, Variant, page_geometry
from briefing.editions import edition, page_multiple_for
from briefing.errors import Diagnostics
from briefing.model_text import Citations
from briefing.pipeline import _prepare
from briefing.render_html import render_html
from briefing.render_pdf import RenderedDocument, render_pdf, variant_options, variant_resource_dirs

WHOLE_TEMPLATE = """{% extends "body.html" %}
{% block references %}
<style>
.bibliography .cited-on a::after { content: target-counter(attr(href url), page); font-variant-numeric: lining-nums; }
</style>
{% if bibliography %}
<section class="references" id="references">
  <h1 class="back-heading">{{ t['references'] }}</h1>
  <ol class="bibliography">
  {% for entry in bibliography %}
    <li id="ref-{{ entry.key }}">{{ entry.html | safe }}
      {%- if entry.cited_in %} <span class="cited-on">
      {{- t['cited-on-page'] if entry.cited_in | length == 1 else t['cited-on-pages'] }}&nbsp;{% for index in entry.cited_in -%}
      <a href="#cite-{{ index }}"></a>{% if not loop.last %}, {% endif %}{% endfor %}</span>{% endif -%}
    </li>
  {% endfor %}
  </ol>
</section>
{% endif %}
{% for _ in range(tail_pages) %}<div class="blank-page" aria-hidden="true"></div>
{% endfor %}
{% endblock %}
"""
"""``tail_pages`` are the blank pages of a bound edition here, as ``blank_pages`` were."""


@dataclass(frozen=True)
class Whole:
    rendered: RenderedDocument
    html: str
    layouts: int


def layout_twice(config: BuildConfig, variant: Variant) -> Whole:
    """Lay out the whole document, then again with the back-links one per page and the padding."""
    report = Diagnostics()
    editions = _prepare(config, report)
    spec = edition(variant)
    geometry = page_geometry(spec.folded, editions.paper)
    figures = editions.figures_for(geometry)
    prepared = editions.prepared
    with tempfile.TemporaryDirectory() as folder:
        templates = _whole_templates(config.templates_dir, Path(folder))

        def html(citations: Citations, blank: int) -> str:
            return render_html(
                prepared.briefing, prepared.document, citations, figures, geometry, variant, templates,
                editions.built, report, blank,
            )

        def layout(text: str) -> RenderedDocument:
            allowed = [config.templates_dir, config.cache_dir.resolve(), *variant_resource_dirs(variant)]
            return render_pdf(
                text, prepared.briefing.folder, allowed, templates / "briefing.html", report,
                editions.image_locations, **variant_options(variant),
            )

        citations = prepared.citations
        text = html(citations, 0)
        rendered, layouts = layout(text), 1
        multiple = page_multiple_for(spec, prepared.briefing.print_settings.stitched)
        reduced = _one_backlink_per_page(rendered, citations)
        citations = reduced or citations
        blank, needed = 0, -len(rendered.document.pages) % multiple
        while reduced is not None or needed != blank:
            text = html(citations, needed)
            rendered, layouts = layout(text), layouts + 1
            reduced, blank = None, needed
            needed = -(len(rendered.document.pages) - blank) % multiple
    assert not report.errors, report.items
    return Whole(rendered, text, layouts)


def _whole_templates(templates_dir: Path, folder: Path) -> Path:
    """The project's templates, with ``briefing.html`` the whole document (the real one is ``body.html``)."""
    for path in templates_dir.iterdir():
        (folder / ("body.html" if path.name == "briefing.html" else path.name)).symlink_to(path)
    (folder / "briefing.html").write_text(WHOLE_TEMPLATE, encoding="utf-8")
    return folder


def _one_backlink_per_page(rendered: RenderedDocument, citations: Citations) -> Citations | None:
    """Back-links reduced to the first citation on each page, or None if none repeat."""
    page_of: dict[str, int] = {}
    for index, page in enumerate(rendered.document.pages):
        for name in page.anchors:
            page_of.setdefault(name, index)
    entries: list[Any] = []
    for entry in citations.bibliography:
        seen: set[int | None] = set()
        kept = []
        for cluster in entry.cited_in:
            page = page_of.get(f"cite-{cluster}")
            if page not in seen:
                seen.add(page)
                kept.append(cluster)
        entries.append(replace(entry, cited_in=tuple(kept)))
    if all(new.cited_in == old.cited_in for new, old in zip(entries, citations.bibliography, strict=True)):
        return None
    return replace(citations, bibliography=tuple(entries))
