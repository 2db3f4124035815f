"""Watching a briefing: one save is one change, outputs and caches are never inputs, folders come and go."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from briefing.cli import main
from briefing.config import BuildConfig
from briefing.watch import ChangeFeed, WatchedPaths

from .conftest import ContentTree

SETTLE = 0.5
"""Seconds in which a second batch of events from the same save would have arrived (they come within ms)."""


@pytest.fixture
def folder(content_tree: ContentTree) -> Path:
    return content_tree()


def _paths(folder: Path, tmp_path: Path) -> WatchedPaths:
    templates = tmp_path / "templates"
    templates.mkdir(exist_ok=True)
    config = BuildConfig(folder, output_dir=folder / "output", cache_dir=folder / ".cache", templates_dir=templates)
    return WatchedPaths.of(config)


@pytest.fixture
def feed(folder: Path, tmp_path: Path) -> Iterator[ChangeFeed]:
    with ChangeFeed(_paths(folder, tmp_path)) as started:
        time.sleep(0.2)  # the watch is set up in its thread; nothing is asserted about this time
        yield started


def test_outputs_caches_and_temporary_files_are_not_inputs(folder: Path, tmp_path: Path) -> None:
    paths = _paths(folder, tmp_path)
    assert paths.is_input(folder.resolve() / "sections" / "one.md")
    assert paths.is_input(folder.resolve() / ".drafts" / "two.md")  # hidden folders can hold content
    for written in ("output/brief.pdf", ".cache/figures/a.svg", "sections/.git/index", "sections/one.md.tmp",
                    "sections/.one.md.swp", "sections/one.md~"):
        assert not paths.is_input(folder.resolve() / written), written
    assert not paths.is_input(tmp_path.resolve() / "elsewhere.md")


def test_a_shared_theme_beside_briefings_yaml_is_an_input(folder: Path, tmp_path: Path) -> None:
    """A theme may live in the tree a ``briefings.yaml`` shares: saving its logo rebuilds the briefing."""
    tree = tmp_path / "tree"
    shutil.move(folder, tree / "brief")
    (tree / "briefings.yaml").write_text("theme: house\n", encoding="utf-8")
    paths = _paths(tree / "brief", tmp_path)
    assert paths.is_input(tree.resolve() / "house" / "logo.svg")
    assert paths.is_input(tree.resolve() / "briefings.yaml")
    assert not paths.is_input(tree.resolve() / "brief" / "output" / "brief.pdf")


def test_one_save_is_one_change_and_outputs_are_never_one(feed: ChangeFeed, folder: Path) -> None:
    output = folder / "output"
    output.mkdir()
    (output / "brief.pdf").write_bytes(b"%PDF")
    (folder / ".cache").mkdir()
    (folder / ".cache" / "fingerprint").write_text("x")
    section = folder / "sections" / "one.md"
    temporary = section.with_name("one.md.tmp")  # an editor's save: write aside, then rename over
    temporary.write_text("# One\n\nSaved [@ref1].\n")
    temporary.replace(section)
    assert feed.next_change(timeout=30) == {section.resolve()}
    assert feed.next_change(timeout=SETTLE) is None
    (output / "brief.html").write_text("written by a build")
    assert feed.next_change(timeout=SETTLE) is None


def test_folders_appearing_and_vanishing_are_survived(feed: ChangeFeed, folder: Path) -> None:
    added = folder / "images" / "maps" / "a.png"
    added.parent.mkdir(parents=True)
    added.write_bytes(b"png")
    images = (folder / "images").resolve()
    # The new folder, or the file too when inotify saw the folder in time: either way, a rebuild.
    assert all(path == images or images in path.parents for path in _wait(feed))
    added.write_bytes(b"png, edited")  # the new folder is watched now
    assert _wait(feed) == {added.resolve()}
    shutil.rmtree(folder / "images")
    assert (folder / "images").resolve() in _wait(feed)
    moved = folder.with_name("moved-away")
    folder.rename(moved)
    assert folder.resolve() in _wait(feed)
    moved.rename(folder)
    assert folder.resolve() in _wait(feed)  # it came back: a change, and watched again
    time.sleep(0.2)
    section = folder / "sections" / "one.md"
    section.write_text("# One\n\nBack [@ref1].\n")
    assert section.resolve() in _wait(feed)


def _wait(feed: ChangeFeed) -> set[Path]:
    """Changes until the next quiet moment (a deletion may come in two batches: the files, then the folder)."""
    changed = feed.next_change(timeout=30)
    assert changed is not None, "no change seen"
    while (more := feed.next_change(timeout=SETTLE)) is not None:
        changed |= more
    return changed


@pytest.mark.slow
def test_watch_with_the_output_inside_the_folder_rebuilds_once_per_save(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``cd b && briefing watch .``: its own outputs land in ./output and must not start another build."""
    monkeypatch.chdir(folder)
    codes: list[int] = []
    watcher = threading.Thread(target=lambda: codes.append(main(["watch", "--variant", "html", "--max-builds", "2", "."])))
    watcher.start()
    html = folder / "output" / "brief.html"
    deadline = time.monotonic() + 120
    while not html.exists():
        assert time.monotonic() < deadline, "no first build"
        assert watcher.is_alive(), "the watch ended"
        time.sleep(0.05)
    time.sleep(SETTLE)  # had the first build's own writes counted as a save, the second build would run now
    (folder / "sections" / "one.md").write_text("# One\n\nThe second build [@ref1].\n")
    watcher.join(timeout=120)
    assert codes == [0]
    assert "The second build" in html.read_text(encoding="utf-8")
    err = capsys.readouterr().err
    assert err.count("rebuilt in") == 2
    assert "changed: one.md" in err
