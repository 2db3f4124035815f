"""The vocabulary shared between stages: plain dataclasses, no behaviour beyond small helpers."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import Diagnostics, SourceLocation

if TYPE_CHECKING:
    from .i18n import Language


class Precision(Enum):
    YEAR = "year"
    MONTH = "month"
    DAY = "day"


@dataclass(frozen=True)
class PartialDate:
    """A date known to the year, the month or the day, as historians write them."""

    year: int
    month: int | None = None
    day: int | None = None

    def sort_key(self) -> tuple[int, int, int]:
        """'1984' sorts before '1984-03', which sorts before '1984-03-01'."""
        return (self.year, self.month or 0, self.day or 0)

    def __lt__(self, other: PartialDate) -> bool:
        return self.sort_key() < other.sort_key()

    @property
    def precision(self) -> Precision:
        if self.day is not None:
            return Precision.DAY
        return Precision.MONTH if self.month is not None else Precision.YEAR

    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    def last_day(self) -> dt.date:
        """The last day the date covers: '1984' runs to 31 December 1984."""
        if self.day is not None:
            return self.first_day()
        month = self.month or 12
        return dt.date(self.year, month, calendar.monthrange(self.year, month)[1])

    def iso(self) -> str:
        parts = [f"{self.year:04d}", *(f"{n:02d}" for n in (self.month, self.day) if n)]
        return "-".join(parts)

    def display(self) -> str:
        """Spell the date as a reader expects: '19 August 1953', 'August 1953', '1953'."""
        if self.month is None:
            return str(self.year)
        month = calendar.month_name[self.month]
        return f"{self.day} {month} {self.year}" if self.day else f"{month} {self.year}"


class Paper(Enum):
    A4 = "a4"
    LETTER = "letter"


@dataclass(frozen=True)
class MarkdownSource:
    """Markdown text and where its first line sits, so messages point into the right file."""

    text: str
    location: SourceLocation
    inline: bool = False
    """True for one-paragraph fields (event summaries) rendered without a <p>."""


@dataclass(frozen=True)
class Author:
    name: str
    affiliation: str | None = None


@dataclass(frozen=True)
class Metadata:
    """What ``briefing.yaml`` says about the document as a whole."""

    title: str
    date: dt.date
    subtitle: str | None = None
    short_title: str | None = None
    """The running head's form of the title (``short-title``)."""
    version: str | None = None
    authors: tuple[Author, ...] = ()
    organization: str | None = None
    classification: str | None = None
    language: str = "en"
    paper: Paper = Paper.A4
    citation_style: str = "chicago-author-date"
    keywords: tuple[str, ...] = ()
    nocite: tuple[CitationKey, ...] = ()
    """Works listed in the bibliography though not cited (Pandoc's ``nocite``); ``*`` lists them all."""
    title_location: SourceLocation | None = None
    """Where the title is written: the cover check points there when the title does not fit."""

    @property
    def running_title(self) -> str:
        """The title in the running head: the short title, else the main title before its subtitle
        ("Die Nordostpassage: Schifffahrt, …" is headed "Die Nordostpassage"), as a book designer sets it."""
        if self.short_title:
            return self.short_title
        main, colon, _rest = self.title.partition(": ")
        return main if colon and main.strip() else self.title


@dataclass(frozen=True)
class Section:
    path: Path
    source: MarkdownSource
    listed_at: SourceLocation | None = None
    """Where briefing.yaml names the file."""


@dataclass(frozen=True)
class Revision:
    """One line of the revision history (``revisions:`` in briefing.yaml)."""

    date: dt.date
    note: str
    version: str | None = None


@dataclass(frozen=True)
class DocumentLists:
    """The optional lists of the front matter (``lists: [figures, tables]``, or Quarto's ``lof``/``lot``)."""

    figures: bool = False
    tables: bool = False
    location: SourceLocation | None = None
    """Where they are asked for, to say so when a list would be empty."""


@dataclass(frozen=True)
class Category:
    key: str
    label: str


@dataclass(frozen=True)
class CitationKey:
    """A citation key written in YAML, kept with its location for error messages."""

    key: str
    location: SourceLocation


@dataclass(frozen=True)
class TimelineEvent:
    title: str
    date: PartialDate
    location: SourceLocation
    id: str | None = None
    end: PartialDate | None = None
    label: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    summary: MarkdownSource | None = None
    sources: tuple[CitationKey, ...] = ()

    @property
    def short_label(self) -> str:
        return self.label or self.title

    @property
    def name(self) -> str:
        """How messages refer to the event."""
        return self.id or self.title


