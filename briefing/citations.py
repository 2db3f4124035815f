"""Citation clusters + reference files + a CSL style -> formatted citations and a bibliography.

The CSL processor is Pandoc's citeproc, the reference implementation (the one Pandoc and Quarto
use), run once per build: every cluster becomes one paragraph of a pandoc JSON document, in
reading order, so that "ibid.", subsequent-author substitution and disambiguation behave as in
the real document; the bibliography files are given to pandoc as they were read, so BibTeX,
CSL-JSON and CSL-YAML mean what they mean to every Pandoc user. Each cluster's inlines and the
``refs`` div are read back and mapped to the document model (``pandoc_model.py``); notes of a note style become
our footnotes. Our own work is what a compiler adds: keys checked and located before pandoc
runs, pandoc's errors located in our files, and a cache keyed by content.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from .csl_style import compact_style
from .errors import Diagnostics, SourceLocation, did_you_mean
from .model import Briefing, CitationKey, Reference, ReferenceFile
from .model_text import BibliographyEntry, CitationCluster, CitationItem, Citations, Inline, ParsedDocument, RenderedCitation
from .pandoc import PandocResult, PandocUnavailableError, run_pandoc
from .pandoc_model import Json, pandoc_blocks, pandoc_inlines, stripped

ALL_REFERENCES = "*"
"""``nocite: ["*"]`` lists every reference, as Pandoc's ``nocite: "@*"``."""
PANDOC_API_VERSION = [1, 23, 1]
CACHE_FORMAT = 2
"""Bump when the shape of what is cached changes (the reading code is in the key by its own hash)."""
_SUFFIXES = {"biblatex": ".bib", "bibtex": ".bibtex", "csljson": ".json", "yaml": ".yaml"}


@dataclass(frozen=True)
class _Formatted:
    """What pandoc returned, the parts we read as pandoc's JSON: the cached part of the stage."""

    clusters: list[Json]
    """Each cluster's Cite inlines (a note style's note among them), mapped to the model on use."""
    bibliography: list[tuple[str, Json]]
    warnings: list[str]


def resolve_citations(
    document: ParsedDocument, briefing: Briefing, report: Diagnostics, cache_dir: Path | None = None
) -> Citations:
    """Check every key, then format every cluster and the bibliography of works cited (cached in ``cache_dir``)."""
    references = {r.key: r for r in briefing.references}
    for cluster in document.citations:
        for item in cluster.items:
            if item.key not in references:
                report.error(item.location, _unknown_key_message(item.key, references, len(briefing.reference_files)))
    nocite = _nocite_keys(briefing.metadata.nocite, references, report, len(briefing.reference_files))
    empty = Citations((), (), briefing.metadata.citation_style)
    if briefing.style is None or not (document.citations or nocite or briefing.reference_files):
        return empty
    # Pandoc runs even after an unknown key: its own errors (a BibTeX syntax error) belong in the same report.
    formatted = _formatted(document.citations, nocite, briefing, report, cache_dir)
    if formatted is None or report.errors:
        return empty
    note_style = bool(_NOTE_CLASS.search(briefing.style.text))
    return _citations(document.citations, formatted, briefing.metadata.citation_style, note_style)


_NOTE_CLASS = re.compile(r"<style\b[^>]*\bclass=\"note\"")


def _unknown_key_message(key: str, references: dict[str, Reference], files: int = 1) -> str:
    if not files:
        return f"citation '@{key}' but the briefing names no 'references' file"
    if not references:
        return f"unknown citation key '{key}' (the reference files define no entries)"
    return f"unknown citation key '{key}'{did_you_mean(key, references)}"


def _nocite_keys(
    nocite: tuple[CitationKey, ...], references: dict[str, Reference], report: Diagnostics, files: int
) -> list[str]:
    keys: list[str] = []
    for entry in nocite:
        if entry.key == ALL_REFERENCES:
            keys.extend(references)
        elif entry.key in references:
            keys.append(entry.key)
        else:
            report.error(entry.location, f"nocite: {_unknown_key_message(entry.key, references, files)}")
    return list(dict.fromkeys(keys))


