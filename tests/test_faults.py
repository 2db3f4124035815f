"""Faults and attacks of the second bad-input round: each a regression test of something once reproduced."""

from __future__ import annotations

import os
import pickle
import re
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
from .helpers import briefing_yaml, check_problems, page_texts, png

EVERY_KEY = """\
    title: Every Key
    subtitle: A briefing that sets every documented key
    short-title: Every Key
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


def _set(folder: Path, generation: str) -> dict[Path, bytes]:
    return {folder / name: f"{generation}:{name}".encode() for name in ("b.pdf", "b-print.pdf", "b.manifest.json")}


def _generations(folder: Path) -> set[str]:
    return {path.read_bytes().decode().split(":")[0] for path in folder.iterdir() if not path.name.startswith(".")}


@pytest.mark.parametrize("failing", [1, 2, 3])
def test_a_failed_rename_leaves_the_earlier_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: int) -> None:
    from briefing import write
    from briefing.errors import OutputError

    write.write_set(_set(tmp_path, "old"), "b")
    real_replace = os.replace
    renames = 0

    def replace(source: str | Path, target: str | Path) -> None:
        nonlocal renames
        if str(source).endswith(".tmp") and not str(target).endswith(write.JOURNAL_SUFFIX):
            renames += 1
            if renames == failing:
                raise OSError(5, "Input/output error")
        real_replace(source, target)

    monkeypatch.setattr(write.os, "replace", replace)
    with pytest.raises(OutputError, match="cannot write"):
        write.write_set(_set(tmp_path, "new"), "b")
    assert _generations(tmp_path) == {"old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b-print.pdf", "b.manifest.json", "b.pdf"]


@pytest.mark.parametrize("killed_at", [1, 2, 3])
def test_a_build_killed_between_renames_is_finished_by_the_next(tmp_path: Path, killed_at: int) -> None:
    """A kill runs no clean-up; the journal lets the next build roll the set forward."""
    from briefing import write

    write.write_set(_set(tmp_path, "old"), "b")
    child = os.fork()
    if child == 0:  # the build that is killed
        real_replace = os.replace
        renames = 0

        def replace(source: str | Path, target: str | Path) -> None:
            nonlocal renames
            if str(source).endswith(".tmp") and not str(target).endswith(write.JOURNAL_SUFFIX):
                renames += 1
                if renames == killed_at:
                    os._exit(9)
            real_replace(source, target)

        write.os.replace = replace  # type: ignore[assignment]  # only in this child, which never returns
        write.write_set(_set(tmp_path, "new"), "b")
        os._exit(0)
    os.waitpid(child, 0)
    assert any(p.name.endswith(write.JOURNAL_SUFFIX) for p in tmp_path.iterdir())
    write.recover(tmp_path)
    assert _generations(tmp_path) == {"new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b-print.pdf", "b.manifest.json", "b.pdf"]


def test_disk_full_leaves_earlier_outputs_and_exits_3(
    content_tree: ContentTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from briefing import write

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    folder = content_tree()
    out = tmp_path / "out"
    assert main(["build", str(folder), "--out", str(out), "--variant", "html"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (folder / "sections" / "one.md").write_text("# One\n\nChanged text [@ref1].\n", encoding="utf-8")

    def full(handle: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write.os, "fsync", full)
    capsys.readouterr()
    assert main(["build", str(folder), "--out", str(out), "--variant", "html"]) == 3
    err = capsys.readouterr().err
    assert "the disk is full" in err
    assert str(out / "brief.html") in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize("case", ["out-is-file", "name-is-folder", "too-long", "new-inside-a-file"])
def test_outputs_that_cannot_be_written_are_named_with_their_cause(
    content_tree: ContentTree, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    folder = content_tree()
    out = tmp_path / "out"
    if case == "out-is-file":
        out.write_text("")
        argv, code, cause = ["build", str(folder), "--out", str(out)], 3, "is a file, not a folder"
    elif case == "name-is-folder":
        (out / "brief.html").mkdir(parents=True)
        argv, code, cause = ["build", str(folder), "--out", str(out), "--variant", "html"], 3, "a folder has this name"
    elif case == "too-long":
        argv, code, cause = ["build", str(folder), "--out", str(tmp_path / ("x" * 300))], 3, "the path is too long"
    else:
        argv, code, cause = ["new", str(folder / "briefing.yaml")], 2, "is a file"
    assert main(argv) == code
    err = capsys.readouterr().err
    assert cause in err
    assert "internal error" not in err
    assert "Traceback" not in err


def test_a_killed_build_leaves_no_worker_and_no_temporary_file(tmp_path: Path) -> None:
    import signal
    import sys
    import time

    from .conftest import US_IRAN_DIR

    out = tmp_path / "out"
    build = subprocess.Popen(
        [sys.executable, "-m", "briefing", "build", str(US_IRAN_DIR), "--out", str(out), "--no-cache", "-q"],
        cwd=tmp_path, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_children(build.pid)) < 2:  # editions being laid out
        time.sleep(0.1)
    workers = _children(build.pid)
    assert workers, "the build should lay out its editions in worker processes"
    build.send_signal(signal.SIGTERM)
    _, err = build.communicate(timeout=60)
    assert build.returncode == 143, err
    assert "Traceback" not in err
    time.sleep(0.5)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists() and _state(pid) != "Z"]
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]  # nothing half written (or no folder at all)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return "gone"


def test_a_damaged_build_record_is_ignored(
    content_tree: ContentTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The cache is a hint: a record of the wrong shape or naming other files means "build"."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.chdir(tmp_path)
    folder = content_tree()
    argv = ["build", str(folder), "--out", "out", "--variant", "html"]
    assert main(argv) == 0
    (record,) = (tmp_path / ".cache" / "builds").iterdir()
    good = record.read_text()
    for damaged in ("[1, 2]", '{"fingerprint": 3, "outputs": 7}', "{", good.replace("brief.html", "other.html")):
        record.write_text(damaged)
        (tmp_path / "out" / "brief.html").unlink()
        capsys.readouterr()
        assert main(argv) == 0
        err = capsys.readouterr().err
        assert "up to date" not in err
        assert "internal error" not in err
        assert (tmp_path / "out" / "brief.html").exists()
    assert main(argv) == 0
    assert "up to date" in capsys.readouterr().err


def test_jobs_share_the_cores_between_briefings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from briefing import cli
    from briefing.config import BuildConfig

    seen: list[int] = []

    def fake_build_one(config: BuildConfig, quiet: bool) -> cli.Outcome:
        seen.append(config.workers)
        return cli.Outcome(None, [], 1)

    monkeypatch.setattr(cli, "_build_one", fake_build_one)
    monkeypatch.setattr(cli, "worker_pool", _InlinePool)
    folders = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        folders.append(str(tmp_path / name))
    cli.main(["build", *folders, "--jobs", "2", "--out", str(tmp_path / "out")])
    assert seen == [1, 1]
    seen.clear()
    cli.main(["build", folders[0], "--jobs", "2", "--out", str(tmp_path / "out")])
    assert seen == [os.cpu_count() or 1]


class _InlinePool:
    def __init__(self, workers: int, fork: bool = False) -> None:
        pass

    def __enter__(self) -> _InlinePool:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def map(self, function, *iterables):  # type: ignore[no-untyped-def]
        return map(function, *iterables)


# -- input refused before layout, located at the line that asked for it ------------------------


def _svg_use_bomb(levels: int = 9, fan_out: int = 10) -> str:
    groups = "".join(
        f'<g id="l{level}">' + f'<use href="#l{level - 1}"/>' * fan_out + "</g>" for level in range(1, levels + 1)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><defs><rect id="l0" width="1" height="1"/>'
        f'{groups}</defs><use href="#l{levels}"/></svg>'
    )


def _with_images(content_tree: ContentTree, files: dict[str, str | bytes], markdown: str) -> Path:
    folder = content_tree({"sections/one.md": f"# One {{#sec-one}}\n\nText citing [@ref1].\n\n{markdown}\n"})
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return folder


def test_an_svg_that_expands_past_the_limit_is_refused(
    content_tree: ContentTree, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _with_images(content_tree, {"images/bomb.svg": _svg_use_bomb()}, "![A bomb](images/bomb.svg)")
    code, lines = check_problems(folder, capsys)
    assert code == 1
    assert lines == [
        f"{folder / 'sections/one.md'}:5:1: error: image 'images/bomb.svg' expands to more than 20,000 elements "
        "once its <use> references are followed; the limit is 20,000"
    ]


def test_a_raster_inside_an_svg_has_the_same_pixel_limit(
    content_tree: ContentTree, capsys: pytest.CaptureFixture[str]
) -> None:
    import base64

    wrapper = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="big.png"/></svg>'
    inline = base64.b64encode(png(12000, 12000)).decode()
    embedded = f'<svg xmlns="http://www.w3.org/2000/svg"><image href="data:image/png;base64,{inline}"/></svg>'
    folder = _with_images(
        content_tree,
        {"images/big.png": png(12000, 12000), "images/wrap.svg": wrapper, "images/embedded.svg": embedded},
        "![Wrapped](images/wrap.svg)\n\n![Embedded](images/embedded.svg)",
    )
    code, lines = check_problems(folder, capsys)
    assert code == 1
    assert [line.split(": error: ")[1] for line in lines] == [
        "image 'images/wrap.svg' (through images/big.png) is 12000 x 12000 pixels; the limit is 40,000,000 pixels",
        "image 'images/embedded.svg' (through images/embedded.svg): an embedded image is 12000 x 12000 pixels; "
        "the limit is 40,000,000 pixels",
    ]


def test_svgs_that_include_each_other_are_a_located_error(
    content_tree: ContentTree, capsys: pytest.CaptureFixture[str]
) -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="{}" width="5" height="5"/></svg>'
    folder = _with_images(
        content_tree, {"images/a.svg": svg.format("b.svg"), "images/b.svg": svg.format("a.svg")}, "![A](images/a.svg)"
    )
    code, lines = check_problems(folder, capsys)
    assert code == 1
    assert lines == [
        f"{folder / 'sections/one.md'}:5:1: error: image 'images/a.svg' (through images/b.svg -> images/a.svg): "
        "SVG images that include each other form a cycle"
    ]


def test_briefing_yaml_linking_out_of_the_folder_is_refused(
    content_tree: ContentTree, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "secret.yaml"
    outside.write_text("title: Outside\napi_key: 1234\n", encoding="utf-8")
    folder = content_tree({"briefing.yaml": None})
    (folder / "briefing.yaml").symlink_to(outside)
    code, lines = check_problems(folder, capsys)
    assert code == 1
    assert lines == [f"{folder / 'briefing.yaml'}: error: 'briefing.yaml' is a link to a file outside the briefing folder"]
    assert "api_key" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("yaml_value", "column", "name"),
    [('"A \\e title"', 8, "U+001B"), ('"A \\ud800 title"', 8, "U+D800"), ('"bell \\a"', 11, "U+0007"),
     ('"next \\N line"', 11, "U+0085"), ('"nul \\0"', 10, "U+0000")],
)
def test_control_characters_and_surrogates_in_yaml_are_located(
    content_tree: ContentTree, capsys: pytest.CaptureFixture[str], yaml_value: str, column: int, name: str
) -> None:
    folder = content_tree({"briefing.yaml": briefing_yaml(title=yaml_value, classification=None, timeline=None)})
    code, lines = check_problems(folder, capsys)
    assert code == 1
    assert len(lines) == 1
    assert lines[0].startswith(f"{folder / 'briefing.yaml'}:1:")
    assert f"error: {name} is a" in lines[0]


NESTED_TEN_DEEP = "".join("  " * depth + f"- level {depth}\n" for depth in range(10))
TWO_HUNDRED_COLUMNS = "|" + "|".join(f"c{i}" for i in range(200)) + "|\n|" + "---|" * 200 + "\n|" + "x|" * 200 + "\n"
LONG_TITLE = " ".join(["Extraordinarily"] * 24)

REFUSED_BEFORE_LAYOUT = [
    pytest.param(
        {"sections/one.md": "# One\n\nAn escape \x1b and a bell \x07 [@ref1].\n"},
        ["sections/one.md:3:11: error: U+001B is a control character, not text; remove it",
         "sections/one.md:3:24: error: U+0007 is a control character, not text; remove it"],
        id="control-characters-in-markdown",
    ),
    pytest.param(
        {"sections/one.md": "# One\n\nA claim[^missing] and [^used] [@ref1].\n\n[^used]: Used.\n\n[^spare]: Never called.\n"},
        ["sections/one.md:3:8: error: footnote '[^missing]' has no definition (add a line '[^missing]: text' below the "
         "paragraph)",
         "sections/one.md:7:1: warning: footnote '[^spare]' is defined but never used"],
        id="footnotes-undefined-and-unused",
    ),
    pytest.param(
        {"sections/one.md": f"# One\n\nText [@ref1].\n\n{NESTED_TEN_DEEP}\n{TWO_HUNDRED_COLUMNS}"},
        ["sections/one.md:13:1: error: lists and block quotes nested 9 deep; at most 8 levels fit on a page",
         "sections/one.md:16:1: error: a table of 200 columns; at most 16 fit across a page (split it, or turn it round: "
         "rows for columns)"],
        id="deep-nesting-and-wide-tables",
    ),
    pytest.param(
        {"sections/one.md": "# One\n\nA sign \u6f22 here [@ref1].\n"},
        ["sections/one.md:3:8: error: '\u6f22' (U+6F22) is in none of the embedded fonts (Noto Serif, Sans, Naskh Arabic, "
         "Hebrew, Devanagari, Bengali, Tamil, Thai, Georgian, Armenian, Ethiopic, Symbols, Symbols 2 and Math); it would "
         "print as an empty box: put a font that draws it (such as Noto Sans CJK SC (or TC, JP, KR)) in a theme's font "
         "folder and name its family under 'fallback:' (README, \"Themes\")"],
        id="characters-no-font-draws",
    ),
    pytest.param(
        {"briefing.yaml": briefing_yaml(title=LONG_TITLE, classification=None, timeline=None)},
        [f"briefing.yaml:1:8: error: the title has {len(LONG_TITLE)} characters; at most 200 fit on the cover "
         "(move the rest to the subtitle or the summary)"],
        id="title-too-long-for-the-cover",
    ),
]
"""Content ``briefing check`` refuses without laying anything out: the files, then the lines (paths relative)."""


@pytest.mark.parametrize(("files", "expected"), REFUSED_BEFORE_LAYOUT)
def test_check_locates_what_it_refuses_before_layout(
    content_tree: ContentTree, capsys: pytest.CaptureFixture[str], files: dict[str, str], expected: list[str]
) -> None:
    folder = content_tree(files)
    code, lines = check_problems(folder, capsys)
    assert code == 1
    assert lines == [f"{folder}/{line}" for line in expected]


def test_eight_levels_of_lists_are_all_printed(content_tree: ContentTree, tmp_path: Path) -> None:
    from briefing.config import BuildConfig, Variant
    from briefing.pipeline import build

    nested = "".join("  " * depth + f"- level{depth}\n" for depth in range(8))
    folder = content_tree({"sections/one.md": f"# One\n\nText [@ref1].\n\n{nested}"})
    result = build(BuildConfig(folder, tmp_path / "out", (Variant.HTML,), cache_dir=tmp_path / "cache", epoch=0))
    html = result.outputs[0].path.read_text(encoding="utf-8")
    assert all(f"level{depth}" in html for depth in range(8))


@pytest.mark.slow
def test_the_layout_check_catches_a_cover_that_overflows(
    content_tree: ContentTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Past the length check (a narrower paper, longer words), the laid-out cover is measured."""
    from briefing import validate

    monkeypatch.setattr(validate, "MAX_TITLE_CHARS", 10_000)
    title = " ".join(["Extraordinarily"] * 40)
    folder = content_tree({"briefing.yaml": f"""\
        title: {title}
        date: "2025-06-01"
        sections: [sections/one.md]
        references: refs.yaml
        """})
    capsys.readouterr()
    assert main(["build", str(folder), "--out", str(tmp_path / "out"), "--variant", "pdf"]) == 1
    err = capsys.readouterr().err
    assert f"{folder / 'briefing.yaml'}:1:8: error: the date and authors no longer fit on the cover" in err
    assert not (tmp_path / "out" / "brief.pdf").exists()


