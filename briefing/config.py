"""Build settings: one frozen ``BuildConfig`` from defaults < briefing.yaml < command-line flags."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from .model import Paper

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATES_DIR = PROJECT_DIR / "templates"
DEFAULT_OUTPUT_DIR = Path("output")
DEFAULT_CACHE_DIR = Path(".cache")
DEFAULT_CONTENT_DIR = Path("content")


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
