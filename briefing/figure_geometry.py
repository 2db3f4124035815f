"""One axis of a timeline figure -> placed markers, spans, labels and ticks (pure geometry)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .figure_axis import Tick, day_number, make_ticks
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
    Text,
    text_box,
)


@dataclass
class Placed:
    """What one axis produced."""

    markers: list[Marker] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    shades: list[Shade] = field(default_factory=list)
    chevrons: list[Chevron] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    unplaced: list[int] = field(default_factory=list)
    bottom: float = 0.0
    band_box: Box | None = None


@dataclass
class _Slot:
    """A label's horizontal place in a row, before rows get their heights."""

    event: int
    side: int  # 1 above the axis, -1 below
    row: int
    left: float
    right: float
    leader: float | None  # the leader's x; None for the band's name
    text: str
    bold: bool = False


class PanelGeometry:
    """Places one axis: horizontal decisions first (dodge, lanes, rows), then heights."""

    def __init__(
        self,
        request: LayoutRequest,
        metrics: Metrics,
        measure: Measure,
        numbers: dict[int, int],
        window: tuple[float, float],
        top: float,
        shaded: bool,
    ) -> None:
        self.request, self.m, self.measure, self.numbers = request, metrics, measure, numbers
        self.low, self.high = window
        self.top = top
        margin = metrics.inset_pad if shaded else 0.0
        self.limits = (metrics.edge + margin, request.width - metrics.edge - margin)
        self.shaded = shaded
        self.hidden_ticks: set[int] = set()
        """Ticks whose label gave way to a leader below the axis."""
        self.preference: list[tuple[int, int]] = []
        """The (row, side) slots a label tries, in order, in the current attempt."""
        self.span_extents: dict[int, tuple[float, float]] = {}
        """Each span's horizontal extent with its label."""

    # -- coordinates ----------------------------------------------------------------------

    def _set_axis(self, events: Sequence[int]) -> None:
        m = self.m
        reserve = m.marker / 2
        numbered = [self.measure(str(self.numbers[i]), True) for i in events if i in self.numbers]
        if numbered:
            reserve += m.number_pad + max(numbered)
        self.axis = (self.limits[0] + m.marker / 2, self.limits[1] - reserve)

    def x(self, day: float) -> float:
        left, right = self.axis
        return left + (day - self.low) / (self.high - self.low) * (right - left)

    def point_x(self, event: LayoutEvent) -> float:
        """A point sits in the middle of its day (its month or year for vaguer dates: the first day)."""
        return self.x(day_number(event.start) + 0.5)

    # -- the whole axis -------------------------------------------------------------------

    def place(self, events: list[int], band: tuple[tuple[float, float], str] | None) -> Placed:
        self._set_axis(events)
        request, m = self.request, self.m
        spans = [i for i in events if request.events[i].is_span]
        points = [i for i in events if not request.events[i].is_span]
        out = Placed()
        levels = self._dodge(points)
        self.levels = levels
        self.number_boxes = [(*self._unit(i), levels[i]) for i in points if i in self.numbers]
        lanes, lane_texts = self._lanes(spans, out)
        ticks = self._ticks(points + spans)
        tick_boxes = {n: (self.x(t.day) + m.tick_pad, self.x(t.day) + m.tick_pad + self.measure(t.label, False))
                      for n, t in enumerate(ticks) if t.label}
        band_x: tuple[float, float] | None = None
        fixed: list[_Slot] = []
        if band is not None:
            band_x = self._band_x(band[0])
            name = self._band_name(band_x, band[1])
            if name is not None:
                fixed.append(name)
        labelled = [i for i in points if i not in self.numbers]
        best: tuple[tuple[int, int], list[_Slot], list[int], set[int]] | None = None
        rows = range(self.request.rows)
        preferences = [
            [(row, side) for row in rows for side in (1, -1)],  # inner rows first, above before below
            [(row, 1) for row in rows] + [(row, -1) for row in rows],
            [(row, -1) for row in rows] + [(row, 1) for row in rows],
        ]
        attempts = [(order, preference) for preference in preferences for order in self._orders(labelled)]
        for order, self.preference in attempts:
            self.hidden_ticks = set()
            slots, unplaced = list(fixed), []
            boxes = dict(tick_boxes)
            for index in order:
                slot = self._slot_for(index, slots, boxes, band_x)
                if slot is None:
                    unplaced.append(index)
                else:
                    slots.append(slot)
            score = (len(unplaced), sum(s.row for s in slots))
            if best is None or score < best[0]:
                best = (score, slots, unplaced, self.hidden_ticks)
            if not unplaced:
                break
        assert best is not None
        _, slots, unplaced, self.hidden_ticks = best
        out.unplaced.extend(sorted(unplaced))
        ticks = [Tick(t.day, "") if n in self.hidden_ticks else t for n, t in enumerate(ticks)]
        self._stack(out, points, levels, lanes, lane_texts, ticks, slots, band_x)
        return out

    # -- markers --------------------------------------------------------------------------

    def _unit(self, index: int) -> tuple[float, float]:
        """A marker's horizontal extent, with its number when it has one (they dodge as one)."""
        m = self.m
        x = self.point_x(self.request.events[index])
        right = x + m.marker / 2
        if index in self.numbers:
            right += m.number_pad + self.measure(str(self.numbers[index]), True)
        return x - m.marker / 2, right

    def _dodge(self, points: list[int]) -> dict[int, int]:
        """Beeswarm: in date order, each marker takes the lowest level where it touches no other."""
        gap = self.m.marker_gap
        occupied: list[list[tuple[float, float]]] = []
        levels: dict[int, int] = {}
        for index in sorted(points, key=lambda i: (self.point_x(self.request.events[i]), i)):
            left, right = self._unit(index)
            for level, taken in enumerate(occupied):
                if all(right + gap <= a or left >= b + gap for a, b in taken[-4:]):
                    taken.append((left, right))
                    levels[index] = level
                    break
            else:
                levels[index] = len(occupied)
                occupied.append([(left, right)])
        return levels

    # -- spans ----------------------------------------------------------------------------

    def _span_text(self, index: int) -> tuple[str, bool]:
        if index in self.numbers:
            return str(self.numbers[index]), True
        return self.request.events[index].label, False

    def _lanes(self, spans: list[int], out: Placed) -> tuple[dict[int, int], dict[int, tuple[float, str]]]:
        """Each span takes the lowest lane where it and its label touch no other span."""
        m = self.m
        ends: list[float] = []
        lanes: dict[int, int] = {}
        texts: dict[int, tuple[float, str]] = {}
        for index in sorted(spans, key=lambda i: (self.request.events[i].start, i)):
            x0, x1, _, _ = self._span_x(index)
            text, bold = self._span_text(index)
            width = self.measure(text, bold)
            anchor = "start"
            left = x0 + m.pad
            if left + width > self.limits[1]:
                left, anchor = x0 - m.pad - width, "end"
            if left < self.limits[0]:
                out.unplaced.append(index)
                text, width = "", 0.0
                left = x0
            extent = (min(x0, left), max(x1, left + width))
            self.span_extents[index] = extent
            for lane, end in enumerate(ends):
                if extent[0] >= end + m.label_gap:
                    ends[lane] = extent[1]
                    lanes[index] = lane
                    break
            else:
                lanes[index] = len(ends)
                ends.append(extent[1])
            texts[index] = (left if anchor == "start" else left + width, anchor + "|" + text)
        return lanes, texts

    def _span_x(self, index: int) -> tuple[float, float, bool, bool]:
        event = self.request.events[index]
        assert event.end is not None
        start, end = day_number(event.start), day_number(event.end) + 1
        clipped_left, clipped_right = start < self.low, end > self.high
        x0, x1 = self.x(max(start, self.low)), self.x(min(end, self.high))
        return x0, max(x1, x0 + self.m.bar), clipped_left, clipped_right

    # -- ticks and the band ---------------------------------------------------------------

    def _ticks(self, events: list[int]) -> list[Tick]:
        data_days = [day_number(self.request.events[i].start) for i in events]
        return make_ticks(
            self.low,
            self.high,
            self.x,
            lambda text: self.measure(text, False),
            data_days,
            self.m.tick_pad,
            self.limits[1],
            self.request.months,
        )

    def _band_x(self, band: tuple[float, float]) -> tuple[float, float]:
        left, right = self.x(band[0]), self.x(band[1])
        if right - left < 2 * self.m.scale:  # keep a band too narrow to see at 2 pt
            middle = (left + right) / 2
            left, right = middle - self.m.scale, middle + self.m.scale
        return max(left, self.limits[0]), min(right, self.limits[1])

    def _band_name(self, band_x: tuple[float, float], text: str) -> _Slot | None:
        """The band's name, bold, in the outermost row below, beside the band."""
        m = self.m
        width = self.measure(text, True)
        left = band_x[1] + m.pad
        if left + width > self.limits[1]:
            left = band_x[0] - m.pad - width
        if left < self.limits[0]:
            return None
        return _Slot(-1, -1, self.request.rows - 1, left, left + width, None, text, bold=True)

    # -- labels ---------------------------------------------------------------------------

    def _slot_for(
        self,
        index: int,
        slots: list[_Slot],
        tick_boxes: dict[int, tuple[float, float]],
        band_x: tuple[float, float] | None,
    ) -> _Slot | None:
        """The first free slot: inner rows before outer, above before below; None when none is free.

        A leader below the axis may not cut through a tick label; only when no slot is free
        otherwise does a tick give up its label (never the first, which carries the year).
        """
        m, event = self.m, self.request.events[index]
        x = self.point_x(event)
        width = self.measure(event.label, False)
        left = x + m.pad
        if left + width > self.limits[1]:  # the one flip: at the right edge, text ends at the leader
            left = x - m.pad - width
        if left < self.limits[0]:
            return None
        right = left + width
        first_label = min(tick_boxes, default=-1)
        for yielding in (False, True):
            crossed = {n for n, (a, b) in tick_boxes.items() if a - m.tick_pad / 2 < x < b + m.clear}
            if yielding and first_label in crossed:
                return None
            boxes = {} if yielding else tick_boxes
            for row, side in self.preference:
                if side == 1 and self._crosses_numbers(index, x):
                    continue
                if self._free(side, row, left, right, x, slots, boxes, band_x):
                    if side == -1 and yielding:
                        self.hidden_ticks |= crossed
                        for n in crossed:
                            del tick_boxes[n]
                    return _Slot(index, side, row, left, right, x, event.label)
        return None

    def _orders(self, labelled: list[int]) -> list[list[int]]:
        """Orders to try placing labels in, best guess first; the layout keeps the one that fits most.

        A label covers the leaders beside it, so it must sit further out than their labels:
        text running right of its leader goes latest first (earlier labels then take outer rows),
        and text flipped at the right edge goes last, over the leaders it covers. Chains of
        labels covering each other both ways have no such order, so plain date order (either
        way) is tried too.
        """
        by_date = sorted(labelled, key=lambda i: (self.request.events[i].start, i))
        return [sorted(labelled, key=self._placement_order), by_date[::-1], by_date]

    def _placement_order(self, index: int) -> tuple[bool, float, int]:
        event = self.request.events[index]
        x = self.point_x(event)
        flipped = x + self.m.pad + self.measure(event.label, False) > self.limits[1]
        return (flipped, x if flipped else -x, index if flipped else -index)

    def _crosses_numbers(self, index: int, x: float) -> bool:
        """A leader rising from its marker would cut through a number beside a marker stacked above."""
        level = self.levels[index]
        return any(left - 0.5 < x < right + 0.5 for left, right, other in self.number_boxes if other > level)

    def _free(
        self,
        side: int,
        row: int,
        left: float,
        right: float,
        x: float,
        slots: list[_Slot],
        tick_boxes: dict[int, tuple[float, float]],
        band_x: tuple[float, float] | None,
    ) -> bool:
        m = self.m
        # a leader along a tick label's left side (on the tick, as on a day scale) does not cut it
        if side == -1 and any(a - m.tick_pad / 2 < x < b + m.clear for a, b in tick_boxes.values()):
            return False  # the leader would cut through a tick label
        if band_x is not None and side == -1 and left < band_x[1] + m.label_gap and band_x[0] - m.label_gap < right:
            return False
        if band_x is not None and side == -1 and band_x[0] - m.clear < x < band_x[1] + m.clear:
            return False
        for other in slots:
            if other.side != side:
                continue
            if other.row == row and left < other.right + m.label_gap and other.left < right + m.label_gap:
                return False
            # another leader rising through this row past the label, or this leader past theirs
            if other.row > row and other.leader is not None and left - m.clear < other.leader < right + m.clear:
                return False
            if other.row < row and other.left - m.clear < x < other.right + m.clear:
                return False
        return True

    # -- heights --------------------------------------------------------------------------

    def _stack(
        self,
        out: Placed,
        points: list[int],
        levels: dict[int, int],
        lanes: dict[int, int],
        lane_texts: dict[int, tuple[float, str]],
        ticks: list[Tick],
        slots: list[_Slot],
        band_x: tuple[float, float] | None,
    ) -> None:
        """Give every row its height, top to bottom: span lanes, rows above, markers, axis, ticks, rows below."""
        m = self.m
        y = self.top + (m.inset_pad if self.shaded else 0.0)
        lane_count = max(lanes.values(), default=-1) + 1
        lane_height = m.row + m.span_tick + 1.0 * m.scale
        rows_above = max((s.row + 1 for s in slots if s.side == 1), default=0)
        stack_height = max(levels.values(), default=0) * m.pitch + m.marker / 2
        span_top: dict[int, float] = {}
        if rows_above:  # spans in lanes above the label rows, which stay clear of every marker
            y += lane_count * lane_height
            span_top = {index: y - (lane + 1) * lane_height for index, lane in lanes.items()}
            row_top = {row: y + (rows_above - 1 - row) * m.row for row in range(rows_above)}
            y += rows_above * m.row
            axis_y = y + stack_height + m.leader_rise
        else:  # no rows above: each span settles just above the markers and spans beneath it
            heights = self._skyline(points, levels, lanes, lane_height)
            axis_y = y + max([stack_height + 1.5 * m.scale, *heights.values()])
            span_top = {index: axis_y - height for index, height in heights.items()}
            row_top = {}
        tick_baseline = axis_y + m.tick + 1.0 * m.scale + m.cap
        below_top = tick_baseline + m.descent + 1.5 * m.scale
        rows_below = max((s.row + 1 for s in slots if s.side == -1), default=0)
        out.bottom = below_top + rows_below * m.row - (m.row - m.ascent - m.descent if rows_below else 0.0)
        if not rows_below:
            out.bottom = tick_baseline + m.descent
        self._draw_axis(out, axis_y, ticks, tick_baseline)
        self._draw_spans(out, lanes, lane_texts, span_top)
        for index in points:
            event = self.request.events[index]
            marker_y = axis_y - levels[index] * m.pitch
            x = self.point_x(event)
            out.markers.append(Marker(x, marker_y, event.style, index))
            if index in self.numbers:
                self._text(out, x + m.marker / 2 + m.number_pad, marker_y + m.cap / 2, str(self.numbers[index]),
                           "number", bold=True, event=index)
        for slot in slots:
            baseline = row_top[slot.row] + m.ascent if slot.side == 1 else below_top + slot.row * m.row + m.ascent
            if slot.leader is None:
                self._text(out, slot.left, baseline, slot.text, "band", bold=True)
                continue
            self._text(out, slot.left, baseline, slot.text, "label", event=slot.event,
                       anchor="start" if slot.left > slot.leader else "end", row=slot.side * (slot.row + 1))
            marker_y = axis_y - levels[slot.event] * m.pitch
            if slot.side == 1:
                out.segments.append(Segment(slot.leader, marker_y - m.marker / 2 - 0.6, slot.leader,
                                            baseline - m.cap, "leader"))
            else:
                out.segments.append(Segment(slot.leader, axis_y + m.marker / 2 + 0.6, slot.leader,
                                            baseline + m.descent, "leader"))
        if band_x is not None:
            band = Box(band_x[0], axis_y - m.pitch, band_x[1], out.bottom)
            out.shades.append(Shade(band, "band"))
            out.band_box = band

    def _draw_axis(self, out: Placed, axis_y: float, ticks: list[Tick], baseline: float) -> None:
        m = self.m
        out.segments.append(Segment(self.limits[0], axis_y, self.limits[1], axis_y, "axis"))
        for tick in ticks:
            x = self.x(tick.day)
            out.segments.append(Segment(x, axis_y, x, axis_y + m.tick, "tick"))
            if tick.label:
                self._text(out, x + m.tick_pad, baseline, tick.label, "tick")

    def _skyline(
        self, points: list[int], levels: dict[int, int], lanes: dict[int, int], lane_height: float
    ) -> dict[int, float]:
        """How high above the axis each span's top sits: lane by lane, on what lies beneath it."""
        m = self.m
        skyline = [(*self._unit(i), levels[i] * m.pitch + m.marker / 2) for i in points]
        heights: dict[int, float] = {}
        for index in sorted(lanes, key=lambda i: (lanes[i], self.request.events[i].start, i)):
            left, right = self.span_extents[index]
            below = [h for a, b, h in skyline if a < right + m.label_gap and left - m.label_gap < b]
            heights[index] = max(below, default=0.0) + 2.0 * m.scale + lane_height
            skyline.append((left, right, heights[index]))
        return heights

    def _draw_spans(
        self, out: Placed, lanes: dict[int, int], lane_texts: dict[int, tuple[float, str]], span_top: dict[int, float]
    ) -> None:
        """Bars with end ticks; the start tick rises as a pole to the label; chevrons where cut."""
        m = self.m
        for index in lanes:
            event = self.request.events[index]
            x0, x1, cut_left, cut_right = self._span_x(index)
            top = span_top[index]
            baseline = top + m.ascent
            bar_y = top + m.row + m.span_tick / 2
            out.segments.append(Segment(x0, bar_y, x1, bar_y, "span", event.style))
            for x, cut, direction in ((x0, cut_left, -1), (x1, cut_right, 1)):
                if cut:
                    out.chevrons.append(Chevron(x, bar_y, direction, event.style))
                else:
                    out.segments.append(Segment(x, bar_y - m.span_tick / 2, x, bar_y + m.span_tick / 2, "span-tick",
                                                event.style))
            text_x, packed = lane_texts[index]
            anchor, _, text = packed.partition("|")
            if not text:
                continue
            out.segments.append(Segment(x0, bar_y - m.span_tick / 2, x0, baseline - m.cap, "pole", event.style))
            bold = index in self.numbers
            self._text(out, text_x, baseline, text, "number" if bold else "label", anchor=anchor, bold=bold,
                       event=index)

    def _text(self, out: Placed, x: float, baseline: float, text: str, role: str, anchor: str = "start",
              bold: bool = False, event: int = -1, row: int = 0) -> None:
        width = self.measure(text, bold)
        left = x if anchor == "start" else x - width
        if role == "label" and anchor == "end" and row:
            left = x  # label slots are stored by their left edge
            x = left + width
        out.texts.append(Text(x, baseline, text, role, anchor, bold, event, text_box(self.m, role, left, width, baseline),
                              row))

