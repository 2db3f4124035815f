"""Fixtures: tiny briefing trees written to tmp_path, and whole builds shared per session."""

from __future__ import annotations

import fcntl
import os
import pickle
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from briefing.cli import STARTER_DIR
from briefing.config import BuildConfig, Variant
from briefing.pipeline import BuildResult, build

from .helpers import briefing_yaml, close_plumbed

PROJECT_DIR = Path(__file__).resolve().parent.parent
US_IRAN_DIR = PROJECT_DIR / "content" / "us-iran-relations"

MINIMAL_FILES = {
    "briefing.yaml": briefing_yaml(),
    "sections/one.md": """\
        # One {#sec-one}

        Text citing [@ref1].
        """,
    "refs.yaml": """\
        - id: ref1
          type: book
          title: A Book
          author: [{family: Doe, given: Jane}]
          issued: {date-parts: [[2001]]}
        """,
    "timeline.yaml": """\
        events:
          - id: start
            date: "2001-02-03"
            title: Start
            sources: [ref1]
        """,
}


ContentTree = Callable[..., Path]


@pytest.fixture(scope="session", autouse=True)
def _shared_pdfs_closed() -> Iterator[None]:
    """The PDFs ``helpers.plumber`` keeps open for the whole run, closed at its end."""
    yield
    close_plumbed()


@pytest.fixture
def content_tree(tmp_path: Path) -> ContentTree:
    """Write a briefing folder: the minimal files, overridden or removed (value None) by ``files``."""

    def make(files: dict[str, str | None] | None = None, name: str = "brief") -> Path:
        folder = tmp_path / name
        merged = {**MINIMAL_FILES, **(files or {})}
        for relative, text in merged.items():
            if text is None:
                continue
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return folder

    return make


def build_once(
    tmp_path_factory: pytest.TempPathFactory, content: Path, variants: tuple[Variant, ...], name: str | None = None
) -> BuildResult:
    """Build a fixture briefing once for the whole run, shared by every xdist worker.

    The first worker to ask builds under a lock in the run's shared temporary folder; the others
    wait for it and read the same files (a build record says which outputs it wrote). ``name``
    tells apart briefings written by tests into folders of the same name (default: the folder's).
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # this run's, common to every worker
    name = f"{name or content.name}-{'-'.join(v.value for v in variants)}"
    folder = shared / "builds" / name
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / "result.pickle"
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if record.exists():
            result: BuildResult = pickle.loads(record.read_bytes())
            return result
        # one cache for every fixture build: a figure drawn for one edition is reused by the others
        config = BuildConfig(content_dir=content, output_dir=folder / "out", variants=variants,
                             cache_dir=shared / "builds" / "cache")
        result = build(config)
        record.write_bytes(pickle.dumps(result))
        return result


@pytest.fixture(scope="session")
def starter_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The starter briefing of ``briefing new``, built once for every test that reads its PDF."""
    return build_once(tmp_path_factory, STARTER_DIR, (Variant.PDF, Variant.HTML))


@pytest.fixture(scope="session")
def us_iran_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The long briefing's digital edition and handout, from one build (content read, figures drawn once)."""
    return build_once(tmp_path_factory, US_IRAN_DIR, (Variant.PDF, Variant.HANDOUT))
