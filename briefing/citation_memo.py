"""The last formatted citations, reused while nothing they depend on changed: the warm rebuild's shortcut.

Formatting with the CSL processor is the slowest stage of a warm rebuild (about a second and a
half for the US–Iran briefing), and most saves (a sentence reworded) change no citation. The
key is everything ``resolve_citations`` reads, except where each citation stands: a line added
above a citation moves it but formats it the same. Only a run without problems is kept, so a
reused result never hides a diagnostic whose location would have changed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .citations import Citations, resolve_citations
from .errors import Diagnostics
from .markdown import ParsedDocument
from .model import Briefing


@dataclass(frozen=True)
class _Key:
    clusters: tuple[tuple[Any, ...], ...]
    references: tuple[Any, ...]
    metadata: Any
    folder: Any
    style_file: tuple[int, int] | None


_last: tuple[_Key, Citations] | None = None
_lock = threading.Lock()


def resolve_citations_memo(document: ParsedDocument, briefing: Briefing, report: Diagnostics) -> Citations:
    """``resolve_citations``, or its last result when its inputs are the same but for locations."""
    global _last
    key = _key(document, briefing)
    with _lock:
        if _last is not None and _last[0] == key:
            return _last[1]
    problems_before = len(report.items)
    citations = resolve_citations(document, briefing, report)
    if len(report.items) == problems_before:
        with _lock:
            _last = (key, citations)
    return citations


def _key(document: ParsedDocument, briefing: Briefing) -> _Key:
    clusters = tuple(
        (cluster.index, cluster.narrative,
         tuple((i.key, i.prefix, i.locator_label, i.locator, i.suffix, i.suppress_author) for i in cluster.items))
        for cluster in document.citations
    )
    style = briefing.metadata.citation_style
    style_file = None
    if style.endswith(".csl"):  # a style of the briefing's own may be edited between saves
        try:
            stat = (briefing.folder / style).stat()
            style_file = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            style_file = (-1, -1)
    return _Key(clusters, tuple(briefing.references), briefing.metadata, briefing.folder, style_file)
