"""Timeline figure specs + events -> drawn SVG figures, reused from the cache when nothing changed.

The jobs are split: ``figure_layout`` places (pure geometry, where the guarantees live),
``figure_draw`` draws with matplotlib, ``figure_cache`` stores. This module picks each
figure's events, turns them into layout input and describes the result in words.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import figure_cache as cache
from .errors import Diagnostics
from .figure_draw import FONT_FILES, MM_PER_INCH, PT_PER_INCH
from .figure_layout import Layout, make_layout
from .figure_model import LayoutEvent, LayoutRequest, Strategy
from .figure_words import alt_text
from .fonts import uncovered
from .model import (
    Category,
    DrawnFigure,
    FigureStyle,
    FigureText,
    PartialDate,
    Timeline,
    TimelineEvent,
    TimelineFigureSpec,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FIGURE_CODE_VERSION", "cache_key", "draw_figures", "make_timeline", "select_events"]

FIGURE_CODE_VERSION = "4"
"""Bump when the drawing code changes what a figure looks like: it invalidates the cache."""
MAX_FIGURE_EVENTS = 200
"""More events than this make a figure no reader can use (and minutes of drawing): narrow it."""
MM_PER_PT = MM_PER_INCH / PT_PER_INCH


def draw_figures(
    specs: Sequence[TimelineFigureSpec],
    timeline: Timeline,
    style: FigureStyle,
    cache_dir: Path,
    report: Diagnostics,
) -> dict[str, tuple[DrawnFigure, ...]]:
    """Draw every timeline figure the document asks for, reusing cached SVGs when nothing changed.

    A figure taller than its limit is drawn in consecutive parts, each at full text size.
    """
    fonts = [style.font_dir / name for name in FONT_FILES] + [font.path for font in style.fallback_fonts]
    missing = [font for font in fonts if not font.is_file()]
    if missing:
        report.error(None, f"figure font not found: {', '.join(str(font) for font in missing)}")
        return {}
    font_hashes = {(font.name if font.parent == style.font_dir else f"theme:{font.name}"): cache.file_sha256(font)
                   for font in fonts}
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
        events = _drawable(spec, timeline, style, report)
        if events is None:
            continue
        figure_style = _style_for(spec, style)
        key = cache_key(spec, events, timeline.categories, figure_style, font_hashes)
        stem = folder / f"{cache.safe_name(spec.id)}-{key[:16]}"
        sidecar = stem.with_suffix(".json")
        parts = cache.read_cached(spec.id, folder, sidecar, key)
        if parts is None:
            parts = cache.store(spec.id, stem, sidecar, key, _draw_parts(spec, events, timeline.categories, figure_style))
        drawn[spec.id] = parts
    return drawn


def _drawable(
    spec: TimelineFigureSpec, timeline: Timeline, style: FigureStyle, report: Diagnostics
) -> list[TimelineEvent] | None:
    """The figure's events, or None (with the reason reported) when it cannot be drawn."""
    events = select_events(spec, timeline)
    if len(events) > MAX_FIGURE_EVENTS:
        report.error(
            spec.location,
            f"figure '{spec.id}' selects {len(events)} events; the limit is {MAX_FIGURE_EVENTS}"
            " (narrow it with from=, to= or tags=)",
        )
        return None
    if not _labels_drawable(events, style, report):
        return None
    if not events:
        report.warning(spec.location, f"figure '{spec.id}' selects no timeline event ({_describe_filters(spec)})")
        return None
    if spec.inset is not None:
        first, last = spec.inset[0].first_day(), spec.inset[1].last_day()
        if not any(first <= event.date.first_day() <= last for event in events):
            interval = f"{spec.inset[0].iso()}/{spec.inset[1].iso()}"
            report.warning(spec.location, f"figure '{spec.id}': inset='{interval}' holds none of the figure's events")
    if spec.width_mm is not None and spec.width_mm > style.width_mm + 0.05:
        report.error(spec.location, f"figure '{spec.id}': width={spec.width_mm:g}mm is wider than the text block "
                     f"({style.width_mm:g}mm)")
        return None
    return events


