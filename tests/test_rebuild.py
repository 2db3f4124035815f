"""Unchanged work is not redone: no-op rebuilds skip the engine, watch rebuilds on save and survives errors."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from briefing.cli import main

from .conftest import ContentTree

pytestmark = pytest.mark.slow

PROBE = """
import sys
from briefing.cli import main
code = main(["build", "--variant", "pdf", "--out", "out", sys.argv[1]])
heavy = [m for m in ("weasyprint", "matplotlib", "briefing.citations", "lxml", "markdown_it") if m in sys.modules]
print("imported:", ",".join(heavy))
raise SystemExit(code)
"""


def _build(folder: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE, str(folder)], cwd=cwd, capture_output=True, text=True,
                          check=False, env={"SOURCE_DATE_EPOCH": "1750000000", "PATH": "/usr/bin:/bin"})


def test_noop_rebuild_renders_nothing(content_tree: ContentTree, tmp_path: Path) -> None:
    folder = content_tree()
    first = _build(folder, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "imported: weasyprint" in first.stdout
    pdf = tmp_path / "out" / "brief.pdf"
    written = pdf.stat().st_mtime_ns
    second = _build(folder, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "brief: up to date (nothing changed since the last build)" in second.stderr
    assert second.stdout.strip() == "imported:"  # no engine, no figures, no citations, no Markdown
    assert pdf.stat().st_mtime_ns == written
    (folder / "sections" / "one.md").write_text("# One\n\nChanged text citing [@ref1].\n")
    third = _build(folder, tmp_path)
    assert "wrote out/brief.pdf" in third.stderr
    pdf.write_bytes(b"damaged")  # an output touched since: rebuilt, never trusted
    fourth = _build(folder, tmp_path)
    assert "wrote out/brief.pdf" in fourth.stderr


def test_watch_rebuilds_on_save_and_survives_bad_content(
    content_tree: ContentTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = content_tree()
    monkeypatch.chdir(tmp_path)
    section = folder / "sections" / "one.md"
    codes: list[int] = []
    watcher = threading.Thread(
        target=lambda: codes.append(
            main(["watch", "--out", "out", "--interval", "0.05", "--max-builds", "3", str(folder)])
        )
    )
    watcher.start()
    pdf = tmp_path / "out" / "brief.pdf"
    _wait_for(lambda: pdf.exists())
    first = pdf.read_bytes()
    time.sleep(0.05)
    section.write_text("# One\n\nBroken [@nobody].\n")
    _wait_for(lambda: "waiting for the next save" in capsys.readouterr().err)
    section.write_text("# One\n\nFixed, citing [@ref1] again.\n")
    watcher.join(timeout=120)
    assert codes == [0]
    assert pdf.read_bytes() != first


def _wait_for(condition: object, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
