"""Timeline events -> SVG figures (matplotlib object API), cached by content hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import Diagnostics
from .fonts import uncovered
from .model import (
    Category,
    DrawnFigure,
    FigureStyle,
    PartialDate,
    Timeline,
    TimelineEvent,
    TimelineFigureSpec,
)
from .write import write_atomically

if TYPE_CHECKING:  # matplotlib is imported lazily: a cached build never pays for it
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend

__all__ = ["FIGURE_CODE_VERSION", "alt_text", "cache_key", "draw_figures", "make_timeline", "select_events"]

FIGURE_CODE_VERSION = "2"
"""Bump when the drawing code changes what a figure looks like: it invalidates the cache."""

FONT_FILES = ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf", "NotoNaskhArabic-Regular.ttf")
FALLBACK_FAMILY = "Noto Naskh Arabic"
"""Persian and Arabic names in labels: matplotlib falls back to it glyph by glyph, as the page does."""

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
"""Okabe & Ito (2008) colour-blind-safe palette, darkest and most distinct hues first."""

MARKERS = ("o", "s", "D", "^", "v", "P", "X", "p", "h", "*")
"""One shape per category so the figure still reads in greyscale."""

MIN_FONT_PT = 7.0
MAX_FIGURE_EVENTS = 200
"""More events than this make a figure no reader can use (and minutes of drawing): narrow it."""
LEADER_SLACK = 0.5
"""How much taller (share of the packed height) a figure may grow to keep leaders off labels."""
MEASURE_DPI = 144.0
LINE_SPACING = 1.0
"""Noto Sans's own line height (1.36 em) already leaves room; matplotlib scales even one line by this."""
TEXT_COLOUR = "#222222"
AXIS_COLOUR = "#555555"
TICK_TEXT_COLOUR = "#444444"
LEADER_COLOUR = "#a0a0a0"
MM_PER_INCH = 25.4
PT_PER_INCH = 72.0

# Horizontal layout, in inches.
AXIS_MARGIN_IN = 0.2
"""Space left and right of the time axis, for the outer tick labels."""
EDGE_MARGIN_IN = 2 / PT_PER_INCH
"""Labels stay this far inside the figure edge."""

_registered_fonts: set[Path] = set()


# --------------------------------------------------------------------------- public API


def draw_figures(
    specs: Sequence[TimelineFigureSpec],
    timeline: Timeline,
    style: FigureStyle,
    cache_dir: Path,
    report: Diagnostics,
) -> dict[str, tuple[DrawnFigure, ...]]:
    """Draw every timeline figure the document asks for, reusing cached SVGs when nothing changed.

    A figure too tall for its page is drawn in consecutive parts, each at full text size.
    """
    fonts = [style.font_dir / name for name in FONT_FILES]
    missing = [font for font in fonts if not font.is_file()]
    if missing:
        report.error(None, f"figure font not found: {', '.join(str(font) for font in missing)}")
        return {}
    font_hashes = {font.name: _file_sha256(font) for font in fonts}
    folder = cache_dir / "figures"
    drawn: dict[str, tuple[DrawnFigure, ...]] = {}
    seen: dict[str, TimelineFigureSpec] = {}
    for spec in specs:
        if spec.id in seen:
            if _filters(seen[spec.id]) != _filters(spec):
                report.warning(
                    spec.location, f"figure id '{spec.id}' is used twice with different filters; the first is drawn"
                )
            continue
        seen[spec.id] = spec
        events = select_events(spec, timeline)
        if len(events) > MAX_FIGURE_EVENTS:
            report.error(
                spec.location,
                f"figure '{spec.id}' selects {len(events)} events; the limit is {MAX_FIGURE_EVENTS}"
                " (narrow it with from=, to= or tags=)",
            )
            continue
        if not _labels_drawable(events, style.font_dir, report):
            continue
        if not events:
            report.warning(spec.location, f"figure '{spec.id}' selects no timeline event ({_describe_filters(spec)})")
            continue
        key = cache_key(spec, events, timeline.categories, style, font_hashes)
        stem = f"{_safe_name(spec.id)}-{key[:16]}"
        sidecar = folder / f"{stem}.json"
        parts = _read_cached(spec.id, folder, sidecar, key)
        if parts is None:
            parts = _draw_and_store(spec.id, events, timeline.categories, style, folder / stem, sidecar, key)
        drawn[spec.id] = parts
    return drawn


def _labels_drawable(events: Sequence[TimelineEvent], font_dir: Path, report: Diagnostics) -> bool:
    """A label with a character the fonts lack is an error at its event, not a box in the figure."""
    drawable = True
    for event in events:
        for char in uncovered(event.short_label, font_dir):
            drawable = False
            report.error(
                event.location,
                f"event '{event.name}': the figure label has '{char}' (U+{ord(char):04X}), which is in none of "
                "the embedded fonts; use 'label:' to give the figure a label without it",
            )
    return drawable


def select_events(spec: TimelineFigureSpec, timeline: Timeline) -> list[TimelineEvent]:
    """The events a figure shows, by date; ties keep the timeline's order (sort is stable)."""
    events = [event for event in timeline.events if spec.selects(event)]
    return sorted(events, key=lambda event: (event.date.first_day(), _end_day(event)))