@dataclass(frozen=True)
class Timeline:
    path: Path | None = None
    categories: tuple[Category, ...] = ()
    events: tuple[TimelineEvent, ...] = ()

    def category_label(self, key: str | None) -> str:
        for category in self.categories:
            if category.key == key:
                return category.label
        return key or "Other"


@dataclass(frozen=True)
class Reference:
    """One bibliography entry's key, with where it was defined."""

    key: str
    csl: dict[str, Any]
    """The item as written in CSL-JSON or CSL-YAML (checked); empty for BibTeX, which only pandoc reads."""
    location: SourceLocation


@dataclass(frozen=True)
class PrintSettings:
    """``print:`` in briefing.yaml: what the print shop asked for."""

    stitched: bool = False
    """Saddle-stitched: the print edition's page count is a multiple of four, not only even."""
    profile: Path | None = None
    """The shop's CMYK output profile (.icc), inside the briefing folder; None: the default SWOP profile."""
    condition: str | None = None
    """The output condition the profile stands for, e.g. 'FOGRA39' (the registry name the RIP expects)."""


@dataclass(frozen=True)
class ReferenceFile:
    """A bibliography file as read from the briefing folder; pandoc formats from this text."""

    path: Path
    format: str
    """Pandoc's name for it: ``biblatex``, ``bibtex``, ``csljson`` or ``yaml``."""
    text: str


@dataclass(frozen=True)
class CitationStyle:
    """The CSL style the citations are formatted with, as pandoc will read it."""

    name: str
    """As written in ``citation-style`` (or the default)."""
    path: Path
    """A bundled style, or a ``.csl`` file of the briefing (for a dependent style: its bundled parent)."""
    text: str


@dataclass(frozen=True)
class ThemeFont:
    """One font file of a theme's font folder, as its name table describes it."""

    path: Path
    family: str
    style: str
    """'normal' or 'italic'."""
    weight: int
    licence: str | None = None
    """The name table's licence description (name ID 13), e.g. the SIL OFL notice."""
    licence_url: str | None = None
    """Name ID 14."""


@dataclass(frozen=True)
class Theme:
    """An organisation's look: logo, colours, figure palette, fonts and template overrides.

    Every path is resolved and checked to lie inside the content tree (the folder of
    ``briefings.yaml``, or the briefing folder when there is none).
    """

    root: Path | None = None
    """The content tree the theme may read from; None: no theme."""
    logo: Path | None = None
    accent: str | None = None
    """``#rrggbb``: headings, rules, links and the cover band."""
    ink: str | None = None
    """``#rrggbb``: body text on screen and in the digital PDF (the print edition keeps black ink)."""
    palette: tuple[str, ...] = ()
    """Timeline category colours, in order; empty: the built-in palette."""
    fonts: tuple[ThemeFont, ...] = ()
    body_family: str | None = None
    heading_family: str | None = None
    fallback_families: tuple[str, ...] = ()
    """Families that add characters the built-in fonts lack (CJK…): last in the stacks, counted by the checks."""
    template_dirs: tuple[Path, ...] = ()
    """Override folders, first wins: the briefing's ``templates/``, the tree's, the theme folder's."""
    files: tuple[Path, ...] = ()
    """Every file of the theme a build reads (theme.yaml, logo, fonts, overrides): inputs of the build."""
    folders: tuple[Path, ...] = ()
    """Folders whose listing is an input too (a font added to the folder changes the build)."""

    @property
    def fallback_fonts(self) -> tuple[ThemeFont, ...]:
        """The files of the fallback families, each face."""
        return tuple(font for font in self.fonts if font.family in self.fallback_families)


@dataclass(frozen=True)
class Briefing:
    """A validated briefing folder: everything later stages need, nothing raw."""

    slug: str
    folder: Path
    metadata: Metadata
    summary: MarkdownSource | None
    sections: tuple[Section, ...]
    timeline: Timeline = field(default_factory=Timeline)
    references: tuple[Reference, ...] = ()
    reference_files: tuple[ReferenceFile, ...] = ()
    style: CitationStyle | None = None
    """None only when the build stops at validation (an unknown or broken style)."""
    input_files: tuple[Path, ...] = ()
    """Every file the build read from the briefing folder (for the manifest and the cache)."""
    print_settings: PrintSettings = field(default_factory=PrintSettings)
    defaults_file: Path | None = None
    """The content tree's ``briefings.yaml`` this briefing inherited values from."""
    bottom_line: MarkdownSource | None = None
    """One sentence that opens the key judgments and the handout."""
    appendices: tuple[Section, ...] = ()
    """Lettered A, B…; after the chronology, before the references."""
    lists: DocumentLists = field(default_factory=DocumentLists)
    revisions: tuple[Revision, ...] = ()
    theme: Theme = field(default_factory=Theme)