@pytest.mark.slow
def test_up_to_date_sees_hidden_folders_and_ignores_outputs_inside_the_folder(
    content_tree: ContentTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Outside git, with --out inside the briefing: the second build is a no-op; an edit in .drafts/ is not."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.chdir(tmp_path)
    folder = content_tree({"briefing.yaml": briefing_yaml(sections="[.drafts/one.md]", classification=None, timeline=None),
                           "sections/one.md": None, ".drafts/one.md": "# One\n\nText citing [@ref1].\n"})
    argv = ["build", str(folder), "--out", str(folder / "output"), "--variant", "html"]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(argv) == 0
    assert "up to date" in capsys.readouterr().err
    draft = folder / ".drafts" / "one.md"
    draft.write_text("# One\n\nChanged text citing [@ref1].\n", encoding="utf-8")
    os.utime(draft, (draft.stat().st_mtime + 5, draft.stat().st_mtime + 5))
    assert main(argv) == 0
    assert "up to date" not in capsys.readouterr().err
    assert "Changed text" in (folder / "output" / "brief.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("key", "ours"),
    [("bibliography", "references"), ("csl", "citation-style"), ("lang", "language"), ("papersize", "paper"),
     ("abstract", "summary")],
)
def test_pandoc_and_quarto_keys_are_named_ours(
    content_tree: ContentTree, capsys: pytest.CaptureFixture[str], key: str, ours: str
) -> None:
    folder = content_tree({"briefing.yaml": briefing_yaml(classification=None, timeline=None, **{key: "x"})})
    code, lines = check_problems(folder, capsys)
    assert code == 1
    assert lines == [f"{folder / 'briefing.yaml'}:5:1: error: unknown key '{key}' in briefing.yaml "
                     f"(Pandoc and Quarto's '{key}' is '{ours}' here)"]


def test_hebrew_arrows_check_marks_and_warning_signs_are_drawn(content_tree: ContentTree, tmp_path: Path) -> None:
    from briefing.config import BuildConfig, Variant
    from briefing.pipeline import build

    from .helpers import embedded_fonts, page_texts

    text = "Talks \u2192 progress \u2713, risk \u26a0, in Hebrew \u05e9\u05dc\u05d5\u05dd, and \u2211 of costs"
    folder = content_tree({"sections/one.md": f"# One\n\n{text} [@ref1].\n"})
    result = build(BuildConfig(folder, tmp_path / "out", (Variant.PDF,), cache_dir=tmp_path / "cache", epoch=0))
    pdf = result.outputs[0].path
    extracted = "\n".join(page_texts(pdf))
    for char in "\u2192\u2713\u26a0\u2211":
        assert char in extracted
    fonts = " ".join(embedded_fonts(pdf))
    for family in ("Symbols", "Hebrew", "Math"):
        assert family in fonts


def test_a_read_only_output_folder_is_named_with_its_cause(
    content_tree: ContentTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As root nothing is read-only to us, so the refusal the file system would give is injected."""
    from briefing import write

    def refused(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(write.tempfile, "mkstemp", refused)
    folder = content_tree()
    out = tmp_path / "out"
    assert main(["build", str(folder), "--out", str(out), "--variant", "html"]) == 3
    err = capsys.readouterr().err
    assert f"cannot write '{out / 'brief.html'}': permission denied" in err
    assert "Traceback" not in err


def test_a_content_tree_gives_its_briefings_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """briefings.yaml at the root of the tree: its values fill what a briefing leaves out; the briefing's win."""
    from .conftest import MINIMAL_FILES

    tree = tmp_path / "tree"
    folder = tree / "content" / "alpha"
    for name, text in MINIMAL_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    (tree / "content" / "briefings.yaml").write_text(
        "organization: Tree Desk\nclassification: TREE MARKING\nlanguage: fr\npaper: letter\n", encoding="utf-8"
    )
    with (folder / "briefing.yaml").open("a", encoding="utf-8") as config:
        config.write("paper: a4\n")  # the briefing's own value wins
    monkeypatch.chdir(tree)
    capsys.readouterr()
    assert main(["check", "--explain", "content/alpha"]) == 0
    out = capsys.readouterr().out
    assert "organization: Tree Desk  [content/briefings.yaml:1:15]" in out
    assert "paper: a4  [content/alpha/briefing.yaml:" in out
    assert "language: fr  [content/briefings.yaml:3:11]" in out
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert main(["build", "content/alpha", "--out", "out", "--variant", "html"]) == 0
    html = (tree / "out" / "alpha.html").read_text(encoding="utf-8")
    assert "Tree Desk" in html
    assert "TREE MARKING" not in html  # the briefing gives its own marking
    assert 'lang="fr"' in html
    manifest = (tree / "out" / "alpha.manifest.json").read_text(encoding="utf-8")
    assert "../briefings.yaml" in manifest
    (tree / "content" / "briefings.yaml").write_text("organization: Other Desk\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["build", "content/alpha", "--out", "out", "--variant", "html"]) == 0
    assert "up to date" not in capsys.readouterr().err  # the defaults are an input
    assert "Other Desk" in (tree / "out" / "alpha.html").read_text(encoding="utf-8")


GERMAN_TABLE = ("| Behörde | Zuständigkeit | Rechtsgrundlage | Quelle | Stand | Anmerkung |\n|---|---|---|---|---|---|\n"
                "| Donaudampfschifffahrtsgesellschaft | Schifffahrtsverwaltungszuständigkeitsbereich | "
                "Seeaufgabengesetzänderungsverordnung | https://www.example.org/a/long/path/rechtsgrundlage.html | 2026 | "
                "Kapitänsmützenverordnungsentwurf |\n")


def test_a_table_of_long_words_fits_and_one_that_cannot_is_one_located_error(
    content_tree: ContentTree, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Compounds in narrow columns break at their hyphenation points; what still cannot fit is one error at
    the table's first line, not one per cell located wherever the same word is written first."""
    yaml = briefing_yaml(classification=None) + "language: de\n"
    folder = content_tree({"briefing.yaml": yaml, "sections/one.md": f"# Eins\n\nText [@ref1].\n\n{GERMAN_TABLE}"})
    out = tmp_path / "out"
    assert main(["build", "--quiet", "--variant", "pdf", "--out", str(out), str(folder)]) == 0, capsys.readouterr().err
    text = " ".join(" ".join(page_texts(out / f"{folder.name}.pdf")).split())
    assert "Donaudampf" in text  # broken in its column at a hyphenation point, the table inside the page
    assert "Kapitänsmützenverord" in text
    digits = "| " + " | ".join(["12345678901234567"] * 16) + " |\n"
    impossible = "|" + "|".join(f"c{i}" for i in range(16)) + "|\n|" + "---|" * 16 + "\n" + digits
    (folder / "sections" / "one.md").write_text(f"# Eins\n\nText [@ref1].\n\n{impossible}", encoding="utf-8")
    capsys.readouterr()
    assert main(["build", "--variant", "pdf", "--out", str(out), str(folder)]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if re.search(r":\d+:\d+: error: ", line)]
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{folder / 'sections' / 'one.md'}:5:")
    assert "a table runs" in errors[0]
    assert "wider than the text area (its first cell: 'c0')" in errors[0]
