"""Timeline figures drawn and cached: SVG files, fonts, colours, and the PDFs read back."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from html import escape
from pathlib import Path

import pdfplumber
import pytest

from briefing.config import BuildConfig, Variant
from briefing.errors import ContentError, Diagnostics, SourceLocation
from briefing.figure_model import Strategy
from briefing.figure_words import alt_text
from briefing.figures import draw_figures, make_layout_for, make_timeline
from briefing.i18n import load_language
from briefing.model import Category, DrawnFigure, FigureStyle, PartialDate, Timeline, TimelineEvent, TimelineFigureSpec
from briefing.pipeline import build, check
from briefing.text_finish import TextPass

PROJECT = Path(__file__).parent.parent
ENGLISH = load_language("en", PROJECT / "templates")
STYLE = FigureStyle(width_mm=160, font_dir=PROJECT / "templates" / "fonts", language=ENGLISH)
HERE = SourceLocation(Path("timeline.yaml"), 1, 1)
SPEC = TimelineFigureSpec(id="fig-test", location=HERE)
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


def _draw(events: Sequence[TimelineEvent], cache: Path, report: Diagnostics | None = None,
          spec: TimelineFigureSpec = SPEC) -> DrawnFigure:
    timeline = Timeline(categories=CATEGORIES, events=tuple(events))
    return draw_figures([spec], timeline, STYLE, cache, report or Diagnostics())[spec.id][0]


def _svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(node.itertext()) for node in root.iter(f"{SVG_NS}text")]


# --------------------------------------------------------------------------- drawing


def test_real_fonts_keep_the_long_view_and_june_clean() -> None:
    for events in (LONG_VIEW, JUNE_2025, FIVE):
        layout = make_layout_for(SPEC, events, CATEGORIES, STYLE)
        assert layout.unplaced == 0
        named = layout.labelled | set(layout.numbers)
        assert named == set(range(len(events)))


def test_the_long_view_with_spans_is_labelled_directly_without_midpoint_markers() -> None:
    events = LONG_VIEW[:-2]  # the last two are a week apart: they need a third row
    three_rows = TimelineFigureSpec("fig-long", HERE, rows=3)
    layout = make_layout_for(three_rows, events, CATEGORIES, STYLE)
    assert layout.strategy is Strategy.AUTO
    assert not layout.numbers
    assert max(abs(t.row) for t in layout.texts) == 3
    spans = {i for i, e in enumerate(events) if e.end is not None}
    assert spans.isdisjoint(m.event for m in layout.markers)
    assert len([s for s in layout.segments if s.role == "span"]) == len(spans)


def test_labels_are_drawn_as_the_text_pass_finished_them() -> None:
    """The figure never punctuates a label itself: the one text pass did (text_finish.py)."""
    written = (event("1979-11-04", "Iran's \"students\" -- day one"), event("1980-04-24", "Rescue fails"))
    finished = tuple(dataclasses.replace(e, title=TextPass("en").text(e.title)) for e in written)
    assert "Iran\u2019s \u201cstudents\u201d \u2013 day one" in [t.text for t in make_layout_for(SPEC, finished, (), STYLE).texts]
    assert "Iran's \"students\" -- day one" in [t.text for t in make_layout_for(SPEC, written, (), STYLE).texts]


def test_same_events_give_byte_identical_svg(tmp_path: Path) -> None:
    first = _draw(LONG_VIEW, tmp_path / "one")
    second = _draw(LONG_VIEW, tmp_path / "two")
    assert first.svg_path.name == second.svg_path.name
    for kind in ("svg_path", "print_svg_path", "html_svg_path"):
        assert getattr(first, kind).read_bytes() == getattr(second, kind).read_bytes()


def test_svgs_for_each_edition(tmp_path: Path) -> None:
    drawn = _draw(LONG_VIEW[:-3], tmp_path)
    assert drawn.html_svg_path is not None
    assert drawn.print_svg_path is not None
    html = drawn.html_svg_path.read_text(encoding="utf-8")
    labels = [t.text for t in drawn.texts if t.role == "label"]
    assert labels
    assert _svg_texts(drawn.html_svg_path) == []  # glyphs as shapes: the same on every reader's machine
    assert all(f"<!-- {escape(label)} -->" in html for label in labels)  # matplotlib names each drawn text
    assert re.search(r'<path id="NotoSans-Regular-[0-9a-f]+"', html)
    assert _svg_texts(drawn.svg_path) == []
    assert _svg_texts(drawn.print_svg_path) == []
    root = ET.parse(drawn.svg_path).getroot()
    assert root.get("width") == "160.0000mm"
    assert root.get("height", "").endswith("mm")
    assert "Date" not in drawn.svg_path.read_text(encoding="utf-8")
    printed = drawn.print_svg_path.read_text(encoding="utf-8")
    assert not re.search(r"(fill|stroke): #", printed)
    greys = set(re.findall(r"stroke: (device-cmyk\([^)]*\))", printed))
    assert "device-cmyk(0 0 0 0.4)" in greys  # leaders: black ink only
    assert re.search(r"fill: #0072b2", drawn.svg_path.read_text(encoding="utf-8"))


def test_dollar_signs_print_literally(tmp_path: Path) -> None:
    drawn = _draw(FIVE, tmp_path)
    assert "Cost $5 and $10" in [t.text for t in drawn.texts]
    assert drawn.html_svg_path is not None
    assert "<!-- Cost $5 and $10 -->" in drawn.html_svg_path.read_text(encoding="utf-8")


@pytest.mark.parametrize(("first", "last"), [("0001", "0002-03-04"), ("9998-12-30", "9999"), ("0001", "9999-12-31")])
def test_the_ends_of_the_calendar_draw(tmp_path: Path, first: str, last: str) -> None:
    report = Diagnostics()
    drawn = _draw((event(first, "First"), event(last, "Last", end=None)), tmp_path, report)
    assert not report.items
    assert {"First", "Last"} <= {t.text for t in drawn.texts}


def test_persian_labels_draw_with_the_arabic_script_font(tmp_path: Path) -> None:
    events = (*FIVE[:4], event("1989-06-04", "خامنه‌ای رهبر می‌شود"))
    figure = make_timeline(events, CATEGORIES, STYLE)  # a missing glyph would warn, and warnings fail tests
    assert figure.axes
    drawn = _draw(events, tmp_path)
    assert drawn.html_svg_path is not None
    assert 'id="NotoNaskhArabic-Regular-' in drawn.html_svg_path.read_text(encoding="utf-8")  # its glyphs drawn


def test_alt_text_spells_out_the_data() -> None:
    text = alt_text([LONG_VIEW[0], LONG_VIEW[4], LONG_VIEW[-1]], ENGLISH)
    assert text == (
        "Timeline of 3 events from 1953 to 2025: 19 August 1953, 1953 coup; "
        "4 November 1979 to 20 January 1981, Hostage crisis; 22 June 2025, US strikes Fordow."
    )
    assert alt_text(JUNE_2025[:2], ENGLISH).startswith("Timeline of 2 events in June 2025: 12 June 2025, IAEA censure;")


def test_alt_text_is_in_the_language_of_the_briefing_with_its_plurals() -> None:
    french, russian = (load_language(tag, PROJECT / "templates") for tag in ("fr", "ru"))
    assert alt_text([LONG_VIEW[0], LONG_VIEW[4]], french) == (
        "Chronologie de 2 événements de 1953 à 1981\u00a0: 19 août 1953, 1953 coup; "
        "du 4 novembre 1979 au 20 janvier 1981, Hostage crisis."
    )
    assert alt_text(JUNE_2025[:1], french).startswith("Chronologie de 1 événement en juin 2025\u00a0: 12 juin 2025")
    # Russian counts 1, 2-4 and 5+ differently (CLDR one, few, many)
    assert alt_text(JUNE_2025[:1], russian).startswith("Хронология за июнь 2025\u202fг., 1 событие: ")
    assert ", 2 события: " in alt_text(JUNE_2025[:2], russian)
    assert ", 5 событий: " in alt_text(FIVE, russian)


def test_alt_text_describes_the_inset_and_the_key() -> None:
    inset = TimelineFigureSpec("fig-i", HERE, inset=(date("2025-06-12"), date("2025-06-24")))
    layout = make_layout_for(inset, LONG_VIEW, CATEGORIES, STYLE)
    assert (
        "A shaded band marks 12 June 2025 to 24 June 2025 on the main axis; an inset below enlarges it and labels its "
        "events."
    ) in alt_text(LONG_VIEW, ENGLISH, layout)
    callouts = TimelineFigureSpec("fig-c", HERE, labels="callouts")
    layout = make_layout_for(callouts, FIVE, CATEGORIES, STYLE)
    assert alt_text(FIVE, ENGLISH, layout).endswith(
        "Every event is numbered in date order; a key under the figure lists each number with its event and date."
    )


# --------------------------------------------------------------------------- cache


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
    assert drawn.print_svg_path == drawn.svg_path.with_name(f"{stem}-1-print.svg")
    sidecar = json.loads((drawn.svg_path.parent / f"{stem}.json").read_text(encoding="utf-8"))
    (part,) = sidecar["parts"]
    assert part["alt_text"] == drawn.alt_text
    assert part["height_mm"] == drawn.height_mm
    assert len(part["texts"]) == len(drawn.texts)
    assert (drawn.width_mm, drawn.event_count) == (160.0, 5)
    mtime = drawn.svg_path.stat().st_mtime_ns
    (again,) = draw_figures([spec], timeline, STYLE, tmp_path, report)["fig-five"]
    assert again == drawn
    assert drawn.svg_path.stat().st_mtime_ns == mtime
    relabelled = Timeline(categories=CATEGORIES, events=(*FIVE[:-1], event("2020-01-03", "Renamed")))
    (changed,) = draw_figures([spec], relabelled, STYLE, tmp_path, report)["fig-five"]
    assert changed.svg_path != drawn.svg_path
    forced = TimelineFigureSpec(id="fig-five", location=HERE, labels="callouts")
    (numbered,) = draw_figures([forced], timeline, STYLE, tmp_path, report)["fig-five"]
    assert numbered.svg_path != drawn.svg_path  # the attributes are part of the key
    assert not report.items
    assert not [p for p in (tmp_path / "figures").iterdir() if p.name.startswith(".")]  # no temp files left


def test_a_truncated_cached_svg_is_redrawn(tmp_path: Path) -> None:
    drawn = _draw(FIVE, tmp_path)
    whole = drawn.svg_path.read_bytes()
    drawn.svg_path.write_bytes(whole[: len(whole) // 2])
    again = _draw(FIVE, tmp_path)
    assert again.svg_path.read_bytes() == whole


def test_cached_call_does_not_import_matplotlib(tmp_path: Path) -> None:
    _draw(FIVE, tmp_path)
    script = f"""
