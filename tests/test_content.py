"""The US–Iran briefing: every claim traceable, every figure and event sourced, nothing after the as-of date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pytest

from briefing.config import BuildConfig
from briefing.errors import Diagnostics
from briefing.model import TimelineFigureSpec
from briefing.model_text import Citation, Element, Node, TimelineFigure, walk
from briefing.pipeline import Prepared, check

from .conftest import US_IRAN_DIR


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    report = Diagnostics(strict=True)
    prepared = check(BuildConfig(content_dir=US_IRAN_DIR), report)
    assert [str(d) for d in report] == []
    return prepared


def test_every_event_cites_a_source(prepared: Prepared) -> None:
    unsourced = [event.name for event in prepared.briefing.timeline.events if not event.sources]
    assert unsourced == []


def test_every_section_and_figure_cites_a_source(prepared: Prepared) -> None:
    for fragment in prepared.document.sections:
        assert _cited_keys(walk(fragment.blocks)), f"{fragment.source.location.path.name} cites nothing"
    for figure in prepared.document.timeline_figures:
        assert _figure(prepared, figure), figure.id


def test_timeline_spans_the_coup_to_june_2025(prepared: Prepared) -> None:
    events = prepared.briefing.timeline.events
    assert len(events) >= 25
    assert min(e.date.first_day() for e in events) == dt.date(1953, 8, 19)
    as_of = prepared.briefing.metadata.date
    assert all((e.end or e.date).first_day() <= as_of for e in events)
    assert {e.id for e in events if e.end} >= {"hostage-crisis", "iran-iraq-war", "tanker-war"}


def test_three_timeline_figures_each_with_events(prepared: Prepared) -> None:
    figures = prepared.document.timeline_figures
    assert len(figures) >= 3
    for figure in figures:
        assert any(figure.selects(e) for e in prepared.briefing.timeline.events), figure.id


def test_at_least_fifteen_references_all_cited(prepared: Prepared) -> None:
    cited = {key for cluster in prepared.document.citations for key in (i.key for i in cluster.items)}
    references = {r.key for r in prepared.briefing.references}
    assert len(references) >= 15
    assert references == cited


ARTICLE = "article2025"
MAX_ARTICLE_SHARE = 0.25


def _cited_keys(nodes: Iterable[Node]) -> set[str]:
    """Citation keys among some nodes of the document model."""
    return {item.key for node in nodes if isinstance(node, Citation) for item in node.cluster.items}


def _figure(prepared: Prepared, figure: TimelineFigureSpec) -> TimelineFigure | None:
    section = next(f for f in prepared.document.sections if f.source.location.path == figure.location.path)
    return next((n for n in walk(section.blocks) if isinstance(n, TimelineFigure) and n.spec is figure), None)


def _key_judgments(prepared: Prepared) -> list[set[str]]:
    """The citation keys of each top-level item of the summary (the key judgments)."""
    assert prepared.document.summary is not None
    lists = [b for b in prepared.document.summary.blocks if isinstance(b, Element) and b.tag in ("ul", "ol")]
    return [_cited_keys(walk(item.children)) for block in lists for item in block.children if isinstance(item, Element)]


def _body_keys(prepared: Prepared) -> set[str]:
    """Keys cited in the sections (text, tables, footnotes and captions)."""
    return {
        item.key for cluster in prepared.document.citations if cluster.location.path.suffix == ".md" for item in cluster.items
    }


def test_every_key_judgment_cites_what_the_body_cites(prepared: Prepared) -> None:
    judgments = _key_judgments(prepared)
    assert len(judgments) >= 3
    body = _body_keys(prepared)
    for number, keys in enumerate(judgments, 1):
        assert keys, f"key judgment {number} cites nothing"
        assert keys <= body, f"key judgment {number} cites {sorted(keys - body)}, which the body never cites"


def test_article_share_of_citations_at_most_a_quarter(prepared: Prepared) -> None:
    """Counted per cited item: in the text (sections and key judgments), and with the chronology too."""
    items = [item for cluster in prepared.document.citations for item in cluster.items]
    in_text = [item for item in items if item.location.path.name != "timeline.yaml"]
    for scope in (in_text, items):
        share = sum(item.key == ARTICLE for item in scope) / len(scope)
        assert share <= MAX_ARTICLE_SHARE, f"{share:.0%} of {len(scope)} citations go to the source article"


def test_the_source_article_is_described_as_it_is(prepared: Prepared) -> None:
    """Unsigned and undated: no author, no date, no title it does not carry."""
    csl = next(r.csl for r in prepared.briefing.references if r.key == ARTICLE)
    assert {"author", "issued", "URL"}.isdisjoint(csl)
    assert csl["title"] == "Untitled article"
    assert "Unsigned" in csl["genre"]


def test_figure_captions_cite_sources_of_shown_events_only(prepared: Prepared) -> None:
    events = prepared.briefing.timeline.events
    for figure in prepared.document.timeline_figures:
        node = _figure(prepared, figure)
        assert node is not None, figure.id
        cited = _cited_keys(walk(node.caption))
        shown = {source.key for event in events if figure.selects(event) for source in event.sources}
        assert cited, f"{figure.id}: caption cites nothing"
        assert cited <= shown, f"{figure.id}: caption cites {sorted(cited - shown)}, sources of no event shown"


def test_the_2025_figure_shows_every_round_of_talks(prepared: Prepared) -> None:
    figure = next(f for f in prepared.document.timeline_figures if f.id == "fig-2025")
    rounds = [e for e in prepared.briefing.timeline.events if "oman" in e.tags and e.date.first_day().year == 2025]
    assert len(rounds) >= 6  # five rounds held, the sixth called off
    assert [e.id for e in rounds if not figure.selects(e)] == []


def test_chronology_covers_2019_to_2024(prepared: Prepared) -> None:
    ids = {e.id for e in prepared.briefing.timeline.events}
    assert {
        "tanker-attacks-2019",
        "drone-shootdown-2019",
        "jcpoa-limits-exceeded",
        "enrichment-60",
        "vienna-talks",
        "iran-attacks-israel-2024",
        "iran-missiles-oct-2024",
        "israel-strikes-oct-2024",
    } <= ids
    for event in prepared.briefing.timeline.events:
        if event.date.first_day().year in range(2019, 2025):
            assert ARTICLE not in {s.key for s in event.sources}, event.id


def test_no_source_postdates_the_as_of_date(prepared: Prepared) -> None:
    as_of = prepared.briefing.metadata.date
    for reference in prepared.briefing.references:
        parts = reference.csl.get("issued", {}).get("date-parts", [[]])[0]
        if parts:
            first_day = dt.date(int(parts[0]), int(parts[1]) if len(parts) > 1 else 1, int(parts[2]) if len(parts) > 2 else 1)
            assert first_day <= as_of, reference.key
