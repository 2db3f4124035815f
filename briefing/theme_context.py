"""A checked ``Theme`` -> what templates and stylesheets read of it (presentation values only, no paths)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .figure_palette import css_cmyk
from .model import Theme


@dataclass(frozen=True)
class ThemeView:
    """The theme as the templates see it: ``theme.logo_url``, ``theme.accent``… (None: the built-in look)."""

    logo_url: str | None = None
    accent: str | None = None
    ink: str | None = None
    accent_cmyk: str | None = None
    """The accent for the print edition, as ``device-cmyk()``; its text stays black ink whatever ``ink`` says."""
    body_family: str | None = None
    heading_family: str | None = None
    fallback_families: tuple[str, ...] = ()
    """Last in both font stacks, after the built-in fonts: they add characters, never replace them."""


def theme_context(theme: Theme, asset_url: Callable[[Path], str]) -> ThemeView:
    accent_cmyk = css_cmyk(theme.accent) if theme.accent else None
    return ThemeView(
        logo_url=asset_url(theme.logo) if theme.logo else None,
        accent=theme.accent,
        ink=theme.ink,
        accent_cmyk=accent_cmyk,
        body_family=theme.body_family,
        heading_family=theme.heading_family,
        fallback_families=theme.fallback_families,
    )


def theme_font_faces(theme: Theme) -> list[tuple[str, str, int, str]]:
    """``@font-face`` rules for the theme's fonts: (family, style, weight, file URL)."""
    return [(font.family, font.style, font.weight, font.path.as_uri()) for font in theme.fonts]


def theme_asset_dirs(theme: Theme) -> list[Path]:
    """The folders the engine may fetch theme files from: the logo's and the fonts'."""
    paths = [*([theme.logo] if theme.logo else []), *(font.path for font in theme.fonts)]
    return list(dict.fromkeys(path.parent for path in paths))
