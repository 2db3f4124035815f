"""A placed Layout -> SVG bytes through matplotlib's object API (no placement decisions here).

The figure is drawn in points with y down, exactly as the layout gives it. Three SVGs come
from one drawing: with its text (the HTML edition, where browsers set SVG text well), and
without it in sRGB and in CMYK (the PDF editions, whose text is laid over the image as HTML
so that each label is one run of text with its spaces, which SVG text in WeasyPrint is not).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import figure_palette as palette
from .figure_layout import Layout
from .figure_model import Measure, Segment, Text
from .fonts import SCRIPT_FACES
from .model import FigureStyle

if TYPE_CHECKING:  # matplotlib is imported lazily: a cached build never pays for it
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FONT_FILES = ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf", "NotoNaskhArabic-Regular.ttf", "NotoNaskhArabic-Bold.ttf",
              "NotoSansHebrew-Regular.ttf", "NotoSansHebrew-Bold.ttf",
              *(f"NotoSans{script}-{weight}.ttf" for script in SCRIPT_FACES for weight in ("Regular", "Bold")),
              "NotoSansSymbols-Regular.ttf", "NotoSansSymbols2-Regular.ttf", "NotoSansMath-Regular.ttf")
FALLBACK_FAMILIES = ["Noto Naskh Arabic", "Noto Sans Hebrew", *(f"Noto Sans {script}" for script in SCRIPT_FACES),
                     "Noto Sans Symbols", "Noto Sans Symbols2", "Noto Sans Math"]
"""Tried in turn, glyph by glyph, for what Noto Sans lacks (Persian and Arabic names, Hebrew, Indic, Thai…, symbols),
as the stylesheet's font lists do."""
PT_PER_INCH = 72.0
MM_PER_INCH = 25.4
LINES = {
    "axis": (0.6, palette.AXIS),
    "tick": (0.6, palette.AXIS),
    "leader": (0.4, palette.LEADER),
    "guide": (0.5, palette.GUIDE),
}
"""Width (pt) and colour of the neutral lines, per segment role."""
COLOURED = {"span": 1.6, "span-tick": 0.8, "pole": 0.6}
"""Width (pt) of the lines drawn in their category's colour."""
TEXT_COLOURS = {"tick": palette.TICK_LABEL, "key-date": palette.TICK_LABEL}
"""Text colour per role; every other role is set in the label colour."""

_registered_fonts: set[Path] = set()


@contextmanager
def figure_context(style: FigureStyle) -> Iterator[None]:
    """Fonts registered and rcParams set only for the duration, so callers' matplotlib is untouched."""
    import matplotlib
    from matplotlib import font_manager

    for path in [(style.font_dir / name).resolve() for name in FONT_FILES] + [f.path for f in style.fallback_fonts]:
        if path not in _registered_fonts and path.is_file():
            font_manager.fontManager.addfont(str(path))
            _registered_fonts.add(path)
    rc: dict[Any, Any] = {
        "font.family": font_families(style),
        "font.size": style.font_size_pt,
        "text.parse_math": False,
        "text.usetex": False,
        "text.hinting": "no_hinting",
        "svg.fonttype": "none",
        "svg.hashsalt": "briefing",
        "path.simplify": False,
        "figure.dpi": PT_PER_INCH,
        "savefig.dpi": PT_PER_INCH,
        "lines.solid_capstyle": "butt",
    }
    # A fallback family without a bold face (Symbols 2, Math) is used at its regular weight; matplotlib
    # says so on every bold label. Coverage is ours to check (fonts.py), so its notices are silenced.
    font_log = logging.getLogger("matplotlib.font_manager")
    level = font_log.level
    font_log.setLevel(logging.ERROR)
    try:
        with matplotlib.rc_context(rc):
            yield
    finally:
        font_log.setLevel(level)


def font_families(style: FigureStyle) -> list[str]:
    """The figure's font list, as the stylesheet's ``--sans``: the theme's fallback families last."""
    return [style.sans_family, *FALLBACK_FAMILIES, *dict.fromkeys(font.family for font in style.fallback_fonts)]


def text_measure(style: FigureStyle) -> Measure:
    """Rendered text widths in points, as matplotlib sets the vendored fonts (call inside figure_context)."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(100, 100, PT_PER_INCH)  # type: ignore[no-untyped-call]
    fonts = {
        bold: FontProperties(family=font_families(style), size=style.font_size_pt,
                             weight="bold" if bold else "normal")
        for bold in (False, True)
    }
    cache: dict[tuple[str, bool], float] = {}

    def measure(text: str, bold: bool) -> float:
        if (text, bold) not in cache:
            width, _, _ = renderer.get_text_width_height_descent(  # type: ignore[no-untyped-call]
                text, fonts[bold], ismath=False
            )
            cache[text, bold] = float(width) * 1.01  # Pango and FreeType round differently
        return cache[text, bold]

    return measure


def draw_layout(layout: Layout, style: FigureStyle) -> Figure:
    """Every record of the layout as a matplotlib artist, in points, y down (call inside figure_context)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(layout.width / PT_PER_INCH, layout.height / PT_PER_INCH), dpi=PT_PER_INCH)
    figure.patch.set_visible(False)  # transparent: the page shows through
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_axis_off()
    axes.set_xlim(0, layout.width)
    axes.set_ylim(layout.height, 0)
    _draw_shades(axes, layout)
    _draw_segments(axes, layout.segments, style.palette)
    _draw_markers(axes, layout, style.palette)
    _draw_texts(axes, layout.texts, style)
    return figure