import json, sys
sys.path.insert(0, {str(PROJECT)!r})
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_figures import FIVE, _draw
from pathlib import Path
before = "matplotlib" in sys.modules
path = _draw(FIVE, Path({str(tmp_path)!r})).svg_path
print(json.dumps({{"before": before, "after": "matplotlib" in sys.modules, "path": str(path)}}))
"""
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"before": False, "after": False, "path": str(_draw(FIVE, tmp_path).svg_path)}


def test_filter_that_selects_nothing_warns_and_skips(tmp_path: Path) -> None:
    report = Diagnostics()
    empty = TimelineFigureSpec(id="fig-none", location=HERE, date_from=date("2030"), tags=("nuclear",))
    full = TimelineFigureSpec(id="fig-all", location=HERE)
    drawn = draw_figures([empty, full], Timeline(categories=CATEGORIES, events=FIVE), STYLE, tmp_path, report)
    assert list(drawn) == ["fig-all"]
    (warning,) = report.warnings
    assert warning.location == HERE
    assert warning.message == "figure 'fig-none' selects no timeline event (from=2030, to=any, tags=nuclear)"


def test_width_and_height_attributes(tmp_path: Path) -> None:
    narrow = TimelineFigureSpec(id="fig-narrow", location=HERE, width_mm=100, height_mm=60)
    drawn = _draw(LONG_VIEW, tmp_path, spec=narrow)
    assert drawn.width_mm == 100.0
    assert drawn.height_mm <= 60
    report = Diagnostics()
    wide = TimelineFigureSpec(id="fig-wide", location=HERE, width_mm=200)
    assert draw_figures([wide], Timeline(events=FIVE), STYLE, tmp_path, report) == {}
    assert [str(d) for d in report] == [
        "timeline.yaml:1:1: error: figure 'fig-wide': width=200mm is wider than the text block (160mm)"
    ]


def test_an_inset_with_no_event_draws_with_a_warning(tmp_path: Path) -> None:
    report = Diagnostics()
    spec = TimelineFigureSpec(id="fig-empty-inset", location=HERE, inset=(date("1990"), date("1991-06")))
    drawn = draw_figures([spec], Timeline(events=FIVE), STYLE, tmp_path, report)
    assert list(drawn) == ["fig-empty-inset"]
    assert [str(d) for d in report] == [
        "timeline.yaml:1:1: warning: figure 'fig-empty-inset': inset='1990/1991-06' holds none of the figure's events"
    ]


@pytest.mark.slow
def test_150_events_over_70_years_split_into_parts_at_full_size(tmp_path: Path) -> None:
    import random

    rng = random.Random(7)
    events = tuple(
        event(f"{rng.randint(1953, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}", f"Event {n} label",
              rng.choice([c.key for c in CATEGORIES]))
        for n in range(150)
    )
    style = FigureStyle(width_mm=160, font_dir=STYLE.font_dir, language=ENGLISH, max_height_mm=100)
    spec = TimelineFigureSpec("fig-dense", SourceLocation(Path("a.md"), 1, 1))
    parts = draw_figures([spec], Timeline(categories=CATEGORIES, events=events), style, tmp_path, Diagnostics())["fig-dense"]
    assert len(parts) > 1
    assert sum(part.event_count for part in parts) == 150
    assert all(part.height_mm <= 100 for part in parts)


# --------------------------------------------------------------------------- attributes


def _problems(folder: Path) -> list[str]:
    report = Diagnostics()
    with contextlib.suppress(ContentError):
        check(BuildConfig(content_dir=folder), report)
    return [str(d).replace(f"{folder.parent}/", "") for d in report]


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ('labels="callout"', "timeline 'fig-t': labels='callout' is not valid (use one of auto, direct, inset, "
                             "callouts (did you mean 'callouts'?))"),
        ('inset="2025-06"', "timeline 'fig-t': inset='2025-06' is not valid (use FIRST/LAST with dates YYYY, YYYY-MM "
                            "or YYYY-MM-DD, or 'none')"),
        ('inset="2025-06/2025-05"', "timeline 'fig-t': inset='2025-06/2025-05' is not valid (the interval ends before "
                                    "it starts)"),
        ('rows="9"', "timeline 'fig-t': rows='9' is not valid (use a number of label rows per side from 1 to 4)"),
        ('width="wide"', "timeline 'fig-t': width='wide' is not valid (use a length in mm or cm, e.g. 120mm)"),
        ('height="1cm"', "timeline 'fig-t': height='1cm' is not valid (a timeline figure needs at least 40mm)"),
        ('inset-at="x"', "unknown timeline option 'inset-at' (did you mean 'inset'?)"),
    ],
)
def test_bad_figure_attributes_are_located(content_tree, attributes: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    folder = content_tree({"sections/one.md": f"# One\n\n::: {{#fig-t .timeline {attributes}}}\nCaption [@ref1].\n:::\n"})
    assert _problems(folder) == [f"brief/sections/one.md:3:1: error: {expected}"]


# --------------------------------------------------------------------------- the PDFs read back

CROWDED_TIMELINE = """\
categories:
  conflict: Conflict and crises
  diplomacy: Diplomacy and law
