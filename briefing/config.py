"""Build settings: one frozen ``BuildConfig`` from defaults < briefing.yaml < command-line flags."""

from __future__ import annotations

import os
import subprocess
import time
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
    Paper.A4: PageGeometry(210, 297, 26, 24, 25, 25, "A4"),
    Paper.LETTER: PageGeometry(215.9, 279.4, 25, 23, 25.4, 25.4, "letter"),
}


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
        names = {
            Variant.PDF: f"{self.slug}.pdf",
            Variant.PRINT: f"{self.slug}-print.pdf",
            Variant.HANDOUT: f"{self.slug}-handout.pdf",
            Variant.BOOKLET: f"{self.slug}-booklet.pdf",
            Variant.HTML: f"{self.slug}.html",
        }
        return self.output_dir / names[variant]


def resolve_epoch(content_dir: Path) -> int:
    """The build's "now": ``SOURCE_DATE_EPOCH``, else the last commit touching the content, else the clock.

    The same inputs then give the same bytes, in CI and on a laptop alike.
    """
    from .errors import UsageError

    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is not None:
        if not value.strip().isdigit():
            raise UsageError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, found '{value}'")
        return int(value)
    try:
        result = subprocess.run(
            ["git", "log", "-1", "--format=%ct", "--", "."],
            cwd=content_dir, capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        result = None
    if result is not None and result.returncode == 0 and result.stdout.strip().isdigit():
        return int(result.stdout.strip())
    return int(time.time())
