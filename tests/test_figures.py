"""Timeline figures: labels never collide or clip, output is byte-stable, a cache hit spares matplotlib."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefing.errors import Diagnostics, SourceLocation
from briefing.figures import alt_text, draw_figures, make_timeline
from briefing.model import Category, FigureStyle, PartialDate, Timeline, TimelineEvent, TimelineFigureSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

PROJECT = Path(__file__).parent.parent
STYLE = FigureStyle(width_mm=160, font_dir=PROJECT / "templates" / "fonts")
HERE = SourceLocation(Path("timeline.yaml"), 1, 1)
CATEGORIES = (
    Category("us", "United States"),
    Category("iran", "Iran"),
    Category("conflict", "Conflict"),
    Category("diplomacy", "Diplomacy"),
)
SVG_NS = "{http://www.w3.org/2000/svg}"


def date(text: str) -> PartialDate:
    return PartialDate(*(int(part) for part in text.split("-")))


def event(when: str, label: str, category: str | None = None, end: str | None = None) -> TimelineEvent:
    return TimelineEvent(title=label, date=date(when), location=HERE, end=date(end) if end else None, category=category)


JUNE_2025 = (
    event("2025-06-12", "IAEA censure", "diplomacy"),
    event("2025-06-13", "Israel strikes Natanz", "conflict"),
    event("2025-06-13", "IRGC chiefs killed", "conflict"),
    event("2025-06-14", "Iran missile barrage", "iran"),
    event("2025-06-15", "Talks in Oman cancelled", "diplomacy"),
    event("2025-06-16", "IRIB studio hit", "conflict"),
    event("2025-06-19", 'Trump: decision "within two weeks"', "us"),
    event("2025-06-22", "US strikes Fordow, Natanz, Isfahan", "us"),
    event("2025-06-23", "Al Udeid retaliation", "iran"),
    event("2025-06-24", "Ceasefire", "diplomacy"),
    event("2025-06-13", "Operation Rising Lion", "conflict", end="2025-06-24"),
)
LONG_VIEW = (
    event("1953-08-19", "1953 coup", "us"),
    event("1957", "Atoms for Peace deal", "diplomacy"),
    event("1979-01-16", "Shah leaves Iran", "iran"),
    event("1979-04-01", "Islamic Republic", "iran"),
    event("1979-11-04", "Hostage crisis", "conflict", end="1981-01-20"),
    event("1980-09-22", "Iran\u2013Iraq War", "conflict", end="1988-08-20"),
    event("1984", "Tanker war", "conflict", end="1988"),
    event("1985-08", "Iran\u2013Contra arms sales", "us"),
    event("1988-07-03", "Iran Air 655", "conflict"),
    event("2002-08-14", "Natanz revealed", "iran"),
    event("2013-11-24", "Interim deal (JPOA)", "diplomacy"),
    event("2015-07-14", "JCPOA signed", "diplomacy"),
    event("2018-05-08", "US leaves JCPOA", "us"),
    event("2020-01-03", "Soleimani killed", "conflict"),
    event("2025-06-13", "Israeli strikes", "conflict"),
    event("2025-06-22", "US strikes Fordow", "us"),
)
FIVE = (
    event("2015-07-14", "JCPOA signed", "diplomacy"),
    event("2016-01-16", "Implementation Day", "diplomacy"),
    event("2018-05-08", "US withdraws", "us"),
    event("2019-05", "Iran exceeds limits", "iran"),
    event("2020-01-03", "Cost $5 and $10"),
)


# --------------------------------------------------------------------------- layout checks


def _labels(figure: Figure) -> list[tuple[str, Bbox]]:
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    return [
        (text.get_text(), text.get_window_extent(renderer))
        for axes in figure.axes
        for text in axes.texts
        if (text.get_gid() or "").startswith("event-label-")
    ]


def assert_clean_layout(figure: Figure, events: Sequence[TimelineEvent]) -> None:
    """Every label present, inside the figure, clear of other labels, marks and the axis, no leader through it."""
    from matplotlib.collections import LineCollection

    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    labels = _labels(figure)
    drawn = sorted(" ".join(text.split()) for text, _ in labels)
    assert drawn == sorted(" ".join(e.short_label.split()) for e in events)
    page = figure.bbox
    tolerance = 0.01  # pixels
    for text, box in labels:
        assert box.x0 >= page.x0 - tolerance, f"{text!r} clipped on the left"
        assert box.x1 <= page.x1 + tolerance, f"{text!r} clipped on the right"
        assert box.y0 >= page.y0 - tolerance, f"{text!r} clipped at the bottom"
        assert box.y1 <= page.y1 + tolerance, f"{text!r} clipped at the top"
    for index, (text, box) in enumerate(labels):
        for other_text, other_box in labels[index + 1 :]:
            assert not box.overlaps(other_box), f"{text!r} overlaps {other_text!r}"
    for legend in figure.legends:
        key = legend.get_window_extent(renderer)
        assert not any(key.overlaps(box) for _, box in labels), "the legend overlaps a label"
    (axes,) = figure.axes
    marks = [axes.spines["bottom"].get_window_extent(renderer)]
    marks += [line.get_window_extent(renderer) for line in axes.lines]
    marks += [patch.get_window_extent(renderer) for patch in axes.patches]
    top_of_marks = max(mark.y1 for mark in marks)
    for text, box in labels:
        assert box.y0 >= top_of_marks - tolerance, f"{text!r} overlaps a marker, a bar or the axis"
    (leaders,) = [c for c in axes.collections if isinstance(c, LineCollection)]
    to_display = axes.transData
    for segment in leaders.get_segments():
        (x, y0), (_, y1) = to_display.transform(segment)
        low, high = min(y0, y1), max(y0, y1)
        for text, box in labels:
            assert not (box.x0 < x < box.x1 and low < box.y1 - 0.5 and high > box.y0 + 0.5), (
                f"a leader runs through {text!r}"
            )


def test_clustered_days_in_june_2025_do_not_collide() -> None:
    assert_clean_layout(make_timeline(JUNE_2025, CATEGORIES, STYLE), JUNE_2025)


def test_long_view_with_spans_does_not_collide() -> None:
    assert_clean_layout(make_timeline(LONG_VIEW, CATEGORIES, STYLE), LONG_VIEW)


def test_five_events_fit_in_one_row() -> None:
    figure = make_timeline(FIVE, CATEGORIES, STYLE)
    assert_clean_layout(figure, FIVE)
    assert len({round(box.y0) for _, box in _labels(figure)}) == 1


def test_narrow_figure_wraps_labels_instead_of_clipping() -> None:
    events = (
        event("2001-01-01", "A label far too long to fit across a very narrow figure"),
        event("2001-01-02", "Second"),
    )
    narrow = FigureStyle(width_mm=40, font_dir=STYLE.font_dir)
    assert_clean_layout(make_timeline(events, (), narrow), events)


@st.composite
def timelines(draw: st.DrawFn) -> tuple[TimelineEvent, ...]:
    """Clustered days, decades, or everything on one day; labels up to 40 characters; some spans."""
    start = dt.date(draw(st.integers(1900, 2030)), draw(st.integers(1, 12)), draw(st.integers(1, 28)))
    spread = draw(st.sampled_from([0, 3, 20, 400, 25_000]))
    alphabet = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 $-\u2013()'\"")
    events = []
    for _ in range(draw(st.integers(1, 14))):
        day = start + dt.timedelta(days=draw(st.integers(0, spread)))
        precision = draw(st.sampled_from(["day", "day", "month", "year"]))
        when = {
            "day": PartialDate(day.year, day.month, day.day),
            "month": PartialDate(day.year, day.month),
            "year": PartialDate(day.year),
        }[precision]
        end = None
        if draw(st.booleans()) and draw(st.booleans()):
            last = when.last_day() + dt.timedelta(days=draw(st.integers(0, max(1, spread // 3))))
            end = PartialDate(last.year, last.month, last.day)
        label = draw(st.text(alphabet, min_size=1, max_size=40).filter(lambda s: s.strip()))
        category = draw(st.sampled_from([None, "us", "iran", "conflict", "diplomacy", "undeclared"]))
        events.append(TimelineEvent(title=label, date=when, location=HERE, end=end, category=category))
    return tuple(events)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timelines())
def test_random_timelines_never_collide(events: tuple[TimelineEvent, ...]) -> None:
    assert_clean_layout(make_timeline(events, CATEGORIES, STYLE), events)


# --------------------------------------------------------------------------- files and cache


def _draw(events: Sequence[TimelineEvent], cache: Path, report: Diagnostics | None = None) -> Path:
    spec = TimelineFigureSpec(id="fig-test", location=HERE)
    timeline = Timeline(categories=CATEGORIES, events=tuple(events))
    return draw_figures([spec], timeline, STYLE, cache, report or Diagnostics())["fig-test"][0].svg_path


def _svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(node.itertext()) for node in root.iter(f"{SVG_NS}text")]


def test_same_events_give_byte_identical_svg(tmp_path: Path) -> None:
    first = _draw(LONG_VIEW, tmp_path / "one")
    second = _draw(LONG_VIEW, tmp_path / "two")
    assert first.name == second.name
    assert first.read_bytes() == second.read_bytes()


def test_svg_has_real_text_and_millimetre_size(tmp_path: Path) -> None:
    path = _draw(JUNE_2025, tmp_path)
    texts = _svg_texts(path)
    for item in JUNE_2025:
        assert item.short_label in texts
    root = ET.parse(path).getroot()
    assert root.get("width") == "160.0000mm"
    assert root.get("height", "").endswith("mm")
    assert "Date" not in path.read_text(encoding="utf-8")


def test_dollar_signs_print_literally(tmp_path: Path) -> None:
    figure = make_timeline(FIVE, CATEGORIES, STYLE)
    assert "Cost $5 and $10" in [text for text, _ in _labels(figure)]
    assert "Cost $5 and $10" in _svg_texts(_draw(FIVE, tmp_path))


def test_cache_layout_and_sidecar(tmp_path: Path) -> None:
    report = Diagnostics()
    spec = TimelineFigureSpec(id="fig-five", location=HERE)
    timeline = Timeline(categories=CATEGORIES, events=FIVE)
    (drawn,) = draw_figures([spec], timeline, STYLE, tmp_path, report)["fig-five"]
    assert drawn.svg_path.parent == tmp_path / "figures"
    assert drawn.svg_path.name.startswith("fig-five-")
    assert drawn.svg_path.name.endswith("-1.svg")
    stem = drawn.svg_path.name.removesuffix("-1.svg")
    assert len(stem) == len("fig-five-") + 16
    sidecar = json.loads((drawn.svg_path.parent / f"{stem}.json").read_text(encoding="utf-8"))
    (part,) = sidecar["parts"]
    assert part["alt_text"] == drawn.alt_text
    assert part["height_mm"] == drawn.height_mm
    assert (drawn.width_mm, drawn.event_count) == (160.0, 5)
    mtime = drawn.svg_path.stat().st_mtime_ns
    (again,) = draw_figures([spec], timeline, STYLE, tmp_path, report)["fig-five"]
    assert again == drawn
    assert drawn.svg_path.stat().st_mtime_ns == mtime
    relabelled = Timeline(categories=CATEGORIES, events=(*FIVE[:-1], event("2020-01-03", "Renamed")))
    (changed,) = draw_figures([spec], relabelled, STYLE, tmp_path, report)["fig-five"]
    assert changed.svg_path != drawn.svg_path
    assert not report.items
    assert not [p for p in (tmp_path / "figures").iterdir() if p.name.startswith(".")]  # no temp files left


def test_cached_call_does_not_import_matplotlib(tmp_path: Path) -> None:
    _draw(FIVE, tmp_path)
    script = f"""
