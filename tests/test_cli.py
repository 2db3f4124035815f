"""The commands of the contract: exit codes, messages on stderr, outputs kept when a build fails."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from briefing.cli import main
from briefing.log import LOGGER

from .conftest import PROJECT_DIR, ContentTree


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--variant", "poster"]) == 2
    assert "invalid choice: 'poster'" in capsys.readouterr().err


def test_missing_folder_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(tmp_path / "nope")]) == 2
    assert f"error: '{tmp_path / 'nope'}' is not a folder" in capsys.readouterr().err


def test_check_reports_content_errors_and_exits_1(content_tree: ContentTree, capsys: pytest.CaptureFixture[str]) -> None:
    folder = content_tree({"sections/one.md": "# One\n\n[@nobody]\n"})
    assert main(["check", str(folder)]) == 1
    err = capsys.readouterr().err
    assert f"{folder}/sections/one.md:3:2: error: unknown citation key 'nobody'" in err
    assert "Traceback" not in err


def test_check_passes_on_good_content(content_tree: ContentTree) -> None:
    assert main(["check", "--quiet", str(content_tree())]) == 0


@pytest.mark.slow
def test_failed_build_leaves_earlier_outputs_untouched(
    content_tree: ContentTree, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = content_tree()
    out = tmp_path / "out"
    assert main(["build", "--quiet", "--out", str(out), str(folder)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) == {"brief.pdf", "brief-print.pdf", "brief-handout.pdf", "brief.manifest.json"}
    (folder / "sections" / "one.md").write_text("# One\n\nNow citing [@missing].\n")
    assert main(["build", "--quiet", "--out", str(out), str(folder)]) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temporary files either
    err = capsys.readouterr().err
    assert "unknown citation key 'missing'" in err
    assert "0 briefings built, 1 failed" in err


@pytest.mark.slow
def test_new_briefing_builds_for_a_first_time_user(tmp_path: Path) -> None:
    target = tmp_path / "my-briefing"
    assert main(["new", str(target)]) == 0
    assert (target / "briefing.yaml").is_file()
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "build.py"), "--out", str(out), str(target)],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (out / "my-briefing.pdf").stat().st_size > 10_000
    assert "1/10 Loading content" in result.stderr
    assert f"wrote {out}/my-briefing.pdf (" in result.stderr
    assert "1 briefing built, 0 failed, in " in result.stderr


def test_new_refuses_a_folder_with_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.txt").write_text("keep me")
    assert main(["new", str(tmp_path)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err


def test_quiet_hides_progress_but_not_problems(content_tree: ContentTree, capsys: pytest.CaptureFixture[str]) -> None:
    folder = content_tree({"sections/one.md": "# One\n\n@sec-nothing\n"})
    assert main(["check", "--quiet", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "Loading content" not in err
    assert "unknown cross-reference '@sec-nothing'" in err


def test_a_message_logged_after_its_command_goes_to_the_stderr_of_its_moment(
    content_tree: ContentTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A preview or watch thread may log after the stderr its command started with was closed (a test's)."""
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    assert main(["check", str(content_tree())]) == 0
    assert "ok" in first.getvalue()
    first.close()
    later = io.StringIO()
    monkeypatch.setattr(sys, "stderr", later)
    LOGGER.info("a late message")
    assert later.getvalue() == "a late message\n"  # not "--- Logging error ---"
