"""Body + References -> one laid-out document, the body laid out once.

"cited on pp. 3, 5" names each page once, which is only known when the body has pages; and a
bound edition is padded to an even page count (or a multiple of four) only known at the end. So
the body is laid out once, ending with a placeholder page that holds the References' heading
(the contents name its page), and the References are laid out apart, after it, as a small
document whose folios and back-links are printed from the body's pages; the pages are joined.

"Page 3 of 40" in the body needs the References' page count before they exist: the body's
layout ends with pages to be dropped, as many as the References and the padding will take, so
the engine's own page count is the whole document's. The count is remembered from the last build
(``.cache/layout/``), estimated on a cold one, and the body laid out again only when it was wrong.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .config import BuildConfig, PageGeometry, Variant
from .errors import OutputError
from .floats import MAX_MOVES_PER_FLOAT, movable, place_floats
from .model_text import Citations, plain_text
from .page_fill import holes, stranded_floats
from .render_html import ReferencesPart
from .render_pdf import RenderedDocument, join
from .verify import backlink_pages
from .write import write_atomically

MEMORY_DIR = "layout"
MAX_FLOAT_ROUNDS = 2 * MAX_MOVES_PER_FLOAT
"""Layouts spent moving floats, each kept only if it leaves fewer holes. More than one float's
moves: a float moved on can push the next one off its page (in the booklet, Figure 2 moved twice
stranded Figure 3, which the round after it moves)."""
MAX_BODY_LAYOUTS = 3 + MAX_FLOAT_ROUNDS
"""A wrong guess is corrected by the counts of the first layout; floats may take one layout a round."""


@dataclass(frozen=True)
class PartCounts:
    """Pages of a laid-out edition: the body (up to the References), the References, and how often
    the body was laid out to get them (more than once: the guess was wrong)."""

    body: int
    references: int
    body_layouts: int = 1
    moves: dict[str, int] = field(default_factory=dict)
    """Floats moved past paragraphs (``floats.py``), decided for the body whose HTML hashes to ``moves_for``."""
    moves_for: str = ""


@dataclass(frozen=True)
class Parts:
    """How to render and lay out each part; the layout callback shares one font configuration."""

    body_html: Callable[[int], str]
    """The body's HTML, given how many pages to lay out after the References' placeholder."""
    references_html: Callable[[ReferencesPart], str]
    layout: Callable[[str], RenderedDocument]


def lay_out(parts: Parts, citations: Citations, multiple: int, guess: PartCounts | None, estimate: int) -> tuple[
    RenderedDocument, PartCounts
]:
    """The joined document, and the counts to remember for the next build."""
    has_references = bool(citations.bibliography)
    references = max(guess.references if guess else estimate, 1) if has_references else 0
    tail = references + (_padding(guess.body + references, multiple) if guess else 0)
    moves: dict[str, int] = {}
    layouts, placed, digest = 0, False, ""
    while True:
        html = parts.body_html(max(tail - has_references, 0))
        digest = hashlib.sha256(html.encode("utf-8")).hexdigest()  # the last one is remembered: the tail is right
        if not placed:  # the same body as last time: its floats go where they went, without trying again
            known = guess is not None and guess.moves_for == digest
            moves = dict(guess.moves) if guess is not None and known else {}
        body = parts.layout(place_floats(html, moves))
        layouts += 1
        if not placed:  # once, with the first guess of the tail (a later tail moves no text)
            if not known:
                body, moves, extra = _place_floats(parts, html, body, tail)
                layouts += extra
            placed = True
        body_pages = len(body.document.pages) - tail
        cited = backlink_pages(body.document.pages[:body_pages], citations)
        second, references, blank = _references(parts, cited, body_pages, references, multiple, has_references)
        if references + blank == tail or layouts >= MAX_BODY_LAYOUTS:
            break
        tail = references + blank  # "Page 3 of N" in the body named the wrong N
    counts = PartCounts(body_pages, references, layouts, moves, digest)
    return join(body, body_pages, second, references + blank), counts


def _place_floats(
    parts: Parts, html: str, body: RenderedDocument, tail: int,
) -> tuple[RenderedDocument, dict[str, int], int]:
    """Figures and tables that left a hole moved past the next paragraph, while that makes the pages fuller.

    Returns the layout kept, the moves it was made with, and how many layouts were tried.
    """
    moves: dict[str, int] = {}
    tried = 0
    for _ in range(MAX_FLOAT_ROUNDS):
        pages = body.document.pages[: len(body.document.pages) - tail]
        stranded = [found for found in stranded_floats(pages) if movable(html, found, moves)]
        if not stranded:
            break
        trial_moves = {**moves, **{found: moves.get(found, 0) + 1 for found in stranded}}
        trial = parts.layout(place_floats(html, trial_moves))
        tried += 1
        if holes(trial.document.pages[: len(trial.document.pages) - tail]) >= holes(pages):
            break  # no fuller: the float stays where the author put it
        body, moves = trial, trial_moves
    return body, moves, tried


def _references(
    parts: Parts, cited: dict[str, tuple[tuple[int, int], ...]], body_pages: int, guess: int, multiple: int,
    has_references: bool,
) -> tuple[RenderedDocument | None, int, int]:
    """The References (and padding) after ``body_pages``: the layout, its pages of References, its blank pages.

    Laid out again if they took another number of pages than guessed: their folios say "of N".
    """
    references = guess
    for _ in range(MAX_BODY_LAYOUTS):
        blank = _padding(body_pages + references, multiple)
        if not has_references and not blank:
            return None, 0, 0
        part = ReferencesPart(cited, body_pages + 1, body_pages + references + blank, blank)
        second = parts.layout(parts.references_html(part))
        actual = len(second.document.pages) - blank
        if actual == references:
            break
        references = actual
    return second, references, blank


def _padding(pages: int, multiple: int) -> int:
    return -pages % multiple


ENTRY_SPACE_MM = 2.0
REFERENCE_LINE_MM = 9 * 1.4 * 25.4 / 72
CHARS_PER_MM = 0.62
HEADING_MM = 15.0
"""The References' type (print.css: 9 pt on 1.4, 2 mm between entries) as a cold build's estimate reads it."""


def estimate_reference_pages(citations: Citations, geometry: PageGeometry) -> int:
    """A cold build's guess of the References' pages, from the length of the entries."""
    if not citations.bibliography:
        return 0
    per_line = geometry.text_width_mm * CHARS_PER_MM
    height = HEADING_MM
    for entry in citations.bibliography:
        characters = len(plain_text(entry.inlines)) + 4 * len(entry.cited_in) + 12
        height += math.ceil(characters / per_line) * REFERENCE_LINE_MM + ENTRY_SPACE_MM
    return max(1, math.ceil(height / geometry.text_height_mm))


def recall(config: BuildConfig, variant: Variant, geometry: PageGeometry) -> PartCounts | None:
    """The counts of the last build of this edition, if the cache may be used and has them."""
    if not config.use_cache:
        return None
    try:
        data = json.loads(_memory_path(config, variant, geometry).read_text(encoding="utf-8"))
        moves = {str(key): int(count) for key, count in dict(data.get("moves", {})).items()}
        return PartCounts(int(data["body"]), int(data["references"]), moves=moves, moves_for=str(data.get("moves_for", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember(config: BuildConfig, variant: Variant, geometry: PageGeometry, counts: PartCounts) -> None:
    """Keep the counts for the next build (and the benchmark, which counts the body's layouts)."""
    path = _memory_path(config, variant, geometry)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, (json.dumps(asdict(counts)) + "\n").encode("utf-8"))
    except (OSError, OutputError):
        return  # a read-only cache costs the next build a guess, nothing more


def _memory_path(config: BuildConfig, variant: Variant, geometry: PageGeometry) -> Path:
    folder = hashlib.sha256(str(config.content_dir.resolve()).encode()).hexdigest()[:16]
    size = re.sub(r"\W+", "-", geometry.css_size)
    return config.cache_dir.resolve() / MEMORY_DIR / f"{config.slug}-{folder}-{variant.value}-{size}.json"
