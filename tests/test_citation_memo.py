"""A warm rebuild reuses the last formatted citations only while nothing they depend on changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefing.config import BuildConfig
from briefing.errors import ContentError, Diagnostics
from briefing.pipeline import check

from .conftest import ContentTree


def _citations(folder: Path) -> object:
    return check(BuildConfig(folder), Diagnostics()).citations


def test_citations_are_reused_when_only_their_places_move(content_tree: ContentTree) -> None:
    folder = content_tree({"sections/one.md": "# One\n\nText citing [@ref1, p. 4].\n"})
    section = folder / "sections" / "one.md"
    first = _citations(folder)
    section.write_text("# One\n\nA new paragraph above.\n\nText citing [@ref1, p. 4].\n", encoding="utf-8")
    assert _citations(folder) is first
    section.write_text("# One\n\nText citing [@ref1, p. 5].\n", encoding="utf-8")
    changed = _citations(folder)
    assert changed is not first
    assert "5" in changed.clusters[0].html  # type: ignore[attr-defined]
    references = folder / "refs.yaml"
    references.write_text(references.read_text(encoding="utf-8").replace("A Book", "Another Book"), encoding="utf-8")
    assert "Another Book" in _citations(folder).bibliography[0].html  # type: ignore[attr-defined]


def test_a_run_with_problems_is_never_reused(content_tree: ContentTree) -> None:
    folder = content_tree({"sections/one.md": "# One\n\nText citing [@nobody].\n"})
    section = folder / "sections" / "one.md"
    for text in ("# One\n\nText citing [@nobody].\n", "# One\n\nMoved down.\n\nText citing [@nobody].\n"):
        section.write_text(text, encoding="utf-8")
        report = Diagnostics()
        with pytest.raises(ContentError):
            check(BuildConfig(folder), report)
        line = 3 if text.count("\n") == 3 else 5
        assert [str(d).split(": error")[0] for d in report] == [f"{section}:{line}:14"]