def _citations(clusters: list[CitationCluster], formatted: _Formatted, style: str, note_style: bool) -> Citations:
    cited_in: dict[str, list[int]] = {}
    for cluster in clusters:
        for key in dict.fromkeys(item.key for item in cluster.items):
            cited_in.setdefault(key, []).append(cluster.index)
    rendered = []
    for cluster, inlines in zip(clusters, formatted.clusters, strict=True):
        notes: list[tuple[Inline, ...]] = []
        words = stripped(pandoc_inlines(inlines, notes.append))
        keys = tuple(item.key for item in cluster.items)
        rendered.append(RenderedCitation(words, keys, cluster.index, notes[0] if notes else None))
    entries = tuple(BibliographyEntry(key, pandoc_blocks(blocks), tuple(cited_in.get(key, ())))
                    for key, blocks in formatted.bibliography)
    return Citations(tuple(rendered), entries, style, note_style)


# -- the pandoc document ----------------------------------------------------------------------


def pandoc_document(clusters: list[CitationCluster], nocite: list[str], language: str) -> dict[str, Any]:
    """One paragraph per cluster, in reading order, then the ``refs`` div pandoc fills."""
    # No ``link-citations``: our template links each citation to its entry, and pandoc's links
    # would keep a period outside a closing quotation mark where pandoc's own output moves it in.
    meta: dict[str, Json] = {"lang": {"t": "MetaString", "c": language}}
    if nocite:
        citations = [_citation(CitationItem(key, _NOWHERE), "NormalCitation") for key in nocite]
        meta["nocite"] = {"t": "MetaInlines", "c": [{"t": "Cite", "c": [citations, []]}]}
    blocks: list[Json] = [_paragraph(cluster) for cluster in clusters]
    blocks.append({"t": "Div", "c": [["refs", [], []], []]})
    return {"pandoc-api-version": PANDOC_API_VERSION, "meta": meta, "blocks": blocks}


_NOWHERE = SourceLocation(Path("."))


def _paragraph(cluster: CitationCluster) -> Json:
    """A cluster written in a footnote stands in a note, as in Pandoc: a note style then formats it
    in the note's text instead of making a note of its own."""
    if cluster.in_note:  # with text before it, as in a real note (a note that is only a citation is one)
        words = [{"t": "Str", "c": "Note"}, {"t": "Space"}, _cite(cluster)]
        return {"t": "Para", "c": [{"t": "Note", "c": [{"t": "Para", "c": words}]}]}
    return {"t": "Para", "c": [_cite(cluster)]}


def _cite(cluster: CitationCluster) -> Json:
    citations = []
    for item in cluster.items:
        if item.suppress_author:
            mode = "SuppressAuthor"
        elif cluster.narrative:
            mode = "AuthorInText"
        else:
            mode = "NormalCitation"
        citations.append(_citation(item, mode))
    return {"t": "Cite", "c": [citations, []]}


def _citation(item: CitationItem, mode: str) -> Json:
    return {
        "citationId": item.key,
        "citationPrefix": text_inlines(item.prefix),
        "citationSuffix": text_inlines(item.written_suffix),
        "citationMode": {"t": mode},
        "citationNoteNum": 0,
        "citationHash": 0,
    }


_ABBREVIATION_SPACE = re.compile(r"\b(p|pp|chap|sec|para|vol|no|n|fig|ch|bk|l|ll|art)\. (?=\S)", re.I)
"""Pandoc's Markdown reader joins an abbreviation to what follows ("p.\u00a045"); so do we, so that
citeproc sees the locator as it does when it reads ``[@key, p. 45]`` itself."""


_SMART = ((re.compile(r"---"), "\u2014"), (re.compile(r"--"), "\u2013"), (re.compile(r"\.\.\."), "\u2026"),
          (re.compile(r"(?<=\w)'"), "\u2019"))
"""Pandoc's ``smart`` Markdown typography, which it applies to a prefix or suffix it reads itself."""


def text_inlines(text: str) -> list[Json]:
    """Plain text -> Str and Space inlines (never read as markup), with Pandoc's smart dashes and ellipses."""
    for pattern, replacement in _SMART:
        text = pattern.sub(replacement, text)
    inlines: list[Json] = []
    for index, word in enumerate(_ABBREVIATION_SPACE.sub("\\1.\u00a0", " ".join(text.split())).split(" ")):
        if index:
            inlines.append({"t": "Space"})
        if word:
            inlines.append({"t": "Str", "c": word})
    while inlines and inlines[0]["t"] == "Space":
        inlines.pop(0)
    while inlines and inlines[-1]["t"] == "Space":
        inlines.pop()
    return inlines


