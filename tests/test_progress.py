"""Progress as a user sees it: one live line per briefing on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import logging
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from briefing.progress import LiveProgress, stage_record

from .conftest import ContentTree

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _record(label: str, number: int, name: str) -> logging.LogRecord:
    return logging.LogRecord("briefing.progress", logging.INFO, __file__, 1, "[%s] %d/%d %s", (label, number, 10, name), None)


def test_a_stage_record_names_the_briefing_and_its_edition() -> None:
    assert stage_record(_record("my brief print", 7, "Laying out pages")) == {
        "briefing": "my brief", "edition": "print", "stage": 7, "total": 10, "name": "Laying out pages",
    }
    assert stage_record(_record("brief", 2, "Validating content"))["edition"] == ""  # type: ignore[index]


def test_the_live_line_shows_every_edition_of_a_briefing_on_one_line() -> None:
    progress = LiveProgress(io.StringIO())
    for label, number, name in [("b", 5, "Drawing figures"), ("b pdf", 7, "Laying out pages"), ("b print", 9, "Serialising PDF")]:
        fields = stage_record(_record(label, number, name))
        assert fields is not None
        progress.update(fields)
    out = io.StringIO()
    Console(file=out, width=100).print(progress)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert re.search(r"b +Laying out pages +pdf 7/10 +print 9/10 +\d+\.\d s", lines[0]), lines[0]


def _run_on_a_terminal(arguments: list[str], cwd: Path) -> tuple[int, str]:
    leader, follower = pty.openpty()
    environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    environment.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "briefing", *arguments], stdin=follower, stdout=follower, stderr=follower,
        cwd=cwd, env=environment,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed with the last process holding it
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return process.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def test_a_build_on_a_terminal_draws_one_live_line_per_briefing(content_tree: ContentTree, tmp_path: Path) -> None:
    first = content_tree(name="alpha")
    second = content_tree(name="beta")
    code, screen = _run_on_a_terminal(
        ["build", "--variant", "html", "--jobs", "2", "--out", str(tmp_path / "out"), str(first), str(second)], tmp_path,
    )
    assert code == 0, screen
    text = ANSI.sub("", screen)
    # the live lines, redrawn in place (carriage returns), from both worker processes
    assert re.search(r"alpha +Loading content|alpha +\S+ \S+", text), text
    assert "beta" in text
    assert "Rendering HTML" in text
    # and never the plain log lines a pipe gets
    assert "[alpha] 1/10" not in text
    assert "[beta html] 6/10" not in text
    assert "2 briefings built, 0 failed" in text


def test_a_build_into_a_pipe_prints_each_stage_once(content_tree: ContentTree, tmp_path: Path) -> None:
    folder = content_tree()
    result = subprocess.run(
        [sys.executable, "-m", "briefing", "build", "--variant", "html", "--out", str(tmp_path / "out"), str(folder)],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )
    assert result.returncode == 0, result.stderr
    stage_lines = [line for line in result.stderr.splitlines() if re.match(r"\[brief( html)?\] \d+/10 ", line)]
    assert len(stage_lines) == len(set(stage_lines)) == 7, stage_lines  # the web edition is not laid out: no 7-9
    assert "\x1b[" not in result.stderr
