"""An axis' day range -> tick positions and labels (pure: calendar arithmetic, no plotting library).

Days are counted as proleptic Gregorian ordinals (1 = 1 January of year 1), so every date
Python can hold, from 0001 to 9999, has a position and no conversion can overflow.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

FIRST_DAY = dt.date.min.toordinal()
LAST_DAY = dt.date.max.toordinal()
YEAR_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000)
MONTH_STEPS = (1, 2, 3, 6)
MIN_TICK_GAP = 40
"""Labelled ticks on a year or month scale are at least this many tick pads apart (48 pt at 7 pt)."""


@dataclass(frozen=True)
class Tick:
    day: float
    label: str
    """Empty when the label would collide with its neighbour or run off the figure."""


def day_number(day: dt.date) -> float:
    """A date's position on every axis: its ordinal day."""
    return float(day.toordinal())


def make_ticks(
    low: float,
    high: float,
    to_x: Callable[[float], float],
    label_width: Callable[[str], float],
    data_days: Sequence[float],
    spacing: float,
    right_limit: float,
    months: Sequence[str] = (),
) -> list[Tick]:
    """Ticks for the range [low, high): years, months, or the data's own days on short axes.

    The first labelled tick carries the year ("1950", "Feb 2025", "12 Jun 2025"); labels
    start just right of their tick, so a label must end ``spacing`` before the next tick.
    """
    days = high - low
    if days > 3 * 366:
        candidates = [_year_ticks(low, high, step) for step in YEAR_STEPS]
    elif days > 62:
        candidates = [_month_ticks(low, high, step) for step in MONTH_STEPS]
        candidates += [_year_ticks(low, high, step) for step in YEAR_STEPS]
    else:
        candidates = [_data_day_ticks(low, high, data_days)]
    for ticks in candidates:
        labelled = _label(ticks, to_x, label_width, spacing, right_limit, thin=ticks is candidates[-1], months=months)
        if labelled is not None:
            return labelled
    return []


def _year_ticks(low: float, high: float, step: int) -> list[dt.date]:
    first_year = _date(low).year
    if day_number(dt.date(first_year, 1, 1)) < low:
        first_year += 1
    first_year = -(-first_year // step) * step  # at least ``step``: years start at 1
    years = range(first_year, 10_000, step)
    return [dt.date(y, 1, 1) for y in years if day_number(dt.date(y, 1, 1)) < high]


def _month_ticks(low: float, high: float, step: int) -> list[dt.date]:
    start = _date(low)
    year, month = start.year, start.month
    if day_number(dt.date(year, month, 1)) < low:
        year, month = _next_month(year, month)
    result = []
    while year <= 9999 and day_number(dt.date(year, month, 1)) < high:
        if (month - 1) % step == 0:
            result.append(dt.date(year, month, 1))
        year, month = _next_month(year, month)
        if year > 9999:
            break
    return result


def _data_day_ticks(low: float, high: float, data_days: Sequence[float]) -> list[dt.date]:
    inside = sorted({int(d) for d in data_days if low <= d < high})
    return [dt.date.fromordinal(d) for d in inside]


def _label(
    dates: list[dt.date],
    to_x: Callable[[float], float],
    label_width: Callable[[str], float],
    spacing: float,
    right_limit: float,
    thin: bool,
    months: Sequence[str] = (),
) -> list[Tick] | None:
    """Label the ticks; None when labels would collide (try a coarser step), unless ``thin``.

    Thinning (the last resort, and the rule for the data's days) keeps a tick but blanks
    a label that would run into the previous one or off the figure.
    """
    if not dates or (len(dates) < 2 and not thin):
        return None
    ticks: list[Tick] = []
    previous_end = -1e9
    previous: dt.date | None = None
    offset = 0.5 if _is_day_scale(dates) else 0.0  # a day's tick marks its middle, where its events sit
    for day in dates:
        position = day_number(day) + offset
        x = to_x(position)
        text = _tick_text(day, previous, dates, months)
        width = label_width(text)
        fits = x >= previous_end and x + spacing + width <= right_limit
        if not fits and not thin:
            if x + spacing + width > right_limit and day is dates[-1] and len(ticks) >= 2:
                ticks.append(Tick(position, ""))  # the last label may drop at the edge
                continue
            return None
        ticks.append(Tick(position, text if fits else ""))
        if fits:
            previous_end = x + max(spacing + width + spacing * 3, spacing * MIN_TICK_GAP)
            previous = day
    if not any(tick.label for tick in ticks):
        return None if not thin else ticks
    return ticks


def _is_day_scale(dates: list[dt.date]) -> bool:
    return len(dates) >= 1 and not all(d.day == 1 for d in dates)


def _tick_text(day: dt.date, previous: dt.date | None, dates: list[dt.date], months: Sequence[str] = ()) -> str:
    """Year ticks say the year; month ticks the month (with the year when it changes); days likewise."""
    month = months[day.month - 1] if months else calendar.month_abbr[day.month]
    if all(d.month == 1 and d.day == 1 for d in dates):
        return str(day.year)
    if all(d.day == 1 for d in dates):
        return f"{month} {day.year}" if previous is None or previous.year != day.year else month
    if previous is None or previous.year != day.year:
        return f"{day.day} {month} {day.year}"
    return f"{day.day} {month}" if previous.month != day.month else str(day.day)


def _date(number: float) -> dt.date:
    return dt.date.fromordinal(min(max(int(number), FIRST_DAY), LAST_DAY))


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)
