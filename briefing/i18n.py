"""A briefing's language -> its fixed strings (one file per language under templates/i18n/) and dates (CLDR).

Dates and month names come from CLDR through Babel, the well-kept library for them; the strings
of the page furniture ("Key judgments", "Page 3 of 9") are ours to word, so they are files a
translator edits. Adding a language is adding ``templates/i18n/TAG.yaml`` with every key of
``en.yaml`` (a test checks that each file has them all).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from .model import PartialDate

CLDR_LOCALES = {"en": "en_001"}
"""International English writes "1 June 2025", as analytic briefings do; other tags map by name."""


@dataclass(frozen=True)
class Language:
    """The strings and date formats of one language."""

    tag: str
    """The file it comes from: 'en', 'en-GB', 'fr'…"""
    strings: Mapping[str, str]

    def __getitem__(self, key: str) -> str:
        return self.strings[key]

    @property
    def locale(self) -> str:
        return CLDR_LOCALES.get(self.tag, self.tag.replace("-", "_"))

    def long_date(self, date: dt.date) -> str:
        from babel.dates import format_date

        return str(format_date(date, "long", locale=self.locale))

    def month_abbreviations(self) -> tuple[str, ...]:
        """'Jan'…'Dec', 'janv.'…'déc.': the months as an axis or a key names them."""
        from babel.dates import get_month_names

        names = get_month_names("abbreviated", locale=self.locale)
        return tuple(str(names[month]) for month in range(1, 13))

    def partial_date(self, date: PartialDate) -> str:
        """A date as precise as it was written: '19 August 1953', 'August 1953', '1953'."""
        from babel.dates import format_skeleton

        if date.month is None:
            return str(date.year)
        if date.day is None:
            return str(format_skeleton("yMMMM", dt.date(date.year, date.month, 1), locale=self.locale))
        return self.long_date(dt.date(date.year, date.month, date.day))


def supported_languages(templates_dir: Path) -> list[str]:
    return sorted(path.stem for path in (templates_dir / "i18n").glob("*.yaml"))


def resolve_language(tag: str, templates_dir: Path) -> str | None:
    """The strings file for a BCP 47 tag: the tag itself, else its language ('fr-CA' -> 'fr'), else None."""
    supported = {name.lower(): name for name in supported_languages(templates_dir)}
    return supported.get(tag.lower()) or supported.get(tag.split("-")[0].lower())


@cache
def load_language(tag: str, templates_dir: Path) -> Language:
    text = (templates_dir / "i18n" / f"{tag}.yaml").read_text(encoding="utf-8")
    strings = yaml.safe_load(text)
    return Language(tag, {str(key): str(value) for key, value in strings.items()})
