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
from .errors import Diagnostic, Diagnostics, OutputError
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
    """How to render and lay out each part; the layout callbacks share one font configuration."""

    body_html: Callable[[int, bool], str]
    """The body's HTML, given how many pages to lay out after the References' placeholder, and whether
    the last of them goes on a left-hand page (``_engine_pads``)."""
    references_html: Callable[[ReferencesPart], str]
    layout: Callable[[str], RenderedDocument]
    layout_references: Callable[[str], RenderedDocument]
    """The References' layout: one kept from an earlier build of a long-lived process when the HTML is the same."""

    def references(self, part: ReferencesPart) -> RenderedDocument:
        return self.layout_references(self.references_html(part))


@dataclass
class KeptLayouts:
    """The References as a long-lived process (``briefing watch``) laid them out, by their HTML.

    The same HTML laid out by the same engine from the same files gives the same pages, so
    References whose HTML did not change (no citation moved to another page, the page count the
    same) and whose fonts are untouched on disk are not laid out again: the output stays a
    function of the input alone. The engine's messages are kept with the layout and reported
    again. A few are kept: the References are a few pages.
    """

    limit: int = 4
    layouts: dict[tuple[str, str], _Kept] = field(default_factory=dict)

    def lay_out(
        self, edition: str, html: str, layout: Callable[[Diagnostics], RenderedDocument], report: Diagnostics,
    ) -> RenderedDocument:
        """The layout of ``html`` for ``edition``, kept or made by ``layout`` (which reports into the report it is given)."""
        key = (edition, hashlib.sha256(html.encode("utf-8")).hexdigest())
        kept = self.layouts.pop(key, None)
        if kept is None or kept.files != _stamps(kept.rendered.files_read):
            own = Diagnostics(strict=report.strict)
            rendered = layout(own)
            if own.errors:
                for diagnostic in own:
                    report.add(diagnostic)
                return rendered
            kept = _Kept(rendered, tuple(own), _stamps(rendered.files_read))
        self.layouts[key] = kept  # the most recently used last, kept longest
        while len(self.layouts) > self.limit:
            del self.layouts[next(iter(self.layouts))]
        for diagnostic in kept.diagnostics:
            report.add(diagnostic)
        return kept.rendered


@dataclass(frozen=True)
class _Kept:
    rendered: RenderedDocument
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[tuple[str, int, int], ...]
    """Each file the layout read, with its size and modification time then."""


def _stamps(paths: list[Path]) -> tuple[tuple[str, int, int], ...]:
    stamps = []
    for path in dict.fromkeys(paths):
        try:
            stat = path.stat()
        except OSError:
            stamps.append((str(path), -1, -1))
            continue
        stamps.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(stamps)


def lay_out(parts: Parts, citations: Citations, multiple: int, guess: PartCounts | None, estimate: int) -> tuple[
    RenderedDocument, PartCounts
]:
    """The joined document, and the counts to remember for the next build."""
    has_references = bool(citations.bibliography)
    references = max(guess.references if guess else estimate, 1) if has_references else 0
    blank = _padding(guess.body + references, multiple) if guess else 0
    moves: dict[str, int] = {}
    layouts, placed, digest = 0, False, ""
    while True:
        pads = has_references and _engine_pads(references, multiple)
        tail = references + (0 if pads else blank)
        html = parts.body_html(max(tail - has_references, 0), pads)
        digest = hashlib.sha256(html.encode("utf-8")).hexdigest()  # the last one is remembered: the tail is right
        if not placed:  # the same body as last time: its floats go where they went, without trying again
            known = guess is not None and guess.moves_for == digest
            moves = dict(guess.moves) if guess is not None and known else {}
        body = parts.layout(place_floats(html, moves))
        layouts += 1
        if not placed:  # once, with the first guess of the tail (a later tail moves no text)
            if not known:
                body, moves, extra = _place_floats(parts, html, body, tail, has_references)
                layouts += extra
            placed = True
        body_pages = _body_pages(body, tail, has_references)
        cited = backlink_pages(body.document.pages[:body_pages], citations)
        second, references, blank = _references(parts, cited, body_pages, references, multiple, has_references)
        if body_pages + references + blank == len(body.document.pages) or layouts >= MAX_BODY_LAYOUTS:
            break  # else "Page 3 of N" in the body named the wrong N
    counts = PartCounts(body_pages, references, layouts, moves, digest)
    return join(body, body_pages, second, references + blank), counts


def _engine_pads(references: int, multiple: int) -> bool:
    """Whether the body's layout can pad itself to an even page count, whatever the body's.

    Its last page standing in for the References is set on a left-hand page (``break-before:
    verso``), so the engine adds the blank page the padding needs before it, and ``counter(pages)``
    is the padded count even when the body's own count is not known beforehand. That page must
    not be the References' first (the contents name its number): so at least two pages of
    References. A multiple of four has no such rule in CSS.
    """
    return multiple == 2 and references >= 2