events:
  - {date: "1953-08-19", title: 1953 coup, category: conflict}
  - {date: "1979-11-04", end: "1981-01-20", title: Hostage crisis, category: conflict}
  - {date: "1988-07-03", title: Iran Air 655, category: conflict}
  - {date: "2015-07-14", title: JCPOA, category: diplomacy}
  - {date: "2018-05-08", title: US quits JCPOA, category: diplomacy}
  - {date: "2025-02-04", title: Maximum pressure, category: diplomacy}
  - {date: "2025-03-12", title: Letter to Khamenei, category: diplomacy}
  - {date: "2025-04-12", title: Muscat talks, category: diplomacy}
  - {date: "2025-04-19", title: Rome round, category: diplomacy}
  - {date: "2025-04-26", title: Third round, category: diplomacy}
  - {date: "2025-05-11", title: Fourth round, category: diplomacy}
  - {date: "2025-06-12", title: IAEA finding, category: diplomacy}
  - {date: "2025-06-13", title: Israel strikes Iran, category: conflict}
  - {date: "2025-06-14", title: Talks called off, category: diplomacy}
"""
BRIEFING_FILES = {
    "briefing.yaml": """\
        title: Figures
        date: "2025-06-20"
        sections: [sections/one.md]
        references: refs.yaml
        timeline: timeline.yaml
        """,
    "refs.yaml": """\
        - id: ref1
          type: book
          title: A Book
          author: [{family: Doe, given: Jane}]
          issued: {date-parts: [[2001]]}
        """,
}
FIGURES_SECTION = """\
# One

