"""Corrections to citeproc-py, one per bug, where it disagrees with Pandoc's citeproc (the reference).

Each ``_fix_*`` patches one citeproc-py class once per process and is pinned by a test in
``tests/test_citations.py``; ``citations.py`` applies them with ``fix_citeproc()`` before
formatting. The differences that remain are listed in ``docs/citations.md``.
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


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


STATE = _RenderState()
_UNSUPPRESSIBLE = {"key", "type", "language"}
"""Reference fields citeproc-py reads for its own purposes, never printed, so never 'substituted'."""


@contextmanager
def rendering(author_substitute: str | None = None) -> Iterator[None]:
    state = STATE
    state.author_substitute, state.previous_author = author_substitute, None
    try:
        yield
    finally:
        state.author_substitute = None
        state.mode = None


def start_item(item: Any) -> None:
    STATE.mode = getattr(item, "briefing_mode", None)
    STATE.names_done = False
    STATE.names_depth = 0


def restore_substituted() -> None:
    """Put back the variables a ``cs:substitute`` emptied for the item just rendered."""
    while STATE.substituted:
        reference, key, value = STATE.substituted.pop()
        dict.__setitem__(reference, key, value)


def _mark_variable(rendered: bool) -> None:
    if STATE.groups:
        frame = STATE.groups[-1]
        frame.called = True
        frame.rendered = frame.rendered or rendered


def fix_citeproc() -> None:
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
        if STATE.used and key not in _UNSUPPRESSIBLE:
            STATE.used[-1].add(key)
            if key.endswith("_short"):
                STATE.used[-1].add(key[: -len("_short")])

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
        STATE.substitute_parents.append(self.getparent())
        try:
            for child in self.iterchildren():
                STATE.used.append(set())
                try:
                    text = child.render(item, context=context, **kwargs)
                except VariableError:
                    text = None
                finally:
                    used = STATE.used.pop()
                if text:
                    if STATE.used:
                        STATE.used[-1].update(used)
                    for key in used:
                        if key in item.reference:
                            STATE.substituted.append((item.reference, key, dict.pop(item.reference, key)))
                    return text
            return None
        finally:
            STATE.substitute_parents.pop()

    model.Substitute.render = render


def _fix_names(model: Any) -> None:
    """Shorthand names inherit from the substituted parent; the first names element obeys the mode."""
    from citeproc.source import VariableError

    original_process = model.Names.process
    original_render = model.Names.render

    def process(self: Any, item: Any, names_context: Any = None, context: Any = None, **kwargs: Any) -> Any:
        if names_context is None and len(self) == 0 and STATE.substitute_parents:
            names_context = STATE.substitute_parents[-1]
        try:
            text = original_process(self, item, names_context=names_context, context=context, **kwargs)
        except VariableError:
            _mark_variable(False)
            raise
        _mark_variable(bool(text))
        return text

    def render(self: Any, item: Any, *args: Any, **kwargs: Any) -> Any:
        state = STATE
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
        STATE.groups.append(frame)
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
            STATE.groups.pop()
        success = bool(output) and (not frame.called or frame.rendered)
        if STATE.groups:
            parent = STATE.groups[-1]
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
        start_item(item)
        if mode:
            STATE.mode = mode
        STATE.captured = None
        layout.repressed = {}
        try:
            text = layout.render_children(item)
        except VariableError:
            text = None
        finally:
            restore_substituted()
            STATE.mode = None
        names = str(STATE.captured) if STATE.captured else None
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
            substituted = {key for reference, key, _ in STATE.substituted if reference is item.reference}
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
            results.append((self.get("disambiguate") == "true") == (item.key in STATE.disambiguate))
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
            restore_substituted()
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