def _draw_shades(axes: Axes, layout: Layout) -> None:
    from matplotlib.patches import Rectangle

    for number, shade in enumerate(layout.shades):
        box = shade.box
        colour = palette.BAND if shade.role == "band" else palette.INSET
        patch = Rectangle((box.left, box.top), box.right - box.left, box.bottom - box.top, facecolor=colour,
                          edgecolor="none", linewidth=0, zorder=0 if shade.role == "inset" else 0.5)
        patch.set_gid(f"{shade.role}-{number}")
        axes.add_patch(patch)


def _draw_segments(axes: Axes, segments: tuple[Segment, ...], colours: tuple[str, ...]) -> None:
    """Neutral lines grouped by role, coloured ones by role and colour: a few paths, not hundreds."""
    from matplotlib.collections import LineCollection

    groups: dict[tuple[str, int], list[list[tuple[float, float]]]] = {}
    for segment in segments:
        groups.setdefault((segment.role, segment.style), []).append(
            [(segment.x0, segment.y0), (segment.x1, segment.y1)]
        )
    z_order = {"guide": 0.6, "leader": 1.0, "axis": 1.5, "tick": 1.5}
    for (role, style), lines in groups.items():
        if role in LINES:
            width, colour = LINES[role]
        else:
            width, colour = COLOURED[role], palette.colour(style, colours)
        collection = LineCollection(lines, colors=colour, linewidths=width, zorder=z_order.get(role, 2),
                                    capstyle="butt")
        collection.set_gid(f"{role}s" if style < 0 else f"{role}s-{style}")
        axes.add_collection(collection, autolim=False)


def _draw_markers(axes: Axes, layout: Layout, colours: tuple[str, ...]) -> None:
    """Markers per category, white-edged; continuation chevrons at cut spans."""
    by_style: dict[int, tuple[list[float], list[float]]] = {}
    for item in layout.markers:
        xs, ys = by_style.setdefault(item.style, ([], []))
        xs.append(item.x)
        ys.append(item.y)
    for style, (xs, ys) in by_style.items():
        shape = palette.marker(style)
        (line,) = axes.plot(xs, ys, linestyle="none", marker=shape, markersize=layout.marker_size * palette.MARKER_SCALE[shape],
                            markerfacecolor=palette.colour(style, colours), markeredgecolor=palette.WHITE, markeredgewidth=0.5,
                            zorder=3)
        line.set_gid(f"markers-{style}")
    for number, chevron in enumerate(layout.chevrons):
        offset = chevron.direction * layout.marker_size * 0.35
        (line,) = axes.plot([chevron.x + offset], [chevron.y], linestyle="none",
                            marker=">" if chevron.direction > 0 else "<", markersize=layout.marker_size * 0.8,
                            markerfacecolor=palette.colour(chevron.style, colours), markeredgewidth=0, zorder=3)
        line.set_gid(f"continues-{number}")


def _draw_texts(axes: Axes, texts: tuple[Text, ...], style: FigureStyle) -> None:
    for number, text in enumerate(texts):
        artist = axes.text(text.x, text.baseline, text.text, ha="left" if text.anchor == "start" else "right",
                           va="baseline", fontsize=style.font_size_pt, fontweight="bold" if text.bold else "normal",
                           color=TEXT_COLOURS.get(text.role, palette.LABEL), parse_math=False, zorder=4)
        artist.set_gid(f"figure-text-{number}")


# --------------------------------------------------------------------------- SVG output


def svg_bytes(figure: Figure, text_as_paths: bool = False) -> bytes:
    """The SVG with real text (or its glyphs drawn as shapes) and no timestamps, sized in millimetres,
    so equal input gives equal bytes.

    The web edition shows a figure as an image, which cannot use the page's fonts: drawn as shapes,
    its labels look the same on every reader's machine, whatever script they are in (the alt text
    says them).
    """
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    buffer = io.BytesIO()
    canvas = FigureCanvasSVG(figure)
    with matplotlib.rc_context({"svg.fonttype": "path" if text_as_paths else "none"}):
        canvas.print_figure(buffer, format="svg", metadata={"Date": None, "Creator": None}, facecolor="none",
                            edgecolor="none")
    width_in, height_in = (float(v) for v in figure.get_size_inches())
    return _with_mm_size(buffer.getvalue().decode("utf-8"), width_in, height_in).encode("utf-8")


_TEXT_GROUP = re.compile(r'\s*<g id="figure-text-\d+">.*?</g>', re.DOTALL)


def without_text(svg: bytes) -> bytes:
    """The figure's shapes alone: the PDF editions set its text as HTML over the image."""
    return _TEXT_GROUP.sub("", svg.decode("utf-8")).encode("utf-8")


def in_cmyk(svg: bytes) -> bytes:
    return palette.svg_in_cmyk(svg.decode("utf-8")).encode("utf-8")


def _with_mm_size(text: str, width_in: float, height_in: float) -> str:
    """Give the root element its size in millimetres, the unit the page layout speaks."""
    width = f'width="{width_in * MM_PER_INCH:.4f}mm"'
    height = f'height="{height_in * MM_PER_INCH:.4f}mm"'
    head, separator, rest = text.partition("<svg ")
    tag_end = rest.index(">")
    tag = re.sub(r'\bwidth="[^"]*"', width, rest[:tag_end], count=1)
    tag = re.sub(r'\bheight="[^"]*"', height, tag, count=1)
    return head + separator + tag + rest[tag_end:]


def style_keys(style: FigureStyle) -> dict[str, Any]:
    """What of the style changes the drawing (for the cache key)."""
    return {"font_size_pt": style.font_size_pt, "sans_family": style.sans_family}
