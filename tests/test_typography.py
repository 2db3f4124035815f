"""Typography a reader checks on the page: running heads, chronology dates, URL breaks."""

from __future__ import annotations

import re
from pathlib import Path

import pdfplumber
import pytest

from briefing.config import BuildConfig, Variant
from briefing.pipeline import BuildResult, build

from .conftest import ContentTree
from .helpers import page_texts, pdf_of, plumber

pytestmark = pytest.mark.slow

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"


def _running_head(page: pdfplumber.page.Page) -> str:
    """The right-hand running head: the words at the top right, above the text area."""
    mm = 72 / 25.4
    words = [w for w in page.extract_words() if 15 * mm < w["top"] < 24 * mm and w["x0"] > page.width / 2]
    return " ".join(w["text"] for w in sorted(words, key=lambda w: w["x0"]))


def _section_starts(page: pdfplumber.page.Page) -> list[tuple[float, str]]:
    """(top, "2 Title") of each numbered level-1 heading on the page: the 15 pt lines."""
    lines: dict[float, list[dict[str, object]]] = {}
    for word in page.extract_words(extra_attrs=["size"]):
        if abs(float(word["size"]) - 15) < 0.5:
            lines.setdefault(round(float(word["top"])), []).append(word)
    starts = [(top, " ".join(str(w["text"]) for w in sorted(words, key=lambda w: float(w["x0"]))))
              for top, words in sorted(lines.items())]
    return [(top, text) for top, text in starts if re.match(r"\d ", text)]


