"""Timeline events + page size -> the geometry of a figure (pure: no matplotlib, no files).

Every guarantee the figure makes lives here, where it can be tested on any event data:
no marker hides another (markers closer than their pitch are dodged upward, in a stable
order), labels never overlap and stay within a fixed number of rows per side, a leader
keeps clear of other labels, every event is labelled or numbered, and everything stays
inside the figure. When labels do not fit, the figure zooms a crowded interval into an
inset, or numbers every event and lists them in a key. Units are points, y grows downward
(as in SVG and CSS), and text is measured by a function the caller passes in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from .figure_axis import day_number
from .figure_geometry import PanelGeometry
from .figure_model import (
    Box,
    Chevron,
    LayoutEvent,
    LayoutRequest,
    Marker,
    Measure,
    Metrics,
    Segment,
    Shade,
    Strategy,
    Text,
    text_box,
)


@dataclass(frozen=True)
class KeyEntry:
    number: int
    event: int
    label: str
    date_text: str


@dataclass(frozen=True)
class Layout:
    """A placed figure: everything the drawing needs, and what the guarantees are checked on."""

    width: float
    height: float
    strategy: Strategy
    markers: tuple[Marker, ...]
    segments: tuple[Segment, ...]
    shades: tuple[Shade, ...]
    chevrons: tuple[Chevron, ...]
    texts: tuple[Text, ...]
    marker_size: float
    numbers: dict[int, int]
    """Event index -> its number, for numbered events."""
    key: tuple[KeyEntry, ...]
    inset: tuple[dt.date, dt.date] | None
    unplaced: int
    """Events that found neither a label nor a number (always 0 in a finished layout)."""

    @property
    def labelled(self) -> set[int]:
        return {text.event for text in self.texts if text.role == "label"}


# --------------------------------------------------------------------------- entry point


def make_layout(request: LayoutRequest, measure: Measure) -> Layout:
    """Choose the strategy and place everything; the result satisfies every guarantee."""
    if not request.events:
        raise ValueError("a timeline figure needs at least one event")
    metrics = Metrics.for_font(request.font_pt)
    strategy = request.strategy
    if strategy is Strategy.CALLOUTS:
        return _callouts(request, metrics, measure)
    if request.inset is not None:
        return _with_inset(request, metrics, measure, request.inset, numbered_fallback=True)
    if strategy is not Strategy.INSET:
        plain = _labelled(request, metrics, measure)
        if plain.unplaced == 0 and plain.height <= request.max_height:
            return plain
        if strategy is Strategy.DIRECT:
            return _labelled(request, metrics, measure, number_leftovers=True)
    candidates = _inset_candidates(request, metrics) if request.allow_inset or strategy is Strategy.INSET else []
    for interval in candidates:
        layout = _with_inset(request, metrics, measure, interval, numbered_fallback=strategy is Strategy.INSET)
        if layout.unplaced == 0 and layout.height <= request.max_height:
            return layout
    callouts = _callouts(request, metrics, measure)
    if callouts.height <= request.max_height or strategy is Strategy.INSET:
        return callouts
    # A key too long for the page: label what fits (zoomed where it helps), number the rest.
    for fallback in [
        *(_with_inset(request, metrics, measure, interval, numbered_fallback=True) for interval in candidates[:1]),
        _labelled(request, metrics, measure, number_leftovers=True),
    ]:
        if fallback.height <= request.max_height:
            return fallback
    return callouts  # the caller draws it in parts


# --------------------------------------------------------------------------- strategies


def _labelled(request: LayoutRequest, metrics: Metrics, measure: Measure, number_leftovers: bool = False) -> Layout:
    """One axis, every event labelled where it fits (numbered where it does not, if asked)."""
    builder = _Builder(request, metrics, measure)
    window = _window(request)
    while True:  # numbers widen the markers they sit by: place again until nothing is left over
        builder.reset_drawing()
        panel = builder.panel(list(range(len(request.events))), window, top=builder.legend_bottom())
        if not number_leftovers or not panel.unplaced:
            break
        builder.number(panel.unplaced_events)
    builder.add_key()
    return builder.finish(Strategy.DIRECT if number_leftovers else Strategy.AUTO, None, panel.unplaced)


def _callouts(request: LayoutRequest, metrics: Metrics, measure: Measure) -> Layout:
    """Every event numbered in date order; the key lists number, label and date in columns."""
    builder = _Builder(request, metrics, measure)
    builder.number(list(range(len(request.events))))
    panel = builder.panel(list(range(len(request.events))), _window(request), top=builder.legend_bottom())
    builder.add_key()
    return builder.finish(Strategy.CALLOUTS, None, panel.unplaced)


def _with_inset(
    request: LayoutRequest,
    metrics: Metrics,
    measure: Measure,
    interval: tuple[dt.date, dt.date],
    numbered_fallback: bool,
) -> Layout:
    """The main axis with the interval as a shaded band, and an inset at the interval's own scale."""
    first, last = interval
    inside = [
        i
        for i, e in enumerate(request.events)
        if first <= e.start <= last and (e.end is None or e.end <= last)
    ]
    outside = [i for i in range(len(request.events)) if i not in set(inside)]
    builder = _Builder(request, metrics, measure)
    band = (day_number(first), day_number(last) + 1)
    band_label = _interval_text(first, last, request.months)
    while True:  # later passes number what found no room (numbers widen markers: place again)
        builder.reset_drawing()
        main = builder.panel(outside, _window(request), top=builder.legend_bottom(), band=(band, band_label))
        inset_top = main.bottom + metrics.inset_gap
        inset = builder.panel(inside, band, top=inset_top + metrics.inset_pad, shade=True)
        leftovers = main.unplaced_events + inset.unplaced_events
        if not leftovers or not numbered_fallback:
            break
        builder.number(leftovers)
    bottom = inset.bottom + metrics.inset_pad
    builder.add_inset_frame(main, inset_top, bottom)
    builder.add_key()
    return builder.finish(Strategy.INSET, interval, main.unplaced + inset.unplaced)