import json, sys
sys.path.insert(0, {str(PROJECT)!r})
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_figures import FIVE, _draw
from pathlib import Path
before = "matplotlib" in sys.modules
path = _draw(FIVE, Path({str(tmp_path)!r}))
print(json.dumps({{"before": before, "after": "matplotlib" in sys.modules, "path": str(path)}}))
"""
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"before": False, "after": False, "path": str(_draw(FIVE, tmp_path))}


def test_filter_that_selects_nothing_warns_and_skips(tmp_path: Path) -> None:
    report = Diagnostics()
    empty = TimelineFigureSpec(id="fig-none", location=HERE, date_from=date("2030"), tags=("nuclear",))
    full = TimelineFigureSpec(id="fig-all", location=HERE)
    drawn = draw_figures([empty, full], Timeline(categories=CATEGORIES, events=FIVE), STYLE, tmp_path, report)
    assert list(drawn) == ["fig-all"]
    (warning,) = report.warnings
    assert warning.location == HERE
    assert warning.message == "figure 'fig-none' selects no timeline event (from=2030, to=any, tags=nuclear)"


def test_alt_text_spells_out_the_data() -> None:
    text = alt_text([LONG_VIEW[0], LONG_VIEW[4], LONG_VIEW[-1]])
    assert text == (
        "Timeline of 3 events from 1953 to 2025: 19 August 1953, 1953 coup; "
        "4 November 1979 to 20 January 1981, Hostage crisis; 22 June 2025, US strikes Fordow."
    )
    assert alt_text(JUNE_2025[:2]).startswith("Timeline of 2 events in June 2025: 12 June 2025, IAEA censure;")


def test_persian_labels_draw_with_the_arabic_script_font(tmp_path: Path) -> None:
    events = (*FIVE[:4], event("1989-06-04", "خامنه‌ای رهبر می‌شود"))
    figure = make_timeline(events, CATEGORIES, STYLE)  # a missing glyph would warn, and warnings fail tests
    assert "خامنه‌ای رهبر می‌شود" in [text for text, _ in _labels(figure)]
    assert "Noto Naskh Arabic" in _draw(events, tmp_path).read_text(encoding="utf-8")


@pytest.mark.slow
def test_150_events_over_70_years_split_into_parts_at_full_size(tmp_path: Path) -> None:
    import random

    rng = random.Random(7)
    events = tuple(
        event(f"{rng.randint(1953, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", f"Event {n} label",
              rng.choice([c.key for c in CATEGORIES]))
        for n in range(150)
    )
    style = FigureStyle(width_mm=160, font_dir=STYLE.font_dir, max_height_mm=150)
    spec = TimelineFigureSpec("fig-dense", SourceLocation(Path("a.md"), 1, 1))
    parts = draw_figures([spec], Timeline(categories=CATEGORIES, events=events), style, tmp_path, Diagnostics())["fig-dense"]
    assert len(parts) > 1
    assert sum(part.event_count for part in parts) == 150
    assert all(part.height_mm <= 150 for part in parts)
    ordered = sorted(events, key=lambda e: e.date.first_day())
    start = 0
    for part in parts:
        chunk = ordered[start: start + part.event_count]
        start += part.event_count
        figure = make_timeline(chunk, CATEGORIES, style)
        assert_clean_layout(figure, chunk)
        assert figure.texts == [] or min(t.get_fontsize() for ax in figure.axes for t in ax.texts) >= 7