Text citing [@ref1].

::: {#fig-inset .timeline inset="2025-02/2025-06"}
With an inset.
:::

::: {#fig-callouts .timeline labels="callouts" from="1970" to="2025-06"}
Numbered.
:::
"""


@pytest.fixture(scope="module")
def figure_pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[Variant, Path]:
    folder = tmp_path_factory.mktemp("figures") / "brief"
    files = {**BRIEFING_FILES, "timeline.yaml": CROWDED_TIMELINE, "sections/one.md": FIGURES_SECTION}
    for relative, text in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(textwrap.dedent(text), encoding="utf-8")
    out = tmp_path_factory.mktemp("out")
    config = BuildConfig(content_dir=folder, output_dir=out, variants=(Variant.PDF, Variant.PRINT),
                         cache_dir=tmp_path_factory.mktemp("cache"), epoch=1_750_000_000)
    build(config)
    return {Variant.PDF: out / "brief.pdf", Variant.PRINT: out / "brief-print.pdf"}


def _figure_page(path: Path) -> int:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return next(n for n, page in enumerate(text.split("\f")) if "Figure 1." in page)


@pytest.mark.slow
def test_figure_labels_extract_with_their_spaces(figure_pdfs: dict[Variant, Path]) -> None:
    path = figure_pdfs[Variant.PDF]
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for label in ("Letter to Khamenei", "Israel strikes Iran", "Talks called off", "Feb\u2013Jun 2025"):
        assert label in text
    with pdfplumber.open(path) as pdf:
        words = [w["text"] for page in pdf.pages for w in page.extract_words()]
    assert words[words.index("Israel"): words.index("Israel") + 3] == ["Israel", "strikes", "Iran"]
    assert "IsraelstrikesIran" not in words


@pytest.mark.slow
def test_the_callout_key_lists_number_label_and_date(figure_pdfs: dict[Variant, Path]) -> None:
    path = figure_pdfs[Variant.PDF]
    with pdfplumber.open(path) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    # A date too long for its column sits on the line below its label (the key's columns share 126 mm).
    assert re.search(r"1 Hostage crisis(?:[^\n]*\n)?\s*4 Nov 1979 \u2013 20 Jan 1981", text)
    assert re.search(r"12 Israel strikes Iran\s+13 Jun 2025", text)


@pytest.mark.slow
def test_print_figures_set_text_and_leaders_in_black_ink(figure_pdfs: dict[Variant, Path]) -> None:
    path = figure_pdfs[Variant.PRINT]
    page_number = _figure_page(path)
    with pdfplumber.open(path) as pdf:
        page = pdf.pages[page_number]
        label = [c for c in page.chars if c["text"] == "K" and c["size"] < 8]  # "Letter to Khamenei"
        assert label
        assert all(c["non_stroking_color"] == (0, 0, 0, 1) for c in label)
        strokes = [item["stroking_color"] for item in page.lines + page.curves if item.get("stroking_color")]
    assert strokes
    assert all(len(colour) == 4 for colour in strokes)
    assert (0, 0, 0, 0.4) in strokes  # the leaders