# -- running pandoc, with a cache -------------------------------------------------------------


def _formatted(
    clusters: list[CitationCluster], nocite: list[str], briefing: Briefing, report: Diagnostics,
    cache_dir: Path | None,
) -> _Formatted | None:
    key = cache_key(clusters, nocite, briefing)
    cache_file = None if cache_dir is None else cache_dir / "citations" / f"{key}.json"
    formatted = _read_cache(cache_file, len(clusters)) if cache_file else None
    if formatted is None:
        formatted = _run(pandoc_document(clusters, nocite, briefing.metadata.language), briefing, report)
        if formatted is None:
            return None
        if cache_file is not None and not report.errors:
            _write_cache(cache_file, formatted)
    location = SourceLocation(briefing.folder / "briefing.yaml")
    for warning in formatted.warnings:
        report.warning(location, f"citation processor: {warning}")
    return formatted


def cache_key(clusters: list[CitationCluster], nocite: list[str], briefing: Briefing) -> str:
    """Style, locale, references and every cluster in order: all that decides the output, no line numbers.

    Hashed from what the pandoc document is made of rather than the document itself: a cache hit
    must cost a few milliseconds (building and serialising the document costs more).
    """
    assert briefing.style is not None
    digest = hashlib.sha256()
    written = [[c.narrative, c.in_note, [[i.key, i.prefix, i.written_suffix, i.suppress_author] for i in c.items]]
               for c in clusters]
    header = [CACHE_FORMAT, _mapping_code(), _package_version("pypandoc-binary"), briefing.metadata.language, nocite,
              [[f.format, len(f.text)] for f in briefing.reference_files], len(briefing.style.text)]
    for part in (json.dumps(header), briefing.style.text, *(f.text for f in briefing.reference_files), json.dumps(written)):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


@functools.cache
def _mapping_code() -> str:
    """The code that reads pandoc's output into what is cached (``_read_output``): a change to it must not meet an old cache.

    The mapping to the document model (``pandoc_model.py``) runs on every build, after the cache.
    """
    return hashlib.sha256(Path(__file__).resolve().read_bytes()).hexdigest()


@functools.cache
def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _read_cache(path: Path, count: int) -> _Formatted | None:
    """A cached result, or None if absent or damaged in any way (the cache is only ever a hint)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        clusters = [list(inlines) for inlines in data["clusters"]]
        bibliography = [(str(key), list(blocks)) for key, blocks in data["bibliography"]]
        formatted = _Formatted(clusters, bibliography, [str(w) for w in data["warnings"]])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return formatted if len(formatted.clusters) == count else None


def _write_cache(path: Path, formatted: _Formatted) -> None:
    data = {"clusters": formatted.clusters, "bibliography": formatted.bibliography, "warnings": formatted.warnings}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass  # a read-only cache only costs the next build a pandoc run


def _run(document: dict[str, Any], briefing: Briefing, report: Diagnostics) -> _Formatted | None:
    """Write the style and the references to a private folder, run pandoc there, map its answer."""
    assert briefing.style is not None
    where = SourceLocation(briefing.folder / "briefing.yaml")
    with tempfile.TemporaryDirectory(prefix="briefing-citations-") as folder:
        style = Path(folder) / "style.csl"
        style.write_text(compact_style(briefing.style.text), encoding="utf-8")
        arguments = ["--from=json", "--to=json", "--citeproc", f"--csl={style}"]
        names: dict[str, ReferenceFile] = {}
        for number, reference_file in enumerate(briefing.reference_files):
            path = Path(folder) / f"references-{number}{_SUFFIXES[reference_file.format]}"
            path.write_text(reference_file.text, encoding="utf-8")
            names[path.name] = reference_file
            arguments.append(f"--bibliography={path}")
        try:
            result = run_pandoc(arguments, json.dumps(document, ensure_ascii=False))
        except PandocUnavailableError as error:
            report.error(where, str(error))
            return None
    if result.returncode != 0:
        _report_failure(result, names, briefing, report)
        return None
    try:
        return _read_output(json.loads(result.stdout), len(document["blocks"]) - 1, _warnings(result.stderr))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        # Only a pandoc other than the pinned one could answer in another shape.
        report.error(where, "the citation processor, pandoc, returned a result this version cannot read")
        return None


def _warnings(stderr: str) -> list[str]:
    """Pandoc's warnings worth passing on; an unknown key has already been reported, with its line."""
    warnings = []
    for line in stderr.splitlines():
        text = line.removeprefix("[WARNING]").strip()
        if line.startswith("[WARNING]") and not re.match(r"Citeproc: citation .* not found", text):
            warnings.append(text)
    return warnings