def _style_for(spec: TimelineFigureSpec, style: FigureStyle) -> FigureStyle:
    """The page's figure style with the author's ``width=`` and ``height=``."""
    return replace(
        style,
        width_mm=spec.width_mm if spec.width_mm is not None else style.width_mm,
        max_height_mm=spec.height_mm if spec.height_mm is not None else style.max_height_mm,
    )


def _labels_drawable(events: Sequence[TimelineEvent], style: FigureStyle, report: Diagnostics) -> bool:
    """A label with a character the fonts lack is an error at its event, not a box in the figure."""
    drawable = True
    extra = tuple(font.path for font in style.fallback_fonts)
    for event in events:
        for char in uncovered(event.short_label, style.font_dir, extra):
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
    return cache.hash_payload(
        {
            "code": FIGURE_CODE_VERSION,
            "matplotlib": cache.matplotlib_version(),
            "spec": _filters(spec),
            "categories": [[category.key, category.label] for category in categories],
            "events": [
                {
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
                "months": list(style.months),
                "language": style.language.tag,  # the alt text is cached with the drawing
                **({"palette": list(style.palette)} if style.palette else {}),
                "fonts": dict(sorted(font_hashes.items())),
            },
        }
    )


# --------------------------------------------------------------------------- layout input


def layout_request(
    spec: TimelineFigureSpec,
    events: Sequence[TimelineEvent],
    categories: Sequence[Category],
    style: FigureStyle,
    first_part: bool = True,
    last_part: bool = True,
) -> LayoutRequest:
    """The events as the placement sees them: cleaned labels (finished by the text pass), days, styles."""
    styles = _style_index(events, categories)
    used = list(dict.fromkeys(event.category for event in events))
    labels = {category.key: category.label for category in categories}
    legend: tuple[tuple[int, str], ...] = ()
    if len(used) > 1:  # one category needs no legend
        legend = tuple((styles[key], labels.get(key or "", key or "Other")) for key in _ordered(used, styles))
    inset = None
    if spec.inset is not None:
        inset = (spec.inset[0].first_day(), spec.inset[1].last_day())
    return LayoutRequest(
        events=tuple(
            LayoutEvent(
                label=_clean_label(event.short_label),
                start=event.date.first_day(),
                end=event.end.last_day() if event.end is not None else None,
                style=styles[event.category],
                date_text=_key_date(event, style.months),
            )
            for event in events
        ),
        width=style.width_mm / MM_PER_PT,
        font_pt=style.font_size_pt,
        window_from=spec.date_from.first_day() if spec.date_from and first_part else None,
        window_to=spec.date_to.last_day() if spec.date_to and last_part else None,
        legend=legend,
        strategy=Strategy(spec.labels),
        inset=inset,
        allow_inset=spec.allow_inset,
        rows=spec.rows,
        max_height=style.max_height_mm / MM_PER_PT,
        months=style.months,
    )


def _style_index(events: Sequence[TimelineEvent], declared: Sequence[Category]) -> dict[str | None, int]:
    """Every category in the timeline's order, then undeclared keys and 'Other' in order of use.

    Colours and shapes follow this order, not just the categories a figure shows, so a
    category looks the same in every figure of a briefing.
    """
    keys: list[str | None] = [category.key for category in declared]
    for key in dict.fromkeys(event.category for event in events):
        if key not in keys:
            keys.append(key)
    return {key: position for position, key in enumerate(keys)}


def _ordered(used: list[str | None], styles: dict[str | None, int]) -> list[str | None]:
    return sorted(used, key=lambda key: styles[key])


def _key_date(event: TimelineEvent, months: Sequence[str] = ()) -> str:
    """'4 Nov 1979', 'Jul 1987', '1984–1988', '4 Nov 1979 – 20 Jan 1981': how the key dates an event."""
    start = _short_date(event.date, months)
    if event.end is None:
        return start
    end = _short_date(event.end, months)
    joiner = "\u2013" if event.date.day is None and event.end.day is None and " " not in start + end else " \u2013 "
    return f"{start}{joiner}{end}"


def _short_date(date: PartialDate, months: Sequence[str] = ()) -> str:
    if date.month is None:
        return str(date.year)
    month = months[date.month - 1] if months else calendar.month_abbr[date.month]
    return f"{date.day} {month} {date.year}" if date.day else f"{month} {date.year}"


# --------------------------------------------------------------------------- drawing


def make_layout_for(
    spec: TimelineFigureSpec, events: Sequence[TimelineEvent], categories: Sequence[Category], style: FigureStyle
) -> Layout:
    """Place one figure with the real fonts' measurements (imports matplotlib)."""
    from .figure_draw import figure_context, text_measure

    with figure_context(style):
        return make_layout(layout_request(spec, events, categories, style), text_measure(style))


def make_timeline(
    events: Sequence[TimelineEvent],
    categories: Sequence[Category],
    style: FigureStyle,
    spec: TimelineFigureSpec | None = None,
) -> Figure:
    """Place and draw a figure as one matplotlib Figure (its text included)."""
    from .errors import SourceLocation
    from .figure_draw import draw_layout, figure_context, text_measure

    spec = spec or TimelineFigureSpec("fig-timeline", SourceLocation(Path("figure")))
    with figure_context(style):
        layout = make_layout(layout_request(spec, events, categories, style), text_measure(style))
        return draw_layout(layout, style)


def _draw_parts(
    spec: TimelineFigureSpec, events: Sequence[TimelineEvent], categories: Sequence[Category], style: FigureStyle
) -> list[cache.DrawnPart]:
    """Place the figure; when it is taller than allowed, split its events into consecutive parts."""
    from .figure_draw import draw_layout, figure_context, in_cmyk, svg_bytes, text_measure, without_text

    with figure_context(style):
        measure = text_measure(style)
        count = 1
        while True:
            chunks = _split(events, count)
            layouts = [
                make_layout(layout_request(spec, chunk, categories, style, n == 0, n == len(chunks) - 1), measure)
                for n, chunk in enumerate(chunks)
            ]
            too_tall = any(layout.height > style.max_height_mm / MM_PER_PT for layout in layouts)
            if not too_tall or count >= len(events):
                break
            count += 1
        parts = []
        for chunk, layout in zip(chunks, layouts, strict=True):
            drawn = draw_layout(layout, style)
            shapes = without_text(svg_bytes(drawn))
            parts.append(
                cache.DrawnPart(
                    svg=shapes,
                    print_svg=in_cmyk(shapes),
                    html_svg=svg_bytes(drawn, text_as_paths=True),
                    alt_text=alt_text(chunk, style.language, layout),
                    width_mm=round(layout.width * MM_PER_PT, 4),
                    height_mm=round(layout.height * MM_PER_PT, 4),
                    event_count=len(chunk),
                    texts=tuple(
                        FigureText(t.text, t.role, round(t.x * MM_PER_PT, 3), round(t.baseline * MM_PER_PT, 3),
                                   t.anchor, t.bold)
                        for t in layout.texts
                    ),
                    font_size_pt=style.font_size_pt,
                )
            )
    return parts


def _split(events: Sequence[TimelineEvent], count: int) -> list[list[TimelineEvent]]:
    """Consecutive runs of about equal size, in date order: part 2 continues where part 1 ends."""
    size = -(-len(events) // count)
    return [list(events[start : start + size]) for start in range(0, len(events), size)]


def _filters(spec: TimelineFigureSpec) -> dict[str, Any]:
    return {
        "from": spec.date_from.iso() if spec.date_from else None,
        "to": spec.date_to.iso() if spec.date_to else None,
        "tags": list(spec.tags),
        "labels": spec.labels,
        "inset": [date.iso() for date in spec.inset] if spec.inset else None,
        "allow_inset": spec.allow_inset,
        "rows": spec.rows,
        "width_mm": spec.width_mm,
        "height_mm": spec.height_mm,
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
