"""The stages run in the order the architecture names them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from briefing.config import BuildConfig, Variant
from briefing.log import PROGRESS_LOGGER
from briefing.pipeline import STAGES, build

from .conftest import ContentTree


@pytest.mark.slow
def test_stage_order(content_tree: ContentTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    monkeypatch.setattr(PROGRESS_LOGGER, "handlers", [handler])
    config = BuildConfig(content_dir=content_tree(), output_dir=tmp_path / "out", variants=(Variant.PDF,),
                         cache_dir=tmp_path / "cache")
    level = PROGRESS_LOGGER.level
    PROGRESS_LOGGER.setLevel(logging.INFO)  # setLevel, not an attribute: it clears the logging cache
    try:
        build(config)
    finally:
        PROGRESS_LOGGER.setLevel(level)
    ran = [record.getMessage().split("] ", 1)[1].split(" ", 1)[1] for record in records]  # "[slug pdf] 6/10 …"
    assert ran == list(STAGES)
    assert STAGES == (
        "Loading content", "Validating content", "Parsing Markdown", "Resolving citations", "Drawing figures",
        "Rendering HTML", "Laying out pages", "Verifying layout", "Serialising PDF", "Writing files",
    )