def cache_key(
    spec: TimelineFigureSpec,
    events: Sequence[TimelineEvent],
    categories: Sequence[Category],
    style: FigureStyle,
    font_hashes: dict[str, str],
) -> str:
    """Hash everything that changes the drawn SVG, so an unchanged figure is never redrawn."""
    payload = {
        "code": FIGURE_CODE_VERSION,
        "matplotlib": _matplotlib_version(),
        "spec": _filters(spec),
        "categories": [[category.key, category.label] for category in categories],
        "events": [
            {
                "title": event.title,
                "label": event.short_label,
                "date": event.date.iso(),
                "end": event.end.iso() if event.end else None,
                "category": event.category,
            }
            for event in events
        ],
        "style": {
            "width_mm": style.width_mm,
            "font_size_pt": style.font_size_pt,
            "sans_family": style.sans_family,
            "max_height_mm": style.max_height_mm,
            "fonts": dict(sorted(font_hashes.items())),
        },
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def alt_text(events: Sequence[TimelineEvent]) -> str:
    """Describe the figure in words for screen readers and the PDF's /Alt, straight from the data."""
    first = min(event.date.first_day() for event in events)
    last = max(_end_day(event) for event in events)
    if first.year != last.year:
        period = f"from {first.year} to {last.year}"
    elif first.month != last.month:
        period = f"in {first.year}"
    else:
        period = f"in {PartialDate(first.year, first.month).display()}"
    count = f"{len(events)} event{'s' if len(events) != 1 else ''}"
    items = []
    for event in events:
        when = event.date.display()
        if event.end is not None:
            when = f"{when} to {event.end.display()}"
        items.append(f"{when}, {_clean_label(event.short_label)}")
    return f"Timeline of {count} {period}: {'; '.join(items)}."


# --------------------------------------------------------------------------- cache


def _read_cached(figure_id: str, folder: Path, sidecar: Path, key: str) -> tuple[DrawnFigure, ...] | None:
    """A figure drawn earlier with the same key, or None when a file is missing or unreadable."""
    if not sidecar.is_file():
        return None
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
        if data.get("key") != key:
            return None
        parts = tuple(
            DrawnFigure(
                id=figure_id,
                svg_path=folder / str(part["svg"]),
                alt_text=str(part["alt_text"]),
                width_mm=float(part["width_mm"]),
                height_mm=float(part["height_mm"]),
                event_count=int(part["event_count"]),
            )
            for part in data["parts"]
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # a damaged cache entry is simply redrawn
    return parts if parts and all(part.svg_path.is_file() for part in parts) else None


def _draw_and_store(
    figure_id: str,
    events: Sequence[TimelineEvent],
    categories: Sequence[Category],
    style: FigureStyle,
    stem: Path,
    sidecar: Path,
    key: str,
) -> tuple[DrawnFigure, ...]:
    """Draw one figure (in parts if it must), then write the SVGs before the sidecar that lists them."""
    chunks = [list(events)]
    figures = [make_timeline(events, categories, style)]
    while len(chunks) < len(events) and any(_height_mm(f) > style.max_height_mm for f in figures):
        count = len(chunks) + 1
        chunks = _split(events, count)
        figures = [make_timeline(chunk, categories, style) for chunk in chunks]
    parts = []
    for index, (chunk, figure) in enumerate(zip(chunks, figures, strict=True), start=1):
        svg_path = stem.with_name(f"{stem.name}-{index}.svg")
        svg_path.parent.mkdir(parents=True, exist_ok=True)
        _save_svg(figure, svg_path)
        width_in = float(figure.get_size_inches()[0])
        parts.append(
            DrawnFigure(
                id=figure_id,
                svg_path=svg_path,
                alt_text=alt_text(chunk),
                width_mm=round(width_in * MM_PER_INCH, 4),
                height_mm=round(_height_mm(figure), 4),
                event_count=len(chunk),
            )
        )
    record = {
        "key": key,
        "id": figure_id,
        "parts": [
            {
                "svg": part.svg_path.name,
                "alt_text": part.alt_text,
                "width_mm": part.width_mm,
                "height_mm": part.height_mm,
                "event_count": part.event_count,
            }
            for part in parts
        ],
    }
    text = json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    write_atomically(sidecar, text.encode("utf-8"))
    return tuple(parts)


def _height_mm(figure: Figure) -> float:
    return float(figure.get_size_inches()[1]) * MM_PER_INCH


def _split(events: Sequence[TimelineEvent], count: int) -> list[list[TimelineEvent]]:
    """Consecutive runs of about equal size, in date order: part 2 continues where part 1 ends."""
    size = -(-len(events) // count)
    return [list(events[start: start + size]) for start in range(0, len(events), size)]


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _matplotlib_version() -> str:
    """The installed version, read from package metadata so matplotlib itself is not imported."""
    try:
        return metadata.version("matplotlib")
    except metadata.PackageNotFoundError:
        return "unknown"


def _safe_name(figure_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", figure_id).lstrip(".") or "figure"


def _filters(spec: TimelineFigureSpec) -> dict[str, Any]:
    return {
        "from": spec.date_from.iso() if spec.date_from else None,
        "to": spec.date_to.iso() if spec.date_to else None,
        "tags": list(spec.tags),
    }


def _describe_filters(spec: TimelineFigureSpec) -> str:
    date_from = spec.date_from.iso() if spec.date_from else "any"
    date_to = spec.date_to.iso() if spec.date_to else "any"
    tags = ", ".join(spec.tags) if spec.tags else "any"
    return f"from={date_from}, to={date_to}, tags={tags}"


def _end_day(event: TimelineEvent) -> dt.date:
    return event.end.last_day() if event.end is not None else event.date.first_day()


def _clean_label(text: str) -> str:
    """One line of text: authors' line breaks and runs of spaces mean nothing in a label."""
    return " ".join(text.split())


# --------------------------------------------------------------------------- drawing


@dataclass(frozen=True)
class _Metrics:
    """Sizes in points derived from the font size, so the whole figure scales with the text."""

    font_pt: float
    line_pt: float  # height of one line of label text as matplotlib measures it

    @property
    def marker_pt(self) -> float:
        return self.font_pt * 0.75

    @property
    def bar_pt(self) -> float:
        return self.font_pt * 0.45

    @property
    def lane_pitch_pt(self) -> float:
        return self.marker_pt + 2.0

    @property
    def row_pitch_pt(self) -> float:
        return self.line_pt + 1.5

    @property
    def label_gap_in(self) -> float:
        """Clear space between two labels in one row."""
        return self.font_pt * 0.6 / PT_PER_INCH

    @property
    def leader_pad_in(self) -> float:
        """Space between a leader line and the label text beside it."""
        return self.font_pt * 0.25 / PT_PER_INCH

    @property
    def leader_clear_in(self) -> float:
        """How close another event's leader may pass a label: clearly further than its own leader."""
        return self.font_pt * 0.4 / PT_PER_INCH


@dataclass(frozen=True)
class _Item:
    """One event prepared for layout: where it sits on the axis and how big its label is."""

    event: TimelineEvent
    text: str
    anchor_in: float  # x of the marker the leader points at, inches from the figure's left edge
    width_in: float
    rows: int  # label rows the text occupies (more than one only when wrapped)
    base_pt: float  # top of the marker or bar the leader starts from, points above the axis


@dataclass(frozen=True)
class _Key:
    """A category as drawn: events without a category (key None) share an 'Other' entry."""

    key: str | None
    label: str


@dataclass(frozen=True)
class _Ticks:
    locations: list[float]
    labels: list[str]
    has_offset: bool


@dataclass(frozen=True)
class _Placement:
    row: int
    left_in: float
    align: str  # "left" or "right": which label edge is anchored exactly


def _rc(style: FigureStyle) -> dict[Any, Any]:
    font_pt = max(MIN_FONT_PT, style.font_size_pt)
    return {
        "font.family": [style.sans_family, FALLBACK_FAMILY],
        "font.size": font_pt,
        "text.parse_math": False,
        "text.usetex": False,
        "text.hinting": "no_hinting",
        "svg.fonttype": "none",
        "svg.hashsalt": "briefing",
        "axes.unicode_minus": False,
        "axes.formatter.use_mathtext": False,
        "path.simplify": False,
        "figure.dpi": MEASURE_DPI,
        "savefig.dpi": MEASURE_DPI,
    }


@contextmanager
def _style_context(style: FigureStyle) -> Iterator[None]:
    """Fonts registered and rcParams set only for the duration, so callers' matplotlib is untouched."""
    import matplotlib

    _register_fonts(style.font_dir)
    with matplotlib.rc_context(_rc(style)):
        yield


def _register_fonts(font_dir: Path) -> None:
    """Tell matplotlib about the vendored fonts once per process (addfont does not deduplicate)."""
    from matplotlib import font_manager

    for name in FONT_FILES:
        path = (font_dir / name).resolve()
        if path in _registered_fonts or not path.is_file():
            continue
        font_manager.fontManager.addfont(str(path))
        _registered_fonts.add(path)


def make_timeline(events: Sequence[TimelineEvent], categories: Sequence[Category], style: FigureStyle) -> Figure:
    """Lay out and draw a timeline figure; pure apart from registering fonts with matplotlib.

    Not thread-safe: it sets matplotlib's global rcParams for its duration (the CLI
    builds in parallel with processes, which is fine).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not events:
        raise ValueError("a timeline figure needs at least one event")
    events = sorted(events, key=lambda event: (event.date.first_day(), _end_day(event)))
    with _style_context(style):
        width_in = style.width_mm / MM_PER_INCH
        figure = Figure(figsize=(width_in, 2.0), dpi=MEASURE_DPI)
        figure.patch.set_visible(False)  # transparent: the page shows through
        renderer = FigureCanvasAgg(figure).get_renderer()  # type: ignore[no-untyped-call]
        font_pt = max(MIN_FONT_PT, style.font_size_pt)
        measure = _measurer(figure, renderer, font_pt)
        metrics = _Metrics(font_pt=font_pt, line_pt=measure("lp")[1] * PT_PER_INCH)
        _Drawing(figure, renderer, events, categories, metrics, measure).draw()
    return figure


def _date_number(moment: dt.datetime) -> float:
    """Matplotlib's date number (days since its epoch), the unit the date locators expect."""
    from matplotlib import dates as mdates

    return float(mdates.date2num(moment))  # type: ignore[no-untyped-call]


def _measurer(figure: Figure, renderer: RendererBase, font_pt: float) -> Callable[[str], tuple[float, float]]:
    """A function giving a label's rendered (width, height) in inches at the label font size."""
    cache: dict[str, tuple[float, float]] = {}

    def measure(text: str) -> tuple[float, float]:
        if text not in cache:
            probe = figure.text(0, 0, text, fontsize=font_pt, parse_math=False, linespacing=LINE_SPACING)
            box = probe.get_window_extent(renderer)
            probe.remove()
            cache[text] = (box.width / figure.dpi, box.height / figure.dpi)
        return cache[text]

    return measure


class _Drawing:
    """The state of one figure while it is laid out: kept together so each step stays short."""

    def __init__(
        self,
        figure: Figure,
        renderer: RendererBase,
        events: Sequence[TimelineEvent],
        categories: Sequence[Category],
        metrics: _Metrics,
        measure: Callable[[str], tuple[float, float]],
    ) -> None:
        self.figure = figure
        self.renderer = renderer
        self.events = list(events)
        self.metrics = metrics
        self.measure = measure
        self.width_in = float(figure.get_size_inches()[0])
        self.axis_left_in = AXIS_MARGIN_IN
        self.axis_width_in = self.width_in - 2 * AXIS_MARGIN_IN
        every = _category_keys(self.events, categories)
        used = {event.category for event in self.events}
        self.style_index = {key.key: position for position, key in enumerate(every)}
        self.categories = [key for key in every if key.key in used]  # what the legend lists
        first = min(event.date.first_day() for event in self.events)
        last = max(_end_day(event) for event in self.events)
        span_days = max((last - first).days, 6)
        middle = first + (last - first) / 2
        pad = dt.timedelta(days=span_days * 0.03 + 0.5)
        low = dt.datetime.combine(middle, dt.time()) - dt.timedelta(days=span_days / 2) - pad
        high = dt.datetime.combine(middle, dt.time()) + dt.timedelta(days=span_days / 2) + pad
        self.x_low, self.x_high = _date_number(low), _date_number(high)

    # coordinates -------------------------------------------------------------------------

    def x_num(self, day: dt.date) -> float:
        return _date_number(dt.datetime.combine(day, dt.time()))

    def num_to_in(self, num: float) -> float:
        share = (num - self.x_low) / (self.x_high - self.x_low)
        return self.axis_left_in + share * self.axis_width_in

    def in_to_num(self, inches: float) -> float:
        share = (inches - self.axis_left_in) / self.axis_width_in
        return self.x_low + share * (self.x_high - self.x_low)

    # the whole figure ------------------------------------------------------------------------

    def draw(self) -> None:
        """Measure, place and draw; the figure height is only known once labels are stacked."""
        metrics = self.metrics
        axes = self.figure.add_axes((0.0, 0.0, 1.0, 1.0))
        ticks = self._set_up_time_axis(axes)
        lanes = _assign_lanes(self._span_extents())
        lane_count = max(lanes.values(), default=-1) + 1
        stack_top_pt = metrics.marker_pt / 2
        if lane_count:
            stack_top_pt = self._lane_centre_pt(lane_count - 1) + metrics.marker_pt / 2
        rows_base_pt = stack_top_pt + metrics.font_pt * 0.6
        items = self._items(lanes)
        placements = _place_labels(items, self._label_limits(), metrics)
        row_count = max(
            (placement.row + item.rows for item, placement in zip(items, placements, strict=True)), default=0
        )
        plot_top_pt = rows_base_pt + row_count * metrics.row_pitch_pt
        legend = self._legend()
        legend_in = 0.0
        if legend is not None:
            legend_in = legend.get_window_extent(self.renderer).height / self.figure.dpi
            legend_in += metrics.font_pt * 0.6 / PT_PER_INCH
        bottom_in = self._bottom_margin_in(ticks.has_offset)
        top_margin_in = 2 / PT_PER_INCH
        height_in = bottom_in + plot_top_pt / PT_PER_INCH + legend_in + top_margin_in
        self.figure.set_size_inches(self.width_in, height_in)
        axes_height_in = plot_top_pt / PT_PER_INCH
        axes.set_position(
            (
                self.axis_left_in / self.width_in,
                bottom_in / height_in,
                self.axis_width_in / self.width_in,
                axes_height_in / height_in,
            )
        )
        axes.set_ylim(0, plot_top_pt)
        if legend is not None:
            legend.set_bbox_to_anchor(
                (self.axis_left_in - 0.02, height_in - top_margin_in), transform=self.figure.dpi_scale_trans
            )
        self._draw_events(axes, lanes)
        self._draw_labels(axes, items, placements, rows_base_pt)
        self._drop_clipped_tick_labels(axes, ticks)

    # time axis -------------------------------------------------------------------------------

    def _set_up_time_axis(self, axes: Axes) -> _Ticks:
        """Fix the ticks once, so they cannot change (or be re-created unstyled) at save time."""
        from matplotlib import dates as mdates
        from matplotlib import ticker

        metrics = self.metrics
        axes.set_xlim(self.x_low, self.x_high)
        axes.patch.set_visible(False)
        for side in ("top", "right", "left"):
            axes.spines[side].set_visible(False)
        axes.spines["bottom"].set_color(AXIS_COLOUR)
        axes.spines["bottom"].set_linewidth(0.6)
        axes.spines["bottom"].set_zorder(1.5)
        axes.set_yticks([])
        max_ticks = max(3, int(self.axis_width_in / 0.55))
        locator = mdates.AutoDateLocator(minticks=3, maxticks=max_ticks)  # type: ignore[no-untyped-call]
        formatter = mdates.ConciseDateFormatter(  # type: ignore[no-untyped-call]
            locator,
            formats=["%Y", "%b", "%-d", "%H:%M", "%H:%M", "%S.%f"],
            zero_formats=["", "%Y", "%b", "%-d %b", "%H:%M", "%H:%M"],
            offset_formats=["", "%Y", "%B %Y", "%-d %B %Y", "%-d %B %Y", "%-d %B %Y %H:%M"],
        )
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(formatter)
        locations = [float(x) for x in locator() if self.x_low <= x <= self.x_high]
        labels = list(formatter.format_ticks(locations))  # type: ignore[no-untyped-call]
        offset = formatter.get_offset()  # type: ignore[no-untyped-call]
        fixed_formatter = ticker.FixedFormatter(labels)
        fixed_formatter.set_offset_string(offset)
        axes.xaxis.set_major_locator(ticker.FixedLocator(locations))
        axes.xaxis.set_major_formatter(fixed_formatter)
        axes.xaxis.set_minor_locator(ticker.NullLocator())
        axes.tick_params(
            axis="x",
            direction="out",
            length=3,
            width=0.6,
            color=AXIS_COLOUR,
            labelsize=metrics.font_pt,
            labelcolor=TICK_TEXT_COLOUR,
            pad=2,
        )
        offset_text = axes.xaxis.get_offset_text()
        offset_text.set_fontsize(metrics.font_pt)
        offset_text.set_color(TICK_TEXT_COLOUR)
        for tick in axes.xaxis.get_major_ticks(len(locations)):  # create them now, inside the rc context
            tick.label1.set_parse_math(False)
        return _Ticks(locations, labels, bool(offset))

    def _bottom_margin_in(self, has_offset: bool) -> float:
        """Room under the axis for ticks, tick labels and the date offset ('June 2025')."""
        metrics = self.metrics
        points = 3 + 2 + metrics.line_pt + 2
        if has_offset:
            points += 3 + metrics.line_pt
        return points / PT_PER_INCH

    def _drop_clipped_tick_labels(self, axes: Axes, ticks: _Ticks) -> None:
        """Blank any outer tick label that would run off the figure edge."""
        from matplotlib import ticker

        labels = []
        for location, label in zip(ticks.locations, ticks.labels, strict=True):
            half = self.measure(label)[0] / 2 if label else 0.0
            centre = self.num_to_in(location)
            inside = centre - half >= EDGE_MARGIN_IN and centre + half <= self.width_in - EDGE_MARGIN_IN
            labels.append(label if inside else "")
        formatter = axes.xaxis.get_major_formatter()
        offset = formatter.get_offset() if isinstance(formatter, ticker.FixedFormatter) else ""
        replacement = ticker.FixedFormatter(labels)
        replacement.set_offset_string(offset)
        axes.xaxis.set_major_formatter(replacement)

    # events ---------------------------------------------------------------------------------

    def _span_extents(self) -> list[tuple[int, float, float]]:
        """(index, left, right) in inches for every event with an end date."""
        extents = []
        min_width = self.metrics.bar_pt / PT_PER_INCH
        for index, event in enumerate(self.events):
            if event.end is None:
                continue
            left = self.num_to_in(self.x_num(event.date.first_day()))
            right = self.num_to_in(self.x_num(event.end.last_day()))
            extents.append((index, left, max(right, left + min_width)))
        return extents

    def _lane_centre_pt(self, lane: int) -> float:
        return (lane + 1) * self.metrics.lane_pitch_pt

    def _items(self, lanes: dict[int, int]) -> list[_Item]:
        """Measure every label, wrapping it only when it is wider than the figure."""
        metrics = self.metrics
        available = self.width_in - 2 * EDGE_MARGIN_IN
        spans = {index: (left, right) for index, left, right in self._span_extents()}
        items = []
        for index, event in enumerate(self.events):
            text = _wrap(_clean_label(event.short_label), lambda s: self.measure(s)[0], available)
            width, height = self.measure(text) if text else (0.0, metrics.line_pt / PT_PER_INCH)
            extra = max(0.0, height * PT_PER_INCH - metrics.line_pt)
            rows = 1 + math.ceil(extra / metrics.row_pitch_pt - 1e-6)
            if index in spans:
                left, right = spans[index]
                anchor = (left + right) / 2
                base = self._lane_centre_pt(lanes[index]) + metrics.marker_pt / 2
            else:
                anchor = self.num_to_in(self.x_num(event.date.first_day()))
                base = metrics.marker_pt / 2
            items.append(_Item(event, text, anchor, width, rows, base))
        return items

    def _label_limits(self) -> tuple[float, float]:
        return EDGE_MARGIN_IN, self.width_in - EDGE_MARGIN_IN

    def _style_of(self, key: str | None) -> tuple[str, str]:
        position = self.style_index[key]
        return OKABE_ITO[position % len(OKABE_ITO)], MARKERS[position % len(MARKERS)]

    def _draw_events(self, axes: Axes, lanes: dict[int, int]) -> None:
        """Bars for spans (one lane each where they overlap), markers on the axis for points."""
        from matplotlib.patches import Rectangle

        metrics = self.metrics
        points: dict[str | None, list[float]] = {}
        beads: dict[str | None, tuple[list[float], list[float]]] = {}
        for index, left, right in self._span_extents():
            event = self.events[index]
            colour, _ = self._style_of(event.category)
            centre = self._lane_centre_pt(lanes[index])
            x0, x1 = self.in_to_num(left), self.in_to_num(right)
            bar = Rectangle(
                (x0, centre - metrics.bar_pt / 2),
                x1 - x0,
                metrics.bar_pt,
                facecolor=colour,
                edgecolor="none",
                linewidth=0,
                zorder=2,
                clip_on=False,
            )
            bar.set_gid(f"span-bar-{index}")
            axes.add_patch(bar)
            xs, ys = beads.setdefault(event.category, ([], []))
            xs.append(self.in_to_num((left + right) / 2))
            ys.append(centre)
        for event in self.events:
            if event.end is None:
                points.setdefault(event.category, []).append(self.x_num(event.date.first_day()))
        for category in self.categories:
            colour, marker = self._style_of(category.key)
            common: dict[str, Any] = {
                "linestyle": "none",
                "marker": marker,
                "markersize": metrics.marker_pt,
                "markerfacecolor": colour,
                "markeredgecolor": "white",
                "markeredgewidth": 0.6,
                "clip_on": False,
                "zorder": 3,
            }
            if category.key in points:
                xs = points[category.key]
                (line,) = axes.plot(xs, [0.0] * len(xs), **common)
                line.set_gid(f"event-markers-{self.categories.index(category)}")
            if category.key in beads:
                xs, ys = beads[category.key]
                # no white ring: on a short bar it would cut the bar into stubs
                (line,) = axes.plot(xs, ys, **{**common, "markeredgecolor": colour})
                line.set_gid(f"span-markers-{self.categories.index(category)}")

    def _draw_labels(
        self, axes: Axes, items: Sequence[_Item], placements: Sequence[_Placement], rows_base_pt: float
    ) -> None:
        """Labels in their rows with thin grey leaders down to the marker or bar."""
        from matplotlib.collections import LineCollection

        metrics = self.metrics
        segments = []
        for index, (item, placement) in enumerate(zip(items, placements, strict=True)):
            if not item.text:
                continue
            bottom = rows_base_pt + placement.row * metrics.row_pitch_pt
            x_in = placement.left_in if placement.align == "left" else placement.left_in + item.width_in
            label = axes.text(
                self.in_to_num(x_in),
                bottom,
                item.text,
                ha=placement.align,
                va="bottom",
                fontsize=metrics.font_pt,
                color=TEXT_COLOUR,
                parse_math=False,
                clip_on=False,
                zorder=4,
                linespacing=LINE_SPACING,
            )
            label.set_gid(f"event-label-{index}")
            anchor = self.in_to_num(item.anchor_in)
            start = 0.0 if item.event.end is None else item.base_pt
            for low, high in _leader_pieces(index, items, placements, start, rows_base_pt, metrics):
                segments.append([(anchor, low), (anchor, high)])
        leaders = LineCollection(
            segments, colors=LEADER_COLOUR, linewidths=0.5, zorder=1, clip_on=False, capstyle="butt"
        )
        leaders.set_gid("leaders")
        axes.add_collection(leaders, autolim=False)

    def _legend(self) -> Legend | None:
        """A one-row key above the plot, wrapped into more rows only if it is wider than the figure."""
        from matplotlib.lines import Line2D

        if len(self.categories) == 1 and self.categories[0].key is None:
            return None
        metrics = self.metrics
        handles = []
        for category in self.categories:
            colour, marker = self._style_of(category.key)
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker=marker,
                    markersize=metrics.marker_pt,
                    markerfacecolor=colour,
                    markeredgecolor="white",
                    markeredgewidth=0.6,
                )
            )
        labels = [category.label for category in self.categories]
        available = self.width_in - 2 * EDGE_MARGIN_IN
        legend: Legend | None = None
        for columns in range(len(handles), 0, -1):
            if legend is not None:
                legend.remove()
            legend = self.figure.legend(
                handles,
                labels,
                loc="upper left",
                bbox_to_anchor=(self.axis_left_in, 1.0),
                bbox_transform=self.figure.dpi_scale_trans,
                ncols=columns,
                frameon=False,
                fontsize=metrics.font_pt,
                handlelength=0.8,
                handletextpad=0.4,
                columnspacing=1.4,
                borderaxespad=0.0,
                borderpad=0.0,
                labelspacing=0.3,
                labelcolor=TEXT_COLOUR,
            )
            for text in legend.get_texts():
                text.set_parse_math(False)
            if legend.get_window_extent(self.renderer).width / self.figure.dpi <= available - self.axis_left_in:
                break
        return legend


def _leader_pieces(
    index: int, items: Sequence[_Item], placements: Sequence[_Placement], start: float, base: float, metrics: _Metrics
) -> list[tuple[float, float]]:
    """The leader's vertical extent in points, interrupted where it would run across a lower label.

    Layouts avoid that, but a very dense timeline may leave a few; a leader that
    visibly passes behind a label reads better than a line struck through its text.
    """
    item, placement = items[index], placements[index]
    top = base + placement.row * metrics.row_pitch_pt
    gaps = []
    for other, where in zip(items, placements, strict=True):
        if other is item or where.row >= placement.row or not other.text:
            continue
        if where.left_in - 0.5 / PT_PER_INCH < item.anchor_in < where.left_in + other.width_in + 0.5 / PT_PER_INCH:
            bottom = base + where.row * metrics.row_pitch_pt
            gaps.append((bottom - 1.0, bottom + other.rows * metrics.row_pitch_pt - 0.5))
    pieces = []
    low = start
    for gap_low, gap_high in sorted(gaps):
        if gap_low > low:
            pieces.append((low, gap_low))
        low = max(low, gap_high)
    if top > low:
        pieces.append((low, top))
    return pieces


def _category_keys(events: Sequence[TimelineEvent], declared: Sequence[Category]) -> list[_Key]:
    """Every category in the timeline's order, then undeclared keys and 'Other' in order of use.

    Colours and shapes follow this order, not just the categories a figure shows, so a
    category looks the same in every figure of a briefing.
    """
    keys = [_Key(category.key, category.label) for category in declared]
    known = {key.key for key in keys}
    for key in dict.fromkeys(event.category for event in events):
        if key not in known:
            keys.append(_Key(key, key if key is not None else "Other"))
            known.add(key)
    return keys


def _assign_lanes(extents: Sequence[tuple[int, float, float]]) -> dict[int, int]:
    """Greedy interval colouring: each span takes the lowest lane where it overlaps nothing."""
    gap = 3 / PT_PER_INCH
    lane_ends: list[float] = []
    lanes: dict[int, int] = {}
    for index, left, right in sorted(extents, key=lambda e: (e[1], e[2], e[0])):
        for lane, end in enumerate(lane_ends):
            if left >= end + gap:
                lane_ends[lane] = right
                lanes[index] = lane
                break
        else:
            lanes[index] = len(lane_ends)
            lane_ends.append(right)
    return lanes


def _wrap(text: str, width_of: Callable[[str], float], available: float) -> str:
    """Break a label into lines only when it cannot fit across the figure."""
    if not text or width_of(text) <= available:
        return text
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if width_of(candidate) <= available:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        while width_of(word) > available:  # a single word wider than the figure: cut it
            cut = len(word) - 1
            while cut > 1 and width_of(word[:cut]) > available:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return "\n".join(lines)


# --------------------------------------------------------------------------- label placement
#
# Leaders are vertical, so a label in a low row must never span the x of a leader that
# rises past it to a higher row: if label i reaches over the marker of event j, i must sit
# above j. Each label is written either right of its leader or left of it (pushed inside
# the figure at the edges); given those sides, "i reaches over j" is a graph, and placing
# labels so that every label comes after the markers it reaches over, each in the lowest
# free row, stacks them without a crossing as long as the graph has no cycle. Labels all
# on the right make a staircase down to the right; a cluster reads better as a pyramid,
# left-hand labels on its early side and right-hand ones on its late side. A short local
# search over the sides finds such layouts: fewest crossings, then fewest rows.


@dataclass(frozen=True)
class _Box:
    left: float
    right: float
    align: str


def _blocks(left: float, right: float, own: float, x: float, clear: float, pad: float) -> bool:
    """Whether a leader at x may not pass a lower label spanning left..right whose own leader is at own.

    It may never run through the text, nor close beside it (it would look attached),
    unless both leaders are at practically the same date, where that is the truth.
    """
    if left < x < right:
        return True
    return left - clear < x < right + clear and abs(x - own) >= pad


class _Rows:
    """Occupied horizontal intervals per label row: label boxes and the leaders passing through."""

    def __init__(self, metrics: _Metrics) -> None:
        self.gap = metrics.label_gap_in
        self.clear = metrics.leader_clear_in
        self.pad = metrics.leader_pad_in
        self.labels: list[list[tuple[float, float, float]]] = []  # left, right, own anchor
        self.leaders: list[list[float]] = []

    def _ensure(self, rows: int) -> None:
        while len(self.labels) < rows:
            self.labels.append([])
            self.leaders.append([])

    def box_is_free(self, row: int, rows: int, left: float, right: float) -> bool:
        """No other label within the gap in any of the rows the label needs."""
        self._ensure(row + rows)
        gap = self.gap
        return not any(
            left < other_right + gap and other_left < right + gap
            for r in range(row, row + rows)
            for other_left, other_right, _ in self.labels[r]
        )

    def crossings(self, row: int, rows: int, left: float, right: float, anchor: float) -> int:
        """Leaders the label would lie across, plus labels its own leader would pass through."""
        self._ensure(row + rows)
        clear, pad = self.clear, self.pad
        across = sum(
            _blocks(left, right, anchor, x, clear, pad) for r in range(row, row + rows) for x in self.leaders[r]
        )
        through = sum(
            _blocks(lower_left, lower_right, lower_anchor, anchor, clear, pad)
            for r in range(row)
            for lower_left, lower_right, lower_anchor in self.labels[r]
        )
        return across + through

    def add(self, row: int, rows: int, left: float, right: float, anchor: float) -> None:
        self._ensure(row + rows)
        for r in range(row, row + rows):
            self.labels[r].append((left, right, anchor))
        for r in range(row):
            self.leaders[r].append(anchor)

    @property
    def height(self) -> int:
        return max((r + 1 for r, row in enumerate(self.labels) if row), default=0)


def _box(item: _Item, text_right: bool, limits: tuple[float, float], metrics: _Metrics) -> _Box:
    """Where a label goes beside its leader; at a figure edge it slides inward over its own marker."""
    low, high = limits
    pad, width = metrics.leader_pad_in, item.width_in
    if text_right:
        left = item.anchor_in + pad
        if left + width <= high:
            return _Box(left, left + width, "left")
        left = max(low, high - width)
        return _Box(left, left + width, "right" if left > low else "left")
    right = item.anchor_in - pad
    if right - width >= low:
        return _Box(right - width, right, "right")
    left = min(low, high - width)
    return _Box(left, left + width, "left")


def _stack(
    items: Sequence[_Item], sides: Sequence[bool], limits: tuple[float, float], metrics: _Metrics, cap: int
) -> tuple[list[_Placement], int]:
    """Place labels on their chosen sides, each after the markers it reaches over.

    Each label takes the row that stays under ``cap`` rows, then crosses the fewest
    leaders, then is lowest. Returns the placements and the number of crossings.
    """
    count = len(items)
    boxes = [_box(item, side, limits, metrics) for item, side in zip(items, sides, strict=True)]
    clear, pad = metrics.leader_clear_in, metrics.leader_pad_in
    reaches = [
        {
            j
            for j in range(count)
            if j != i and _blocks(boxes[i].left, boxes[i].right, items[i].anchor_in, items[j].anchor_in, clear, pad)
        }
        for i in range(count)
    ]
    rows = _Rows(metrics)
    placements: dict[int, _Placement] = {}
    crossings = 0
    remaining = sorted(range(count), key=lambda i: (items[i].anchor_in, i))
    while remaining:
        waiting = {
            i: sorted(reaches[i].difference(placements), key=lambda j: (items[j].anchor_in, j)) for i in remaining
        }
        ready = [i for i in remaining if not waiting[i]]
        if ready:
            index = ready[0]
        else:  # labels reach over each other: break the cycle where it blocks the fewest markers
            walk: list[int] = []
            node = remaining[0]
            while node not in walk:
                walk.append(node)
                node = waiting[node][0]
            cycle = walk[walk.index(node) :]
            index = min(cycle, key=lambda i: (len(waiting[i]), items[i].anchor_in, i))
        remaining.remove(index)
        item, box = items[index], boxes[index]
        best: tuple[int, int, int] | None = None
        for row in range(rows.height + 1):
            if not rows.box_is_free(row, item.rows, box.left, box.right):
                continue
            cost = (
                int(row + item.rows > cap),
                rows.crossings(row, item.rows, box.left, box.right, item.anchor_in),
                row,
            )
            if best is None or cost < best:
                best = cost
            if cost[1] == 0:
                break  # higher rows cannot do better
        assert best is not None  # the row above everything is always free
        row = best[2]
        crossings += best[1]
        rows.add(row, item.rows, box.left, box.right, item.anchor_in)
        placements[index] = _Placement(row, box.left, box.align)
    return [placements[i] for i in range(count)], crossings


def _pack(items: Sequence[_Item], limits: tuple[float, float], metrics: _Metrics) -> int:
    """Rows needed when leaders are ignored: each label right of its marker, lowest free row."""
    rows = _Rows(metrics)
    for index in sorted(range(len(items)), key=lambda i: (items[i].anchor_in, i)):
        item = items[index]
        box = _box(item, True, limits, metrics)
        row = next(r for r in range(rows.height + 1) if rows.box_is_free(r, item.rows, box.left, box.right))
        rows.add(row, item.rows, box.left, box.right, item.anchor_in)
    return rows.height


def _score(
    items: Sequence[_Item], placements: Sequence[_Placement], crossings: int, cap: int
) -> tuple[int, int, int, int, float]:
    """Lower is better: rows over the cap, crossings, height, total rows (a smooth guide), drift."""
    height = max(p.row + item.rows for p, item in zip(placements, items, strict=True))
    total = sum(p.row for p in placements)
    drift = sum(abs(p.left_in + item.width_in / 2 - item.anchor_in) for p, item in zip(placements, items, strict=True))
    return max(0, height - cap), crossings, height, total, round(drift, 6)


def _place_labels(
    items: Sequence[_Item], limits: tuple[float, float], metrics: _Metrics, slack: float | None = None
) -> list[_Placement]:
    """Choose each label's side by hill climbing from a few deterministic starts; keep the best layout.

    Moves flip one label, or two neighbours, to the other side of its leader. Clearing
    every leader can take many rows in a dense timeline, so the figure may grow only by
    ``slack`` (a share of the height plain packing needs) for that.
    """
    count = len(items)
    if not count:
        return []
    by_x = sorted(range(count), key=lambda i: (items[i].anchor_in, i))
    packed_height = _pack(items, limits, metrics)
    cap = packed_height + max(1, math.ceil(packed_height * (LEADER_SLACK if slack is None else slack)))
    budget = min(600, max(40, 120_000 // count**2))  # layouts to try: ~0.3 s whatever the size
    tried: dict[tuple[bool, ...], tuple[tuple[int, int, int, int, float], list[_Placement]]] = {}

    def evaluate(sides: tuple[bool, ...]) -> tuple[tuple[int, int, int, int, float], list[_Placement]]:
        if sides not in tried:
            placements, crossings = _stack(items, sides, limits, metrics, cap)
            tried[sides] = (_score(items, placements, crossings, cap), placements)
        return tried[sides]

    fits_right = tuple(
        items[i].anchor_in + metrics.leader_pad_in + items[i].width_in <= limits[1] for i in range(count)
    )
    alternating = [True] * count
    for rank, index in enumerate(by_x):
        alternating[index] = rank % 2 == 0
    moves = [(i,) for i in by_x] + list(itertools.pairwise(by_x))
    best = evaluate(fits_right)
    for start in (fits_right, (True,) * count, (False,) * count, tuple(alternating)):
        current, (score, _) = start, evaluate(start)
        improved = True
        while improved and len(tried) < budget:
            improved = False
            for move in moves:
                trial = tuple(not side if index in move else side for index, side in enumerate(current))
                if trial in tried:
                    continue
                trial_score, _ = evaluate(trial)
                if trial_score < score:
                    current, score, improved = trial, trial_score, True
                if len(tried) >= budget:
                    break
        if tried[current][0] < best[0]:
            best = tried[current]
    return best[1]


# --------------------------------------------------------------------------- SVG output


def _save_svg(figure: Figure, path: Path) -> None:
    """Write the SVG with real text and no timestamps, so equal input gives equal bytes."""
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    original = figure.canvas
    buffer = io.BytesIO()
    try:
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "briefing", "text.parse_math": False}):
            canvas = FigureCanvasSVG(figure)
            canvas.print_figure(
                buffer, format="svg", metadata={"Date": None, "Creator": None}, facecolor="none", edgecolor="none"
            )
    finally:
        figure.set_canvas(original)
    width_in, height_in = (float(v) for v in figure.get_size_inches())
    write_atomically(path, _with_mm_size(buffer.getvalue(), width_in, height_in))


def _with_mm_size(svg: bytes, width_in: float, height_in: float) -> bytes:
    """Give the root element its size in millimetres, the unit the page layout speaks."""
    text = svg.decode("utf-8")
    width = f'width="{width_in * MM_PER_INCH:.4f}mm"'
    height = f'height="{height_in * MM_PER_INCH:.4f}mm"'
    head, separator, rest = text.partition("<svg ")
    tag_end = rest.index(">")
    tag = re.sub(r'\bwidth="[^"]*"', width, rest[:tag_end], count=1)
    tag = re.sub(r'\bheight="[^"]*"', height, tag, count=1)
    return (head + separator + tag + rest[tag_end:]).encode("utf-8")