@dataclass(frozen=True)
class TimelineFigureSpec:
    """A ``.timeline`` fenced div: which events to draw, as the author filtered them."""

    id: str
    location: SourceLocation
    date_from: PartialDate | None = None
    date_to: PartialDate | None = None
    tags: tuple[str, ...] = ()
    labels: str = "auto"
    """How events are named: 'auto', 'direct', 'inset' or 'callouts' (the ``labels=`` attribute)."""
    inset: tuple[PartialDate, PartialDate] | None = None
    """A zoom interval the author chose (``inset="2025-02/2025-06"``)."""
    allow_inset: bool = True
    """False for ``inset="none"``: never zoom, number what does not fit."""
    rows: int = 2
    """Label rows above the axis, and again below it (``rows=``)."""
    width_mm: float | None = None
    """``width=``: the figure's width, at most the text block's."""
    height_mm: float | None = None
    """``height=``: the tallest the figure may be; taller ones are drawn in parts."""

    def selects(self, event: TimelineEvent) -> bool:
        """Events overlapping [from, to] with any of the tags (all events when no tags)."""
        end = event.end or event.date
        if self.date_from and end.last_day() < self.date_from.first_day():
            return False
        if self.date_to and event.date.first_day() > self.date_to.last_day():
            return False
        return not self.tags or any(tag in event.tags for tag in self.tags)


@dataclass(frozen=True)
class ImageFigure:
    """An image written in Markdown, ``![caption](path){#fig-id}``."""

    id: str | None
    path: str
    location: SourceLocation


@dataclass(frozen=True)
class ImageSize:
    """``{width=40% height=50mm}`` on an image, as CSS lengths; never wider than the text (the CSS caps it)."""

    width: str | None = None
    """A CSS length: '40%' of the text width, or an absolute length such as '60mm'."""
    height: str | None = None
    """An absolute CSS length; a percentage is ``height_share`` instead."""
    height_share: float | None = None
    """``height=40%``: that share of the text area's height (a percentage height has no box to refer to)."""


@dataclass(frozen=True)
class FigureStyle:
    """What the page decides about a figure: its width and the fonts to draw with."""

    width_mm: float
    font_dir: Path
    language: Language
    """The words of the alt text and the months of the axis."""
    font_size_pt: float = 7.0
    sans_family: str = "Noto Sans"
    max_height_mm: float = 150.0
    """Taller figures are split into parts: text never shrinks below its size to fit a page."""
    palette: tuple[str, ...] = ()
    """Category colours from the theme; empty: Okabe & Ito's."""
    fallback_fonts: tuple[ThemeFont, ...] = ()
    """The theme's fallback fonts, tried after the vendored ones (a Chinese name in a label)."""

    @cached_property
    def months(self) -> tuple[str, ...]:
        """Abbreviated month names in the briefing's language, January first."""
        return self.language.month_abbreviations()


@dataclass(frozen=True)
class FigureText:
    """A text of a drawn figure, set as HTML over the image in the PDF editions."""

    text: str
    role: str
    """'label', 'number', 'tick', 'band', 'legend', 'key-number', 'key-label' or 'key-date'."""
    x_mm: float
    """The left edge ('start') or the right edge ('end'), from the figure's left."""
    baseline_mm: float
    anchor: str
    bold: bool


@dataclass(frozen=True)
class DrawnFigure:
    """One drawn SVG: a whole timeline figure, or one part of a figure too tall for a page."""

    id: str
    svg_path: Path
    """Shapes only, sRGB: the digital PDF editions, whose text is ``texts`` set over it."""
    alt_text: str
    width_mm: float
    height_mm: float
    event_count: int
    print_svg_path: Path | None = None
    """Shapes only, in CMYK builds with black-ink greys: the print edition."""
    html_svg_path: Path | None = None
    """Shapes and text in one SVG: the HTML edition."""
    texts: tuple[FigureText, ...] = ()
    font_size_pt: float = 7.0


@dataclass(frozen=True)
class Output:
    """A file a build wrote."""

    path: Path
    pages: int | None = None


@dataclass
class BuildResult:
    """What a build made, for the summary line and the manifest."""

    briefing: str
    outputs: list[Output] = field(default_factory=list)
    seconds: float = 0.0
    report: Diagnostics = field(default_factory=Diagnostics)
    up_to_date: bool = False
    """True when nothing changed since the last build, which was therefore not repeated."""
    theme_inputs: tuple[Path, ...] = ()
    """Theme files and folders outside the briefing folder read by the build (for the no-op check)."""
