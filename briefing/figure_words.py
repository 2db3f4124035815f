"""A timeline figure in words, in the briefing's language: its alt text for screen readers and /Alt.

The phrases come from ``templates/i18n`` like every fixed string; plurals follow CLDR's rules
through Babel (Russian has three forms, French counts 0 and 1 as one).
"""

from __future__ import annotations

from collections.abc import Sequence

from .figure_layout import Layout
from .i18n import Language
from .model import PartialDate, TimelineEvent


def alt_text(events: Sequence[TimelineEvent], language: Language, layout: Layout | None = None) -> str:
    """Describe the figure from its data: the period, every event with its date, then the inset or the key."""
    first = min(event.date.first_day() for event in events)
    last = max((event.end or event.date).last_day() for event in events)
    if first.year != last.year:
        period = language["figure-alt-years"].format(first=first.year, last=last.year)
    elif first.month != last.month:
        period = language["figure-alt-in-year"].format(when=first.year)
    else:
        period = language["figure-alt-in-month"].format(when=language.partial_date(PartialDate(first.year, first.month)))
    items = []
    for event in events:
        when = language.partial_date(event.date)
        if event.end is not None:
            when = language["figure-alt-span"].format(first=when, last=language.partial_date(event.end))
        items.append(f"{when}, {' '.join(event.short_label.split())}")
    text = language["figure-alt"].format(
        events=_count(language, "figure-alt-events", len(events)), period=period, items="; ".join(items),
    )
    words = [text, *_describe_layout(layout, language)] if layout is not None else [text]
    return " ".join(words)


def _describe_layout(layout: Layout, language: Language) -> list[str]:
    """The inset or the numbered key, in words: what a sighted reader sees besides the labels."""
    words = []
    if layout.inset is not None:
        first, last = layout.inset
        words.append(language["figure-alt-inset"].format(first=language.long_date(first), last=language.long_date(last)))
    if layout.key:
        if not layout.labelled:
            words.append(language["figure-alt-key-all"])
        else:
            words.append(_count(language, "figure-alt-key", len(layout.key)))
    return words


def _count(language: Language, key: str, number: int) -> str:
    """'1 event', '3 events', '5 событий': the CLDR plural form the number takes, else the 'other' form."""
    from babel import Locale

    form = Locale.parse(language.locale).plural_form(number)
    phrase = language.strings.get(f"{key}-{form}") or language[f"{key}-other"]
    return phrase.format(n=number)
