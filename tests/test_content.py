"""The US–Iran briefing: every claim traceable, every figure and event sourced, nothing after the as-of date."""

from __future__ import annotations

import datetime as dt

import pytest

from briefing.config import BuildConfig
from briefing.errors import Diagnostics
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
        tokens = [child for token in fragment.tokens for child in (token.children or [])]
        assert any(t.type == "citation" for t in tokens), f"{fragment.source.location.path.name} cites nothing"
    for figure in prepared.document.timeline_figures:
        section = next(f for f in prepared.document.sections if f.source.location.path == figure.location.path)
        captions = [t for t in section.tokens if t.type == "timeline_open" and t.meta["spec"] is figure]
        assert captions, figure.id


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