def _body_pages(body: RenderedDocument, tail: int, has_references: bool) -> int:
    """The pages of the body before the References' placeholder: it and the tail after it are dropped."""
    pages = body.document.pages
    if has_references:
        # the last page with the id: an author's heading may take it too, earlier
        return max(index for index, page in enumerate(pages) if REFERENCES_ID in page.anchors)
    return len(pages) - tail


REFERENCES_ID = "references"
"""The id of the References' placeholder in the body (``templates/briefing.html``)."""


def _place_floats(
    parts: Parts, html: str, body: RenderedDocument, tail: int, has_references: bool,
) -> tuple[RenderedDocument, dict[str, int], int]:
    """Figures and tables that left a hole moved past the next paragraph, while that makes the pages fuller.

    Returns the layout kept, the moves it was made with, and how many layouts were tried.
    """
    moves: dict[str, int] = {}
    tried = 0
    for _ in range(MAX_FLOAT_ROUNDS):
        pages = body.document.pages[: _body_pages(body, tail, has_references)]
        stranded = [found for found in stranded_floats(pages) if movable(html, found, moves)]
        if not stranded:
            break
        trial_moves = {**moves, **{found: moves.get(found, 0) + 1 for found in stranded}}
        trial = parts.layout(place_floats(html, trial_moves))
        tried += 1
        if holes(trial.document.pages[: _body_pages(trial, tail, has_references)]) >= holes(pages):
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
        second = parts.references(part)
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
"""The References' type (print.css: 9 pt on 1.4, 2 mm between entries) as a cold build's reckoning reads it."""
BODY_CHARS_PER_MM2 = 0.085
"""Source characters a square millimetre of body text holds, headings, figures and spacing included
(10.5 pt on 1.43: 69 characters a line of 126 mm; fitted to the sample briefing and long synthetic ones)."""
FRONT_PAGES = 3
"""Cover, key judgments, contents: before the first cited section."""
MEASURE_ABOVE = 10
"""The References are laid out alone before the body when the body is this many times longer: then the
layout costs less than the body's layout again after a wrong guess would (a page of References costs
about three of running text)."""


def estimate_reference_pages(
    parts: Parts, citations: Citations, geometry: PageGeometry, source_chars: int,
) -> int:
    """A cold build's count of the References' pages, before the body is laid out.

    The back-link lists are what a reckoning from the length of the entries gets wrong: so they are
    made as long as the body will likely make them (each work's citations spread over the body's
    estimated pages, one number a page, with as many digits), and when the body is long enough for
    it to pay, the References are laid out alone with those lists and their pages counted.
    """
    if not citations.bibliography:
        return 0
    body = FRONT_PAGES + math.ceil(source_chars / (BODY_CHARS_PER_MM2 * geometry.text_width_mm * geometry.text_height_mm))
    cited = plausible_backlinks(citations, body)
    reckoned = _reckoned_pages(citations, cited, geometry)
    if body < MEASURE_ABOVE * reckoned:
        return reckoned
    part = ReferencesPart(cited, body + 1, body + reckoned, 0)
    return max(len(parts.references(part).document.pages), 1)


def plausible_backlinks(citations: Citations, body_pages: int) -> dict[str, tuple[tuple[int, int], ...]]:
    """Back-links as the body would likely give them: citations (numbered in reading order) spread evenly
    over the pages after the front matter, each page named once per work."""
    clusters = max((c for entry in citations.bibliography for c in entry.cited_in), default=0)
    text_pages = max(body_pages - FRONT_PAGES, 1)
    cited: dict[str, tuple[tuple[int, int], ...]] = {}
    for entry in citations.bibliography:
        pages: dict[int, int] = {}
        for cluster in entry.cited_in:
            pages.setdefault(FRONT_PAGES + 1 + (cluster - 1) * text_pages // max(clusters, 1), cluster)
        cited[entry.key] = tuple((cluster, page) for page, cluster in pages.items())
    return cited


def _reckoned_pages(
    citations: Citations, cited: dict[str, tuple[tuple[int, int], ...]], geometry: PageGeometry,
) -> int:
    """The References' pages reckoned from the length of the entries and of their back-link lists."""
    per_line = geometry.text_width_mm * CHARS_PER_MM
    height = HEADING_MM
    for entry in citations.bibliography:
        backlinks = sum(len(str(page)) + 2 for _, page in cited.get(entry.key, ()))
        characters = len(plain_text(entry.inlines)) + backlinks + 12
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
