"""Build settings: one frozen ``BuildConfig`` from defaults < briefing.yaml < command-line flags."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from .model import Paper

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATES_DIR = PROJECT_DIR / "templates"
DEFAULT_OUTPUT_DIR = Path("output")
DEFAULT_CACHE_DIR = Path(".cache")
DEFAULT_CONTENT_DIR = Path("content")
BRIEFING_FILE = "briefing.yaml"
"""What makes a folder a briefing."""
DEFAULTS_FILE = "briefings.yaml"
"""Defaults for every briefing of a content tree (see ``load.DEFAULT_KEYS``)."""


class Variant(Enum):
    """The output editions of the contract (§2)."""

    PDF = "pdf"
    PRINT = "print"
    HANDOUT = "handout"
    BOOKLET = "booklet"
    HTML = "html"


DEFAULT_VARIANTS = (Variant.PDF, Variant.PRINT, Variant.HANDOUT)
"""The contract's default editions; ``--variant`` picks others, ``--variant all`` every one."""


@dataclass(frozen=True)
class PageGeometry:
    """Paper and margins in millimetres; the text width decides how wide figures are drawn."""

    width_mm: float
    height_mm: float
    margin_top_mm: float
    margin_bottom_mm: float
    margin_inner_mm: float
    margin_outer_mm: float
    css_size: str

    @property
    def text_width_mm(self) -> float:
        return self.width_mm - self.margin_inner_mm - self.margin_outer_mm

    @property
    def text_height_mm(self) -> float:
        return self.height_mm - self.margin_top_mm - self.margin_bottom_mm


MAX_FIGURE_SHARE_OF_PAGE = 0.4
"""A timeline taller than this share of the text height is drawn in parts, at full text size."""

PAGE_GEOMETRY = {
    Paper.A4: PageGeometry(210, 297, 26, 24, 28, 56, "A4"),
    Paper.LETTER: PageGeometry(215.9, 279.4, 25, 23, 28, 61.9, "letter"),
}
"""A 126 mm text block on either paper: 10.5 pt Noto Serif sets about 69 characters a line, within
the comfortable 60-75 (160 mm at 10 pt set 93). The outer margin takes the difference: the
block sits towards the spine (the left edge on screen) as in a book, and its white frames it."""

BOOKLET_GEOMETRY = {
    Paper.A4: PageGeometry(148, 210, 21, 21, 17, 13, "A5"),
    Paper.LETTER: PageGeometry(139.7, 215.9, 21, 21, 17, 13, "5.5in 8.5in"),
}
"""The booklet is laid out at its folded size (half the sheet), with an inner margin that survives the fold."""


def page_geometry(folded: bool, paper: Paper) -> PageGeometry:
    return BOOKLET_GEOMETRY[paper] if folded else PAGE_GEOMETRY[paper]


@dataclass(frozen=True)
class BuildConfig:
    """Everything one build of one briefing needs to know, and nothing it may change."""

    content_dir: Path
    output_dir: Path = DEFAULT_OUTPUT_DIR
    variants: tuple[Variant, ...] = DEFAULT_VARIANTS
    paper: Paper | None = None
    """Overrides the briefing's own paper size when set (``--paper``)."""
    strict: bool = False
    use_cache: bool = True
    cache_dir: Path = DEFAULT_CACHE_DIR
    templates_dir: Path = DEFAULT_TEMPLATES_DIR
    epoch: int | None = None
    """Seconds since 1970 that stand for "now" in the outputs; None: see ``resolve_epoch``."""
    workers: int = 1
    """Processes laying out this briefing's editions at once (the CLI gives one per core)."""

    @property
    def slug(self) -> str:
        return self.content_dir.resolve().name

    def output_path(self, variant: Variant) -> Path:
        from .editions import edition

        return self.output_dir / f"{self.slug}{edition(variant).file_suffix}"

    def manifest_path(self) -> Path:
        return self.output_dir / f"{self.slug}.manifest.json"

    def generated_dirs(self) -> tuple[Path, ...]:
        """Folders the build writes: never inputs, even when they lie inside the briefing folder."""
        return (self.output_dir, self.cache_dir)


