"""Placement guarantees on any event data: the pure geometry, without matplotlib or fonts."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefing.figure_axis import make_ticks
from briefing.figure_layout import Layout, make_layout
from briefing.figure_model import Box, LayoutEvent, LayoutRequest, Metrics, Strategy
from briefing.i18n import load_language

WIDTH = 160 / 25.4 * 72  # an A4 text block, in points
TOLERANCE = 1e-6


def measure(text: str, bold: bool) -> float:
    """Noto Sans 7 pt sets about 3.9 pt per character; bold a little wider."""
    return len(text) * 3.9 * (1.08 if bold else 1.0)


def event(day: str, label: str, end: str | None = None, style: int = 0) -> LayoutEvent:
    start = dt.date.fromisoformat(day)
    return LayoutEvent(label, start, dt.date.fromisoformat(end) if end else None, style, day)


# --------------------------------------------------------------------------- the guarantees


def assert_guarantees(request: LayoutRequest, layout: Layout) -> None:
    """Everything issue 15 promises, checked on the placed geometry."""
    metrics = Metrics.for_font(request.font_pt)
    count = len(request.events)
    assert layout.unplaced == 0
    # every event labelled or numbered (and keyed), exactly once
    labels = [t for t in layout.texts if t.role == "label"]
    assert len({t.event for t in labels}) == len(labels)
    for index in range(count):
        assert (index in layout.labelled) != (index in layout.numbers), f"event {index} labelled and numbered"
    assert sorted(entry.event for entry in layout.key) == sorted(layout.numbers)
    assert sorted(layout.numbers.values()) == list(range(1, len(layout.numbers) + 1))
    for text in labels:
        assert text.text == request.events[text.event].label
    # rows: at most request.rows above and below each axis
    point_labels = [t for t in labels if not request.events[t.event].is_span]
    assert all(1 <= abs(t.row) <= request.rows for t in point_labels)
    # no marker hidden: at most 10 % of the smaller overlaps (here all markers are the same size)
    size = layout.marker_size
    markers = [m for m in layout.markers if m.event >= 0]
    for one, other in itertools.combinations(markers, 2):
        overlap = max(0.0, size - abs(one.x - other.x)) * max(0.0, size - abs(one.y - other.y))
        assert overlap <= 0.1 * size * size, f"markers of events {one.event} and {other.event} overlap"
    assert sorted(m.event for m in markers) == sorted(i for i, e in enumerate(request.events) if not e.is_span)
    # no text overlaps another text or a marker
    texts = list(layout.texts)
    for a, b in itertools.combinations(texts, 2):
        assert not _overlap(a.box, b.box), f"{a.text!r} ({a.role}) overlaps {b.text!r} ({b.role})"
    for text in texts:
        for marker in layout.markers:
            square = Box(marker.x - size / 2, marker.y - size / 2, marker.x + size / 2, marker.y + size / 2)
            assert not _overlap(text.box, square), f"{text.text!r} covers a marker"
    # leaders: never through a text; another event's leader keeps its distance from a label
    for leader in (s for s in layout.segments if s.role == "leader"):
        low, high = sorted((leader.y0, leader.y1))
        for text in texts:
            box = text.box
            if high <= box.top + 0.5 or low >= box.bottom - 0.5:
                continue
            assert not box.left < leader.x0 < box.right, f"a leader runs through {text.text!r}"
            if text.role == "label":
                own = min(abs(leader.x0 - box.left), abs(leader.x0 - box.right)) <= metrics.pad + TOLERANCE
                near = box.left - metrics.clear < leader.x0 < box.right + metrics.clear
                assert own or not near, f"a leader passes too close to {text.text!r}"
    # everything inside the figure
    for text in texts:
        assert text.box.left >= -TOLERANCE, text.text
        assert text.box.right <= layout.width + TOLERANCE, text.text
        assert text.box.top >= -TOLERANCE, text.text
        assert text.box.bottom <= layout.height + TOLERANCE, text.text
    for marker in layout.markers:
        assert size / 2 - TOLERANCE <= marker.x <= layout.width - size / 2 + TOLERANCE
        assert size / 2 - TOLERANCE <= marker.y <= layout.height - size / 2 + TOLERANCE
    for segment in layout.segments:
        for x, y in ((segment.x0, segment.y0), (segment.x1, segment.y1)):
            assert -TOLERANCE <= x <= layout.width + TOLERANCE
            assert -TOLERANCE <= y <= layout.height + TOLERANCE


def _overlap(a: Box, b: Box) -> bool:
    return a.left < b.right - 0.01 and b.left < a.right - 0.01 and a.top < b.bottom - 0.01 and b.top < a.bottom - 0.01


# --------------------------------------------------------------------------- random event sets


LABEL_ALPHABET = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 $-\u2013()'\"")


@st.composite
def requests(draw: st.DrawFn) -> LayoutRequest:
    """1-200 events: spread over days to millennia, dense clusters, identical dates, long labels, cut spans."""
    count = draw(st.one_of(st.integers(1, 12), st.integers(13, 60), st.integers(61, 200)))
    year = draw(st.one_of(st.integers(1900, 2030), st.sampled_from([1, 2, 9990, 9999])))
    base = dt.date(year, draw(st.integers(1, 12)), draw(st.integers(1, 28)))
    spread = draw(st.sampled_from([0, 3, 20, 400, 25_000]))
    cluster_at = draw(st.integers(0, max(spread, 0)))
    events = []
    for _ in range(count):
        offset = cluster_at + draw(st.integers(0, 21)) if draw(st.booleans()) else draw(st.integers(0, spread))
        start = _clamp(base.toordinal() + offset)
        end = None
        if draw(st.integers(0, 5)) == 0:
            end = _clamp(start.toordinal() + draw(st.integers(0, max(spread // 2, 1))))
        short = draw(st.text(LABEL_ALPHABET, min_size=1, max_size=40).filter(lambda s: s.strip()))
        label = short * (4 if draw(st.integers(0, 15)) == 0 else 1)  # now and then wider than the figure
        events.append(LayoutEvent(label.strip(), start, end, draw(st.integers(0, 4)), start.isoformat()))
    events.sort(key=lambda e: (e.start, e.end or e.start))
    window_from = window_to = None
    if draw(st.booleans()):  # cut spans at from/to; every event still overlaps the window
        points = [e.start for e in events if not e.is_span] or [events[0].start]
        window_from = min([*points, *(e.end for e in events if e.end)])
        window_to = max(e.start for e in events)
        window_from = _clamp(window_from.toordinal() - draw(st.integers(0, 30)))
        window_to = _clamp(window_to.toordinal() + draw(st.integers(0, 30)))
    inset = None
    if draw(st.integers(0, 5)) == 0:  # an interval the author chose, anywhere
        first, last = sorted(draw(st.sampled_from(events)).start for _ in range(2))
        inset = (first, _clamp(last.toordinal() + draw(st.integers(0, 40))))
    styles = sorted({e.style for e in events})
    legend = tuple((s, f"Category {s}") for s in styles) if len(styles) > 1 else ()
    return LayoutRequest(
        events=tuple(events),
        width=draw(st.sampled_from([WIDTH, WIDTH * 0.75, WIDTH * 0.4])),
        window_from=window_from,
        window_to=window_to,
        legend=legend,
        strategy=draw(st.sampled_from(list(Strategy))),
        inset=inset,
        rows=draw(st.integers(1, 3)),
    )


def _clamp(ordinal: int) -> dt.date:
    return dt.date.fromordinal(min(max(ordinal, 1), dt.date.max.toordinal()))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(requests())
def test_random_event_sets_keep_every_guarantee(request: LayoutRequest) -> None:
    layout = make_layout(request, measure)
    assert_guarantees(request, layout)
    assert make_layout(request, measure) == layout  # deterministic


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(requests())
def test_random_event_sets_keep_every_guarantee_with_the_real_fonts(request: LayoutRequest) -> None:
    from briefing.figure_draw import figure_context, text_measure
    from briefing.model import FigureStyle

    templates = Path(__file__).parent.parent / "templates"
    style = FigureStyle(width_mm=160, font_dir=templates / "fonts", language=load_language("en", templates))
    with figure_context(style):
        assert_guarantees(request, make_layout(request, text_measure(style)))


# --------------------------------------------------------------------------- chosen strategies


CROWDED = tuple(
    [event(f"{1953 + 5 * n}-06-01", f"Landmark {n}", style=n % 3) for n in range(12)]
    + [event((dt.date(2025, 2, 1) + dt.timedelta(days=8 * n)).isoformat(), f"Round {n}", style=1)
       for n in range(12)]
)


def test_a_crowded_interval_gets_an_inset() -> None:
    request = LayoutRequest(CROWDED, WIDTH)
    layout = make_layout(request, measure)
    assert_guarantees(request, layout)
    assert layout.strategy is Strategy.INSET
    assert layout.inset is not None
    assert layout.inset[0] <= dt.date(2025, 2, 1)
    assert layout.inset[1] >= dt.date(2025, 4, 30)
    assert [s.role for s in layout.shades] == ["inset", "band"]
    assert len([s for s in layout.segments if s.role == "guide"]) == 2
    assert len([s for s in layout.segments if s.role == "axis"]) == 2
    assert not layout.numbers


def test_callouts_number_every_event_in_date_order_with_a_key() -> None:
    request = LayoutRequest(CROWDED, WIDTH, strategy=Strategy.CALLOUTS)
    layout = make_layout(request, measure)
    assert_guarantees(request, layout)
    assert layout.numbers == {i: i + 1 for i in range(len(CROWDED))}
    assert [t.text for t in layout.texts if t.role == "key-number"] == [str(n) for n in range(1, 25)]
    dates = [t for t in layout.texts if t.role == "key-date"]
    assert len(dates) == 24
    assert len({round(t.x, 6) for t in dates}) == 3


def test_too_many_labels_for_the_rows_become_callouts_when_no_inset_helps() -> None:
    request = LayoutRequest(tuple(event(f"{1900 + n}-01-01", f"A long label for event {n}") for n in range(60)), WIDTH)
    layout = make_layout(request, measure)
    assert_guarantees(request, layout)
    assert layout.strategy is Strategy.CALLOUTS


def test_forced_inset_numbers_only_what_still_does_not_fit() -> None:
    same_day = tuple(event("2025-06-13", f"Strike {n}") for n in range(5))
    request = LayoutRequest((event("2025-01-02", "New year"), *same_day), WIDTH,
                            inset=(dt.date(2025, 6, 10), dt.date(2025, 6, 16)))
    layout = make_layout(request, measure)
    assert_guarantees(request, layout)
    assert layout.inset == (dt.date(2025, 6, 10), dt.date(2025, 6, 16))
    assert 0 in layout.labelled
    assert 0 < len(layout.numbers) < 5


def test_identical_dates_dodge_upward_one_pitch_at_a_time() -> None:
    request = LayoutRequest(tuple(event("2001-09-11", f"E{n}") for n in range(6)), WIDTH, strategy=Strategy.CALLOUTS)
    layout = make_layout(request, measure)
    ys = sorted(m.y for m in layout.markers)
    pitch = Metrics.for_font(7).pitch
    assert [round(b - a, 6) for a, b in itertools.pairwise(ys)] == [round(pitch, 6)] * 5
    assert len({m.x for m in layout.markers}) == 1


def test_from_and_to_are_honoured_exactly_and_cut_spans_get_a_continuation_mark() -> None:
    request = LayoutRequest(
        (event("1985-01-01", "Long war", end="2010-12-31"), event("1995-06-01", "Treaty")),
        WIDTH, window_from=dt.date(1990, 1, 1), window_to=dt.date(2000, 12, 31),
    )
    layout = make_layout(request, measure)
    assert_guarantees(request, layout)
    ticks = [t.text for t in layout.texts if t.role == "tick"]
    assert ticks[0] == "1990"
    assert ticks[-1] <= "2000"
    (bar,) = [s for s in layout.segments if s.role == "span"]
    (axis,) = [s for s in layout.segments if s.role == "axis"]
    assert bar.x0 == pytest.approx(Metrics.for_font(7).edge + layout.marker_size / 2)
    assert bar.x1 <= axis.x1
    assert sorted(c.direction for c in layout.chevrons) == [-1, 1]
    assert not [s for s in layout.segments if s.role == "span-tick"]  # both ends cut: no end ticks
    assert all(m.event != 0 for m in layout.markers)  # no midpoint marker on a span


def test_labels_start_at_their_leader_and_flip_only_at_the_right_edge() -> None:
    request = LayoutRequest((event("2000-01-01", "Early"), event("2010-01-01", "Late with a long label")), WIDTH,
                            window_from=dt.date(2000, 1, 1), window_to=dt.date(2010, 1, 1))
    layout = make_layout(request, measure)
    pad = Metrics.for_font(7).pad
    early, late = sorted((t for t in layout.texts if t.role == "label"), key=lambda t: t.event)
    early_x = next(m.x for m in layout.markers if m.event == 0)
    late_x = next(m.x for m in layout.markers if m.event == 1)
    assert early.anchor == "start"
    assert early.box.left == pytest.approx(early_x + pad)
    assert late.anchor == "end"
    assert late.box.right == pytest.approx(late_x - pad)


def test_one_category_has_no_legend_and_years_label_the_first_tick() -> None:
    layout = make_layout(LayoutRequest((event("1953-08-19", "Coup"), event("1979-01-16", "Shah leaves")), WIDTH),
                         measure)
    assert not [t for t in layout.texts if t.role == "legend"]
    first = min((t for t in layout.texts if t.role == "tick"), key=lambda t: t.x)
    assert first.text.isdigit()


def test_day_scale_ticks_sit_on_the_days_with_events() -> None:
    days = [dt.date(2025, 6, d) for d in (3, 12, 13, 18)]
    ticks = make_ticks(days[0].toordinal(), days[-1].toordinal() + 1, lambda d: (d - days[0].toordinal()) * 20,
                       lambda text: len(text) * 3.9, [d.toordinal() for d in days], 1.2, 400)
    assert [t.day for t in ticks] == [d.toordinal() + 0.5 for d in days]
    assert next(t.label for t in ticks) == "3 Jun 2025"
    assert "" in [t.label for t in ticks]  # 12 and 13 June are 20 pt apart: one label yields


def test_month_ticks_name_the_year_first_and_when_it_changes() -> None:
    low, high = dt.date(2024, 11, 15).toordinal(), dt.date(2025, 4, 10).toordinal()
    ticks = make_ticks(low, high, lambda d: (d - low) * 3.0, lambda text: len(text) * 3.9, [], 1.2, 480)
    assert [t.label for t in ticks] == ["Dec 2024", "Jan 2025", "Feb", "Mar", "Apr"]


@pytest.mark.parametrize("year", [1, 9999])
def test_the_first_and_last_years_python_knows_are_placed(year: int) -> None:
    request = LayoutRequest((event(f"{year:04d}-01-01", "Edge of time"), event(f"{year:04d}-12-31", "Other end")),
                            WIDTH)
    assert_guarantees(request, make_layout(request, measure))
