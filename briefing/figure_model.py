"""The records of figure placement: what goes in (events, request), what comes out (shapes, texts).

Plain data in points, y down, shared by the placement modules and the drawing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Strategy(Enum):
    """How a figure names its events."""

    AUTO = "auto"
    """Labels; an inset, then numbered callouts, when they do not fit."""
    DIRECT = "direct"
    """Labels only; an event that finds no room is numbered and keyed."""
    INSET = "inset"
    """Labels, zooming the most crowded interval into an inset."""
    CALLOUTS = "callouts"
    """Every event numbered, with a key under the figure."""


Measure = Callable[[str, bool], float]
"""Width in points of a text at the figure's font size; the flag asks for the bold face."""


@dataclass(frozen=True)
class LayoutEvent:
    """One event as the figure sees it: dates resolved to days, texts ready to set."""

    label: str
    start: dt.date
    end: dt.date | None
    """Last day of a span (inclusive); None for a point event."""
    style: int
    """Index into the palette and marker shapes."""
    date_text: str
    """The date as the key shows it, e.g. '4 Nov 1979 – 20 Jan 1981'."""

    @property
    def is_span(self) -> bool:
        return self.end is not None and self.end > self.start


@dataclass(frozen=True)
class LayoutRequest:
    """Everything the placement depends on; equal requests give equal layouts."""

    events: tuple[LayoutEvent, ...]
    width: float
    font_pt: float = 7.0
    window_from: dt.date | None = None
    """Exact left end of the axis (the figure's ``from``)."""
    window_to: dt.date | None = None
    """Exact right end of the axis: the last day shown (the figure's ``to``)."""
    legend: tuple[tuple[int, str], ...] = ()
    """(style, label) per category shown; empty for none (a single category needs no legend)."""
    strategy: Strategy = Strategy.AUTO
    inset: tuple[dt.date, dt.date] | None = None
    """A forced zoom interval (first and last day), or None to let the figure choose."""
    allow_inset: bool = True
    rows: int = 2
    """Label rows above the axis, and again below it."""
    max_height: float = 10_000.0
    months: tuple[str, ...] = ()
    """Abbreviated month names for the ticks (January first); empty: English."""


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: Box) -> bool:
        return self.left < other.right and other.left < self.right and self.top < other.bottom and other.top < self.bottom


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    style: int
    event: int
    """-1 for a legend marker."""


@dataclass(frozen=True)
class Segment:
    x0: float
    y0: float
    x1: float
    y1: float
    role: str
    """'axis', 'tick', 'leader', 'guide', 'span' (a bar), 'span-tick' or 'pole'."""
    style: int = -1
    """Palette index for span bars and ticks; -1 for the neutral greys."""


@dataclass(frozen=True)
class Shade:
    box: Box
    role: str
    """'band' (the zoomed interval on the main axis) or 'inset' (the inset's background)."""


@dataclass(frozen=True)
class Chevron:
    """A span's continuation mark where ``from``/``to`` cut it."""

    x: float
    y: float
    direction: int
    """-1 points left (the span began earlier), 1 points right."""
    style: int


@dataclass(frozen=True)
class Text:
    x: float
    baseline: float
    text: str
    role: str
    """'label', 'number', 'tick', 'band', 'legend', 'key-number', 'key-label' or 'key-date'."""
    anchor: str
    """'start': x is the left edge; 'end': x is the right edge."""
    bold: bool
    event: int
    box: Box
    """The ink's extent, generously: accents above, descenders below."""
    row: int = 0
    """For a point event's label: 1, 2, ... above the axis, -1, -2, ... below; 0 for other text."""


@dataclass(frozen=True)
class Metrics:
    """The spacing rules of the design (Noto Sans 7 pt), scaled with the font size."""

    font: float
    scale: float

    @classmethod
    def for_font(cls, font_pt: float) -> Metrics:
        return cls(font_pt, font_pt / 7.0)

    def __getattr__(self, name: str) -> float:
        return _SPACING_AT_7PT[name] * self.scale


_SPACING_AT_7PT = {
    "marker": 5.25,  # markers fit a 5.25 pt square
    "pitch": 5.6,  # closer marker centres are dodged one level up
    "row": 9.5,  # label row pitch
    "ascent": 6.65,  # text box above the baseline (accented capitals)
    "descent": 1.9,  # text box below the baseline (descenders)
    "cap": 5.0,  # capital height: where leaders to labels above end (and all a number's digits need)
    "ascender": 5.35,  # tick labels: digits and lower case, no accents
    "pad": 1.4,  # label text starts this far from its leader
    "label_gap": 7.0,  # between labels in one row
    "clear": 3.5,  # another event's leader keeps this far from a label
    "tick": 2.5,
    "tick_pad": 1.2,  # tick labels start this far right of their tick
    "tick_space": 4.0,  # between one tick label and the next tick
    "bar": 1.6,
    "span_tick": 4.6,
    "edge": 1.0,  # nothing closer to the figure's edge
    "number_pad": 0.9,  # a callout number starts this far right of its marker
    "legend_pad": 2.0,
    "legend_gap": 8.0,
    "legend_space": 6.0,
    "inset_gap": 16.0,  # room for the guide lines between the main axis and the inset
    "inset_pad": 3.5,
    "guide_inset": 0.0,
    "key_space": 8.0,
    "key_pad": 4.2,  # more than pdfplumber's 3 pt word gap: the number and the label stay two words
    "column_gap": 6.5,  # a date ends this far before the next column's numbers
    "bottom_margin": 1.5,
    "marker_gap": 0.35,  # pitch minus marker: the least air between two dodged markers
    "leader_rise": 4.5,  # from the top marker to the lowest label row above: visible leaders
}


def text_box(m: Metrics, role: str, left: float, width: float, baseline: float) -> Box:
    """Where a text's ink can be: numbers are digits (cap height, no descender); ticks have no accents."""
    if role in ("number", "key-number"):
        return Box(left, baseline - m.cap, left + width, baseline)
    top = m.ascender if role == "tick" else m.ascent
    return Box(left, baseline - top, left + width, baseline + m.descent)