def resolve_epoch(content_dir: Path, skip: tuple[Path, ...] = ()) -> int:
    """The build's "now": ``SOURCE_DATE_EPOCH``, else the last commit touching the content, else its newest file.

    The same inputs then give the same bytes, in CI and on a laptop alike; the clock never enters.
    """
    from .errors import UsageError

    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is not None:
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_EPOCH:
            raise UsageError(
                f"SOURCE_DATE_EPOCH must be a whole number of seconds, found {value!r} (0 to {MAX_EPOCH}, year 9999)"
            )
        return int(text)
    committed = _last_commit_time(content_dir)
    return committed if committed is not None else newest_input_time(content_dir, skip)


MAX_EPOCH = 253_402_300_799
"""31 December 9999, 23:59:59 UTC: the last second a PDF date can carry."""

SAFE_GIT_OPTIONS = (
    "--no-pager",
    "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-c", "core.pager=cat",
    "-c", "log.showSignature=false", "-c", "gpg.program=false", "-c", "diff.external=",
    "-c", "log.decorate=false", "-c", "core.untrackedCache=false",
)
"""A content folder may be somebody else's repository (a zip with ``.git/``): none of its settings
may start a program. These override every repository setting that could (fsmonitor, hooks, pager,
signature display through gpg, external diff); the command below never diffs or converts text."""


def _last_commit_time(content_dir: Path) -> int | None:
    if shutil.which("git") is None:
        return None
    command = ["git", *SAFE_GIT_OPTIONS, "log", "-1", "--no-show-signature", "--no-ext-diff", "--no-textconv",
               "--format=%ct", "--", "."]
    environment = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
    environment.update(GIT_TERMINAL_PROMPT="0", GIT_PAGER="cat", PAGER="cat", GIT_OPTIONAL_LOCKS="0")
    try:
        result = subprocess.run(
            command, cwd=content_dir, capture_output=True, text=True, timeout=10, check=False, env=environment,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    text = result.stdout.strip()
    if result.returncode == 0 and text.isascii() and text.isdigit() and int(text) <= MAX_EPOCH:
        return int(text)
    return None


def newest_input_time(content_dir: Path, skip: tuple[Path, ...] = ()) -> int:
    """The modification time of the newest file in the briefing folder: a date the inputs fix."""
    newest = 0
    for path in briefing_files(content_dir, skip):
        try:
            newest = max(newest, path.stat().st_mtime_ns // 1_000_000_000)
        except OSError:
            continue
    return min(newest, MAX_EPOCH)


UNREAD_FOLDERS = frozenset({".git", ".hg", ".svn", "__pycache__", ".cache", ".pytest_cache", ".mypy_cache"})
"""Folders a build never reads from, though they may sit in a briefing folder."""


def briefing_files(root: Path, skip: tuple[Path, ...] = ()) -> list[Path]:
    """Every file under ``root`` a build may read: hidden folders too (``.drafts/``), not ``skip`` (outputs)."""
    skipped = {folder.resolve() for folder in skip}
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if d not in UNREAD_FOLDERS and (here / d).resolve() not in skipped)
        found.extend(here / name for name in sorted(files) if not name.endswith(".tmp"))
    return found


def find_defaults(folder: Path) -> Path | None:
    """The nearest ``briefings.yaml`` above the briefing, looking no higher than the working folder
    (or only in the parent, for a briefing outside it): a tree's settings, never a stranger's."""
    top = Path.cwd().resolve()
    for parent in folder.parents:
        candidate = parent / DEFAULTS_FILE
        if candidate.is_file():
            return candidate
        if parent == top or not parent.is_relative_to(top):
            return None
    return None