_POSITION = re.compile(r"\(line (\d+), column (\d+)\)")


def _report_failure(result: PandocResult, names: dict[str, ReferenceFile], briefing: Briefing, report: Diagnostics) -> None:
    """Pandoc's error, located in the briefing's own file at pandoc's own position."""
    assert briefing.style is not None
    stderr = result.stderr.strip()
    culprit = next((f for name, f in names.items() if name in stderr), None)
    if result.out_of_memory or result.timed_out:
        what = "ran out of memory" if result.out_of_memory else "took too long"
        where = SourceLocation(culprit.path) if culprit else SourceLocation(briefing.folder / "briefing.yaml")
        report.error(where, f"the citation processor {what} formatting the citations "
                            "(is something in the references or the style defined in terms of itself?)")
        return
    message = " ".join(line.strip() for line in stderr.splitlines() if line.strip() and not line.strip().startswith("^"))
    message = re.sub(r"Error (reading bibliography file|at) \S+:?\s*", "", message)
    if culprit is not None:
        position = _POSITION.search(stderr)
        line, column = (int(position[1]), int(position[2])) if position else (1, 1)
        line, column = _clamped(culprit.text, line, column)
        detail = _POSITION.sub("", message).strip(" :")
        kind = {"biblatex": "BibTeX", "bibtex": "BibTeX", "csljson": "CSL-JSON", "yaml": "CSL-YAML"}[culprit.format]
        report.error(SourceLocation(culprit.path, line, column), f"malformed {kind}: {_first_line(detail)}")
        return
    report.error(SourceLocation(briefing.style.path), f"the citation processor refused the style: {message}")


def _clamped(text: str, line: int, column: int) -> tuple[int, int]:
    """Pandoc may count past the end of the text (it appends a newline or two): stop at the end."""
    lines = text.split("\n")
    if line > len(lines):
        return len(lines), len(lines[-1]) + 1
    return line, min(column, len(lines[line - 1]) + 1)


def _first_line(message: str) -> str:
    text = re.sub(r"\s+", " ", message).strip()
    text = re.sub(r"^@\S.*?(?=unexpected|expecting)", "", text)  # pandoc quotes the source line; we locate it
    return text or "syntax error"


def _read_output(output: Json, count: int, warnings: list[str]) -> _Formatted | None:
    """Each cluster's inlines (a note among them), then every bibliography entry, from pandoc's JSON."""
    blocks = output.get("blocks", [])
    clusters: list[Json] = []
    for block in blocks[:count]:
        cite = _first_cite(block.get("c", []))
        clusters.append([] if cite is None else cite["c"][1])
    bibliography = []
    refs = next((b for b in blocks if b.get("t") == "Div" and b["c"][0][0] == "refs"), None)
    for entry in [] if refs is None else refs["c"][1]:
        ident = entry["c"][0][0] if entry.get("t") == "Div" else ""
        if ident.startswith("ref-"):
            bibliography.append((ident.removeprefix("ref-"), entry["c"][1]))
    return _Formatted(clusters, bibliography, warnings)


def _first_cite(inlines: list[Json]) -> Json | None:
    """The paragraph's Cite, also inside the Note that holds a cluster written in a footnote."""
    for node in inlines:
        if node.get("t") == "Cite":
            return node
        if node.get("t") == "Note":
            for block in node["c"]:
                found = _first_cite(block.get("c", []))
                if found is not None:
                    return found
    return None
