"""Faults and attacks of the second bad-input round: each a regression test of something once reproduced."""

from __future__ import annotations

import os
import pickle
import stat
import subprocess
import textwrap
from pathlib import Path

import pytest

from briefing.cli import main
from briefing.config import resolve_epoch
from briefing.errors import SourceLocation
from briefing.load import LocatedDict, LocatedList, LocatedStr

from .conftest import ContentTree

EVERY_KEY = """\
    title: Every Key
    subtitle: A briefing that sets every documented key
    date: "2025-06-01"
    version: "1.10"
    authors:
      - name: Analyst Name
        affiliation: Research Desk
      - Second Author
    organization: Example Desk
    classification: UNCLASSIFIED // FOR PUBLIC RELEASE
    language: en
    paper: a4
    citation-style: chicago-author-date
    keywords: [water, diplomacy]
    nocite: [ref2]
    summary: |
      - Demand will outgrow supply [@ref1].
    sections: [sections/one.md]
    timeline: timeline.yaml
    references: refs.yaml
    """

EVERY_KEY_REFS = """\
    - id: ref1
      type: book
      title: A Book
      author: [{family: Doe, given: Jane}]
      issued: {date-parts: [[2001]]}
    - id: ref2
      type: book
      title: Another Book
      author: [{family: Roe, given: Rick}]
      issued: {date-parts: [[2002]]}
    """


def test_located_values_survive_pickling() -> None:
    """Editions are laid out in worker processes: every located type crosses a process boundary."""
    location = SourceLocation(Path("briefing.yaml"), 3, 7)
    text = LocatedStr("water", location)
    mapping = LocatedDict({text: LocatedStr("value", location)})
    mapping.location = location
    items = LocatedList([text])
    items.location = location
    for value in (text, mapping, items):
        copy = pickle.loads(pickle.dumps(value))
        assert copy == value
        assert copy.location == location
    assert type(pickle.loads(pickle.dumps(text))) is LocatedStr


@pytest.mark.slow
def test_every_documented_key_builds_every_edition(
    content_tree: ContentTree, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    folder = content_tree({"briefing.yaml": EVERY_KEY, "refs.yaml": EVERY_KEY_REFS})
    out = tmp_path / "out"
    code = main(["build", str(folder), "--out", str(out), "--variant", "all"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "internal error" not in captured.err
    names = sorted(path.name for path in out.iterdir())
    assert names == sorted(
        f"brief{suffix}" for suffix in
        (".pdf", "-print.pdf", "-handout.pdf", "-booklet.pdf", ".html", ".manifest.json")
    )


def _git(folder: Path, *args: str) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    environment.update(GIT_AUTHOR_NAME="a", GIT_AUTHOR_EMAIL="a@example.org",
                       GIT_COMMITTER_NAME="a", GIT_COMMITTER_EMAIL="a@example.org")
    result = subprocess.run(["git", *args], cwd=folder, env=environment, capture_output=True, text=True, check=True)
    return result.stdout.strip()


def _armed_repository(folder: Path, marker_dir: Path) -> None:
    """A briefing folder that is its own repository, configured to start ``x.sh`` every way git can."""
    _git(folder, "init", "-q")
    _git(folder, "add", "-A")
    _git(folder, "commit", "-q", "-m", "content")
    tree = _git(folder, "rev-parse", "HEAD^{tree}")
    # A commit carrying a signature, so that showing signatures calls the "gpg" program.
    signed = textwrap.dedent(f"""\
        tree {tree}
        author a <a@example.org> 1700000000 +0000
        committer a <a@example.org> 1700000000 +0000
        gpgsig -----BEGIN PGP SIGNATURE-----
        {" "}
         iQEzBAABCAAdFiEE
         =abcd
         -----END PGP SIGNATURE-----

        signed
        """)
    (folder / ".git" / "commit.txt").write_text(signed, encoding="utf-8")
    commit = _git(folder, "hash-object", "-t", "commit", "-w", ".git/commit.txt")
    _git(folder, "update-ref", "HEAD", commit)
    script = folder / ".git" / "x.sh"
    script.write_text(f'#!/bin/sh\ntouch "{marker_dir}/ran-$$"\ncat >/dev/null 2>&1 </dev/null\nexit 0\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    hooks = folder / ".git" / "evil-hooks"
    hooks.mkdir()
    for hook in ("post-checkout", "pre-commit", "reference-transaction", "post-index-change"):
        (hooks / hook).symlink_to(script)
    (folder / ".gitattributes").write_text("* diff=evil\n", encoding="utf-8")
    settings = {
        "log.showSignature": "true", "gpg.program": str(script),
        "core.fsmonitor": str(script), "core.hooksPath": str(hooks), "core.pager": str(script),
        "pager.log": str(script), "diff.external": str(script), "diff.evil.textconv": str(script),
        "log.follow": "true",
    }
    for key, value in settings.items():
        _git(folder, "config", key, value)


def test_a_content_repository_cannot_start_a_program(
    content_tree: ContentTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    folder = content_tree()
    _armed_repository(folder, markers)
    # The repository is armed: plain git runs the script while showing the log.
    subprocess.run(["git", "log", "-1", "--format=%ct", "--", "."], cwd=folder, capture_output=True, check=False)
    assert list(markers.iterdir()), "the test repository should trip plain git"
    for marker in markers.iterdir():
        marker.unlink()

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert resolve_epoch(folder) == 1700000000  # the commit's date still counts
    assert code_of(["check", str(folder)]) == 0
    assert code_of(["build", str(folder), "--out", str(tmp_path / "out"), "--variant", "html"]) == 0
    assert not list(markers.iterdir()), "a program configured by the content's repository ran"


def code_of(argv: list[str]) -> int:
    return main(argv)


def test_without_git_history_the_newest_input_dates_the_build(
    content_tree: ContentTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside a repository the clock never enters: the same files give the same date."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    folder = content_tree()
    for path in folder.rglob("*"):
        os.utime(path, (1_600_000_000, 1_600_000_000))
    (folder / "sections" / "one.md").touch()
    os.utime(folder / "refs.yaml", (1_650_000_000, 1_650_000_000))
    os.utime(folder / "sections" / "one.md", (1_600_000_000, 1_600_000_000))
    output = folder / "output"  # outputs inside the folder are not inputs
    output.mkdir()
    (output / "brief.pdf").write_bytes(b"%PDF")
    assert resolve_epoch(folder, (output,)) == 1_650_000_000


@pytest.mark.parametrize("value", ["²", "12a", "-5", "9999999999999", "١٢٣"])
def test_a_bad_source_date_epoch_is_a_usage_error(
    content_tree: ContentTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    value: str,
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    folder = content_tree()
    assert main(["build", str(folder), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "SOURCE_DATE_EPOCH must be a whole number" in err
    assert "internal error" not in err