def _inset_candidates(request: LayoutRequest, metrics: Metrics) -> list[tuple[dt.date, dt.date]]:
    """Crowded intervals worth zooming, narrowest first: runs of events closer than a label.

    Events are grouped when they sit closer than a threshold on the main axis (single
    linkage); a group must hold at least three events, cover at least two days (one day
    cannot be zoomed) and at most a quarter of the axis.
    """
    low, high = _window(request)
    scale = (request.width - 2 * metrics.edge) / (high - low)
    starts = sorted(
        (day_number(e.start), i) for i, e in enumerate(request.events) if e.end is None or e.end == e.start
    )
    found: set[tuple[dt.date, dt.date]] = set()
    for threshold in (metrics.pitch, 4 * metrics.pitch, 16 * metrics.pitch):
        groups: list[list[tuple[float, int]]] = []
        for point in starts:
            if groups and (point[0] - groups[-1][-1][0]) * scale < threshold:
                groups[-1].append(point)
            else:
                groups.append([point])
        for group in groups:
            days = group[-1][0] - group[0][0]
            if len(group) < 3 or days < 1 or days > (high - low) / 4:
                continue
            pad = max(1.0, round(days * 0.04))
            first = _to_date(max(group[0][0] - pad, low))
            last = _to_date(min(group[-1][0] + pad, high - 1))
            found.add((first, last))
    # The narrowest first: the first interval that makes everything fit zooms the least.
    ranked = sorted(found, key=lambda interval: (interval[1] - interval[0], interval))
    return ranked[:6]


# --------------------------------------------------------------------------- the builder


@dataclass
class _Panel:
    """One placed axis: where it ends and what did not fit."""

    bottom: float
    unplaced_events: list[int]
    band_box: Box | None = None

    @property
    def unplaced(self) -> int:
        return len(self.unplaced_events)