def test_running_heads_name_the_section_in_force_at_the_top(us_iran_build: BuildResult) -> None:
    text_top = 26 * 72 / 25.4  # the A4 top margin
    in_force = None
    checked = 0
    with plumber(pdf_of(us_iran_build)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            starts = _section_starts(page)
            opening = starts[0][1] if starts and starts[0][0] < text_top + 8 else in_force
            head = _running_head(page)
            if opening is not None and re.match(r"\d ", head):
                assert head == opening, f"page {number}"
                checked += 1
            if starts:
                in_force = starts[-1][1]
    assert checked >= 5


def _title_head(page: pdfplumber.page.Page) -> str:
    """The left-hand running head: the briefing's title."""
    mm = 72 / 25.4
    words = [w for w in page.extract_words() if 15 * mm < w["top"] < 24 * mm and w["x1"] < page.width / 2]
    return " ".join(w["text"] for w in sorted(words, key=lambda w: w["x0"]))


def test_a_heading_can_give_its_running_head_a_short_form(content_tree: ContentTree, tmp_path: Path) -> None:
    long_title = "Diplomatic channels, back channels and the long history of mediation"
    body = "\n\n".join(["A paragraph of text that fills the page [@ref1]. " * 12] * 8)
    folder = content_tree({"sections/one.md": f"# {long_title} {{#sec-one short=\"Channels\"}}\n\n{body}\n"})
    yaml = (folder / "briefing.yaml").read_text(encoding="utf-8")
    title = "title: \"The Northern Sea Route: Shipping, Sanctions and Security in a Warming Arctic\"\n"
    (folder / "briefing.yaml").write_text(yaml.replace("title: Test Briefing\n", title), encoding="utf-8")
    config = BuildConfig(folder, tmp_path / "out", (Variant.PDF,), cache_dir=tmp_path / "cache", epoch=0)
    with pdfplumber.open(pdf_of(build(config))) as pdf:
        heads = [_running_head(page) for page in pdf.pages[3:]]
        titles = {_title_head(page) for page in pdf.pages[1:]}
    assert "Channels" in heads
    assert not any("Diplomatic" in head for head in heads)
    assert titles == {"The Northern Sea Route"}  # the main title, before its colon: never cut with an ellipsis
    (folder / "briefing.yaml").write_text(yaml.replace("title: Test Briefing\n", title + "short-title: Arctic Shipping\n"),
                                          encoding="utf-8")
    with pdfplumber.open(pdf_of(build(config))) as pdf:
        assert {_title_head(page) for page in pdf.pages[1:]} == {"Arctic Shipping"}  # the References' pages too


def test_chronology_dates_stay_on_one_line(us_iran_build: BuildResult) -> None:
    text = "\n".join(page_texts(pdf_of(us_iran_build)))
    chronology = text.split("\nChronology\n", 1)[1].split("\nReferences\n", 1)[0]
    assert re.search(rf"(?m)^\d{{1,2}} ({MONTHS}) \d{{4}}", chronology)
    assert not re.search(rf"(?m)^\d{{1,2}} ({MONTHS})$", chronology), "a date broken before its year"


def test_urls_never_break_after_a_hyphen(us_iran_build: BuildResult) -> None:
    text = "\n".join(page_texts(pdf_of(us_iran_build)))
    references = text.split("\nReferences\n", 1)[1]
    assert "https://" in references
    assert not re.search(r"(?m)-$", references), "a line of the references ends with a hyphen"


def _straight_marks(text: str) -> list[str]:
    """Lines with a straight quote or apostrophe, URLs aside."""
    return [line for line in text.splitlines() if re.search(r"['\"]", re.sub(r"https?://\S+", "", line))]


def test_no_straight_quotes_reach_the_page(us_iran_build: BuildResult, starter_build: BuildResult) -> None:
    for result in (us_iran_build, starter_build):
        assert _straight_marks("\n".join(page_texts(pdf_of(result)))) == []


def test_text_from_yaml_gets_the_prose_punctuation(content_tree: ContentTree, tmp_path: Path) -> None:
    folder = content_tree({
        "briefing.yaml": """\
            title: "Iran's 'red lines' -- and America's"
            date: "2025-06-01"
            organization: O'Neill Institute
            sections: [sections/one.md]
            references: refs.yaml
            timeline: timeline.yaml
            """,
        "timeline.yaml": """\
            categories: {talks: "Talks 'n' deals"}
            events:
              - {date: "2001-02-03", title: "The \\"Muscat\\" channel's start...", category: talks, sources: [ref1]}
            """,
        "sections/one.md": "# One\n\nText [@ref1].\n\n| A | B |\n|---|---|\n| 1 | 2 |\n\nTable: The 'options' table\n",
    })
    config = BuildConfig(folder, tmp_path / "out", (Variant.PDF,), cache_dir=tmp_path / "cache", epoch=0)
    text = "\n".join(page_texts(pdf_of(build(config))))
    assert _straight_marks(text) == []
    for expected in ("Iran’s ‘red lines’ – and America’s", "O’NEILL INSTITUTE", "“Muscat” channel’s start…",
                     "TALKS ‘N’ DEALS", "The ‘options’ table"):
        assert expected in " ".join(text.split()), expected


def test_every_language_file_has_every_string() -> None:
    import yaml

    from briefing.config import DEFAULT_TEMPLATES_DIR

    folder = DEFAULT_TEMPLATES_DIR / "i18n"
    english = set(yaml.safe_load((folder / "en.yaml").read_text(encoding="utf-8")))
    languages = sorted(path.stem for path in folder.glob("*.yaml"))
    assert {"en", "en-GB", "fr", "de", "es", "it", "pt", "ru"} <= set(languages)
    for language in languages:
        strings = yaml.safe_load((folder / f"{language}.yaml").read_text(encoding="utf-8"))
        # plural forms follow the language (CLDR): Russian adds few and many, each beside its 'other'
        extra, missing = set(strings) - english, english - set(strings)
        assert all(PLURAL_FORM.search(key) and PLURAL_FORM.sub("-other", key) in english for key in extra), language
        assert all(PLURAL_FORM.search(key) for key in missing), language
        assert all(isinstance(value, str) and value.strip() for value in strings.values()), language


PLURAL_FORM = re.compile(r"-(zero|one|two|few|many)$")


def test_fixed_strings_and_dates_follow_the_language(content_tree: ContentTree, tmp_path: Path) -> None:
    folder = content_tree({
        "briefing.yaml": """\
            title: Sécurité de l’eau
            date: "2025-06-01"
            language: fr
            summary: "- Un jugement [@ref1] (voir @sec-one)."
            sections: [sections/one.md]
            references: refs.yaml
            timeline: timeline.yaml
            """,
        "timeline.yaml": """\
            events:
              - {date: "2001-02-03", title: Début, sources: [ref1]}
              - {date: "2003-11", title: Suite, sources: [ref1]}
              - {date: "2004-02-10", title: Février, sources: [ref1]}
              - {date: "2004-06-20", title: Juin, sources: [ref1]}
            """,
        "sections/one.md": "# One {#sec-one}\n\nTexte [@ref1].\n\n::: {#fig-t .timeline from=\"2004\"}\nLégende.\n:::\n",
    })
    config = BuildConfig(folder, tmp_path / "out", (Variant.PDF, Variant.HANDOUT), cache_dir=tmp_path / "cache", epoch=0)
    result = build(config)
    text = " ".join(" ".join(page_texts(pdf_of(result))).split())
    for expected in ("Principales conclusions", "Sommaire", "Chronologie", "Références",
                     "1 juin 2025", "3 février 2001", "novembre 2003", "(voir Section 1)", "Page 2 sur",
                     "avr."):  # the figure's month ticks too
        assert expected in text, expected
    for english in ("Key judgments", "Contents", "References", "June", "Page 2 of"):
        assert english not in text, english
    handout = " ".join(" ".join(page_texts(result.outputs[1].path)).split())
    assert "Fiche" in handout
    assert "Au 1 juin 2025" in handout


def test_an_unsupported_language_is_a_located_error(
    content_tree: ContentTree, capsys: pytest.CaptureFixture[str]
) -> None:
    from briefing.cli import main

    folder = content_tree({"briefing.yaml": """\
        title: T
        date: "2025-06-01"
        language: he
        sections: [sections/one.md]
        references: refs.yaml
        """})
    capsys.readouterr()
    assert main(["check", str(folder)]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
    assert errors == [f"{folder / 'briefing.yaml'}:3:11: error: language 'he' is not supported (supported: de, en, "
                      "en-GB, es, fr, it, pt, ru); a translator adds one as templates/i18n/TAG.yaml, and left-to-right "
                      "scripts only"]


def test_short_key_judgments_and_contents_share_a_page(starter_build: BuildResult, us_iran_build: BuildResult) -> None:
    starter = page_texts(pdf_of(starter_build))
    assert "Key judgments" in starter[1]
    assert "Contents" in starter[1]  # a short briefing: one page for both
    long = page_texts(pdf_of(us_iran_build))
    assert "Contents" not in long[1]  # long judgments: the contents open the next page, whole
    assert "Contents" in long[2]


PANDOC_MARKDOWN = """\
# One {#sec-one}

Text [@ref1].

## Background notes {-}

H~2~O and x^2^ here.

Term
: Its definition.

::: {.callout-warning}
## Mind the gap
A callout body.
:::

| Line one
| Line two

[small caps]{.smallcaps} and [bonjour]{lang=fr}.
"""


def test_pandoc_markdown_a_user_types_is_rendered(content_tree: ContentTree, tmp_path: Path) -> None:
    folder = content_tree({"sections/one.md": PANDOC_MARKDOWN})
    config = BuildConfig(folder, tmp_path / "out", (Variant.PDF, Variant.HTML), cache_dir=tmp_path / "cache", epoch=0)
    result = build(config)
    html = next(o.path for o in result.outputs if o.path.suffix == ".html").read_text(encoding="utf-8")
    for fragment in ("H<sub>2</sub>O", "x<sup>2</sup>", "<dt>Term</dt>", "<dd>", 'class="callout-warning"',
                     'class="callout-title"', "Line one<br", 'class="smallcaps"', 'lang="fr"'):
        assert fragment in html, fragment
    text = "\n".join(page_texts(pdf_of(result)))
    assert "\nBackground notes\n" in text  # {-}: no number
    assert "1.1 Background notes" not in text
    assert "Mind the gap" in text
    for raw in ("~2~", "^2^", "{.smallcaps}", "{lang=fr}", ": Its", "| Line"):
        assert raw not in text, raw


def test_an_unknown_callout_is_a_located_error(content_tree: ContentTree, capsys: pytest.CaptureFixture[str]) -> None:
    from briefing.cli import main

    folder = content_tree({"sections/one.md": "# One\n\nText [@ref1].\n\n::: {.callout-notice}\nBody.\n:::\n"})
    capsys.readouterr()
    assert main(["check", str(folder)]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
    assert errors == [f"{folder / 'sections/one.md'}:5:1: error: unknown callout '.callout-notice' (did you mean "
                      "'callout-note'?) (callouts: .callout-note, .callout-tip, .callout-important, .callout-warning, "
                      ".callout-caution)"]