class _Builder:
    """Collects the records of one layout attempt; panels are stacked top to bottom."""

    def __init__(self, request: LayoutRequest, metrics: Metrics, measure: Measure) -> None:
        self.request, self.metrics, self.measure = request, metrics, measure
        self.numbers: dict[int, int] = {}
        self.reset_drawing()

    def reset_drawing(self) -> None:
        self.markers: list[Marker] = []
        self.segments: list[Segment] = []
        self.shades: list[Shade] = []
        self.chevrons: list[Chevron] = []
        self.texts: list[Text] = []
        self.bottom = 0.0
        self._legend_bottom: float | None = None

    def number(self, events: Sequence[int]) -> None:
        """Number these events (and keep numbers already given), in date order from 1."""
        chosen = sorted(set(self.numbers) | set(events))
        self.numbers = {event: n for n, event in enumerate(chosen, start=1)}

    def legend_bottom(self) -> float:
        """Lay out the legend once per attempt; the first panel starts below it."""
        if self._legend_bottom is None:
            self._legend_bottom = self._add_legend()
        return self._legend_bottom

    def _add_legend(self) -> float:
        m, request = self.metrics, self.request
        if not request.legend:
            return 0.0
        x, baseline = m.edge + m.marker / 2, m.ascent
        for style, label in request.legend:
            width = m.marker + m.legend_pad + self.measure(label, False)
            if x > m.edge + m.marker and x + width > request.width - m.edge:
                x, baseline = m.edge + m.marker / 2, baseline + m.row
            self.markers.append(Marker(x, baseline - m.cap / 2, style, -1))
            text_x = x + m.marker / 2 + m.legend_pad
            self._text(text_x, baseline, label, "legend")
            x = text_x + self.measure(label, False) + m.legend_gap + m.marker / 2
        return baseline + m.descent + m.legend_space

    def panel(
        self,
        events: Sequence[int],
        window: tuple[float, float],
        top: float,
        band: tuple[tuple[float, float], str] | None = None,
        shade: bool = False,
    ) -> _Panel:
        """Place one axis with its events, spans, markers, labels and ticks, starting at ``top``."""
        placer = PanelGeometry(self.request, self.metrics, self.measure, self.numbers, window, top, shade)
        placed = placer.place(list(events), band)
        self.markers.extend(placed.markers)
        self.segments.extend(placed.segments)
        self.shades.extend(placed.shades)
        self.chevrons.extend(placed.chevrons)
        self.texts.extend(placed.texts)
        self.bottom = max(self.bottom, placed.bottom)
        return _Panel(placed.bottom, placed.unplaced, placed.band_box)

    def add_inset_frame(self, main: _Panel, top: float, bottom: float) -> None:
        """The inset's background and the guide lines from the band's foot to its top corners."""
        m = self.metrics
        frame = Box(0.0, top, self.request.width, bottom)
        self.shades.insert(0, Shade(frame, "inset"))
        if main.band_box is not None:
            band = main.band_box
            self.segments.append(Segment(band.left, band.bottom, frame.left + m.guide_inset, top, "guide"))
            self.segments.append(Segment(band.right, band.bottom, frame.right - m.guide_inset, top, "guide"))
        self.bottom = max(self.bottom, bottom)

    def add_key(self) -> None:
        """Number, label and date in up to three columns, numbered down the columns."""
        if not self.numbers:
            return
        m, request = self.metrics, self.request
        entries = [
            KeyEntry(n, event, request.events[event].label, request.events[event].date_text)
            for event, n in sorted(self.numbers.items(), key=lambda item: item[1])
        ]
        number_width = max(self.measure(str(e.number), True) for e in entries)
        width = request.width - 2 * m.edge
        for columns in (3, 2, 1):  # the most columns where every label fits (a long date takes a line of its own)
            column_width = (width - (columns - 1) * m.column_gap) / columns
            room = column_width - number_width - m.key_pad
            if columns == 1 or all(self.measure(e.label, False) <= room for e in entries):
                break
        per_column = -(-len(entries) // columns)
        top = self.bottom + m.key_space
        lowest = top
        for index, entry in enumerate(entries):
            column, row_in_column = divmod(index, per_column)
            left = m.edge + column * (column_width + m.column_gap)
            if row_in_column == 0:
                baseline = top + m.ascent
            lines = _wrap(entry.label, self.measure, column_width - number_width - m.key_pad, entry.date_text)
            self._text(left + number_width, baseline, str(entry.number), "key-number", anchor="end", bold=True,
                       event=entry.event)
            for line_number, line in enumerate(lines):
                self._text(left + number_width + m.key_pad, baseline + line_number * m.row, line, "key-label",
                           event=entry.event)
            date_line = baseline + (len(lines) - 1) * m.row
            if self._entry_width(entry, number_width) > column_width:
                date_line += m.row  # a wrapped entry sets its date on a line of its own
            self._text(left + column_width, date_line, entry.date_text, "key-date", anchor="end", event=entry.event)
            lowest = max(lowest, date_line + m.descent)
            baseline = date_line + m.row
        self.bottom = lowest

    def _entry_width(self, entry: KeyEntry, number_width: float) -> float:
        m = self.metrics
        label = self.measure(entry.label, False)
        return number_width + m.key_pad + label + m.key_pad + self.measure(entry.date_text, False)

    def _text(self, x: float, baseline: float, text: str, role: str, anchor: str = "start", bold: bool = False,
              event: int = -1) -> None:
        width = self.measure(text, bold)
        left = x if anchor == "start" else x - width
        self.texts.append(Text(x, baseline, text, role, anchor, bold, event, text_box(self.metrics, role, left, width,
                                                                                         baseline)))

    def finish(self, strategy: Strategy, inset: tuple[dt.date, dt.date] | None, unplaced: int) -> Layout:
        height = self.bottom + self.metrics.bottom_margin
        return Layout(
            width=self.request.width,
            height=round(height, 3),
            strategy=strategy,
            markers=tuple(self.markers),
            segments=tuple(self.segments),
            shades=tuple(self.shades),
            chevrons=tuple(self.chevrons),
            texts=tuple(self.texts),
            marker_size=self.metrics.marker,
            numbers=dict(self.numbers),
            key=tuple(
                KeyEntry(n, e, self.request.events[e].label, self.request.events[e].date_text)
                for e, n in sorted(self.numbers.items(), key=lambda item: item[1])
            ),
            inset=inset,
            unplaced=unplaced,
        )


# --------------------------------------------------------------------------- helpers


def _window(request: LayoutRequest) -> tuple[float, float]:
    """The axis' day range: ``from``/``to`` exactly; otherwise the data with a little air."""
    events = request.events
    first = min(day_number(e.start) for e in events)
    last = max(day_number(e.end or e.start) for e in events) + 1
    extent = max(last - first, 7.0)
    pad = extent * 0.03
    low = day_number(request.window_from) if request.window_from else first - pad
    high = day_number(request.window_to) + 1 if request.window_to else last + pad
    if high - low < 1:
        high = low + 1
    return low, high


def _to_date(number: float) -> dt.date:
    ordinal = min(max(int(number), 1), dt.date.max.toordinal())
    return dt.date.fromordinal(ordinal)


def _interval_text(first: dt.date, last: dt.date, months: Sequence[str] = ()) -> str:
    """'Feb–Jun 2025', '3–18 Jun 2025', 'Nov 2024–Feb 2025': the band's name, as short as it can be."""
    def month(day: dt.date) -> str:
        return months[day.month - 1] if months else f"{day:%b}"

    if first.year != last.year:
        return f"{month(first)} {first.year}\u2013{month(last)} {last.year}"
    if first.month != last.month:
        return f"{month(first)}\u2013{month(last)} {last.year}"
    return f"{first.day}\u2013{last.day} {month(first)} {first.year}"


def _wrap(text: str, measure: Measure, width: float, date_text: str) -> list[str]:
    """Break a key label into lines no wider than ``width`` (a word wider than that stands alone)."""
    if measure(text, False) <= width - measure(date_text, False):
        return [text]
    lines: list[str] = []
    current = ""
    for word in _short_words(text, measure, width):
        candidate = f"{current} {word}" if current else word
        if current and measure(candidate, False) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    return lines


def _short_words(text: str, measure: Measure, width: float) -> list[str]:
    """The words of a text, a word wider than ``width`` cut into pieces that fit."""
    words = []
    for word in text.split(" "):
        while len(word) > 1 and measure(word, False) > width:
            cut = len(word) - 1
            while cut > 1 and measure(word[:cut], False) > width:
                cut -= 1
            words.append(word[:cut])
            word = word[cut:]
        words.append(word)
    return words


__all__ = [
    "Chevron",
    "KeyEntry",
    "Layout",
    "LayoutEvent",
    "LayoutRequest",
    "Marker",
    "Measure",
    "Segment",
    "Shade",
    "Strategy",
    "Text",
    "make_layout",
]
