"""Bad input end to end: exit status, the exact located line, and earlier outputs kept byte for byte.

Every case runs ``briefing build --quiet --out OUT brief`` in-process, where OUT already holds
the outputs of a successful build of a briefing of the same name. A failed build must leave
them as they were, with no temporary file beside them. Content that looks dangerous but is
only text (raw HTML, template syntax, RTL, dollar signs) must build and print as written.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pypdf import PdfReader

from briefing import figures
from briefing.cli import main
from briefing.config import DEFAULT_TEMPLATES_DIR
from briefing.render_pdf import _confined_fetcher

from .conftest import MINIMAL_FILES, PROJECT_DIR
from .helpers import page_texts, png

pytestmark = pytest.mark.slow

BRIEFING = 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\ntimeline: timeline.yaml\nreferences: refs.yaml\n'
"""A valid briefing.yaml to vary; the minimal tree's other files stay as they are."""


# -- fixtures -------------------------------------------------------------------------------


def write_tree(folder: Path, files: dict[str, str | bytes | None] | None = None) -> Path:
    """The minimal briefing, with ``files`` replacing (or, for None, removing) some of its files."""
    merged: dict[str, str | bytes | None] = {k: textwrap.dedent(v) for k, v in MINIMAL_FILES.items()}
    merged.update(files or {})
    for relative, data in merged.items():
        if data is None:
            continue
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def earlier_outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The outputs of one successful build of the minimal briefing 'brief', made once for the module."""
    work = tmp_path_factory.mktemp("earlier")
    folder = write_tree(work / "brief")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)  # the figure cache (.cache/) stays out of the project
        assert main(["build", "--quiet", "--out", str(work / "out"), str(folder)]) == 0
    return work / "out"


@dataclass
class Outcome:
    code: int
    lines: list[str]
    """Standard error, one line each."""
    before: dict[str, bytes]
    after: dict[str, bytes]
    """Every file in OUT before and after the build, by name (temporary files included)."""
    out: Path


BuildRun = Callable[..., Outcome]


@pytest.fixture
def build(
    earlier_outputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> BuildRun:
    """Run ``briefing build --quiet --out OUT brief`` from ``tmp_path``, OUT holding the earlier outputs."""
    out = tmp_path / "out"
    shutil.copytree(earlier_outputs, out)
    monkeypatch.chdir(tmp_path)  # messages then name 'brief/...', as a user in the parent folder sees them

    def run(folder: Path, *options: str) -> Outcome:
        before = _snapshot(out)
        capsys.readouterr()
        code = main(["build", "--quiet", *options, "--out", str(out), str(folder.relative_to(tmp_path))])
        err = capsys.readouterr().err
        assert "Traceback" not in err
        return Outcome(code, err.splitlines(), before, _snapshot(out), out)

    return run


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture
def tree(tmp_path: Path) -> Callable[..., Path]:
    """Write the briefing folder 'brief' under ``tmp_path``."""
    return lambda files=None: write_tree(tmp_path / "brief", files)


def assert_refused(outcome: Outcome, *expected: str) -> None:
    """Exit 1, every expected line printed as is, and OUT exactly as the earlier build left it."""
    assert outcome.code == 1, "\n".join(outcome.lines)
    for line in expected:
        assert line in outcome.lines, "\n".join(outcome.lines)
    assert outcome.lines[-1].startswith("0 briefings built, 1 failed")
    assert {"brief.pdf", "brief.manifest.json"} <= set(outcome.before)
    assert outcome.after == outcome.before  # byte for byte, and no temporary file left beside them


class Listener:
    """A TCP listener on loopback that counts connections: a confined build must make none."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(8)
        self.socket.settimeout(0.05)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> int:
        """Stop listening; return how many connections were accepted."""
        self._stop.set()
        self._thread.join(timeout=2)
        self.socket.close()
        return self.connections


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def with_image(target: str) -> dict[str, str | bytes | None]:
    """A section whose line 5 shows an image figure."""
    return {"sections/one.md": f"# One\n\nText [@ref1].\n\n![A map]({target}){{#fig-map}}\n"}


# -- content errors: one located line each, earlier outputs kept ----------------------------

CASES = [
    # YAML and the schema of briefing.yaml
    pytest.param(
        {"briefing.yaml": 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md\n'},
        "brief/briefing.yaml:4:1: error: invalid YAML: expected ',' or ']', but got '<stream end>'",
        id="broken-yaml",
    ),
    pytest.param(
        {"briefing.yaml": BRIEFING + "authors:\n\t- Jane\n"},
        "brief/briefing.yaml:7:1: error: invalid YAML: found character '\\t' that cannot start any token",
        id="tab-indentation",
    ),
    pytest.param(
        {"briefing.yaml": "- title: T\n- date: 2025-06-01\n"},
        "brief/briefing.yaml:1:1: error: briefing.yaml must be a mapping of keys such as 'title:' and 'sections:'",
        id="not-a-mapping",
    ),
    pytest.param({"briefing.yaml": "~\n"}, "brief/briefing.yaml:1:1: error: the file is empty", id="null-document"),
    pytest.param(
        {"briefing.yaml": None},
        "brief: error: no briefing.yaml in this folder ('briefing new PATH' writes a briefing to start from)",
        id="no-briefing-yaml",
    ),
    pytest.param(
        {"briefing.yaml": BRIEFING + "subtitel: Oops\n"},
        "brief/briefing.yaml:6:1: error: unknown key 'subtitel' in briefing.yaml (did you mean 'subtitle'?)",
        id="unknown-key",
    ),
    pytest.param(
        {"briefing.yaml": "title: T\nsections: [sections/one.md]\n"},
        "brief/briefing.yaml:1:1: error: briefing.yaml: missing required key 'date'",
        id="missing-key",
    ),
    pytest.param(
        {"briefing.yaml": 'title:\ndate: "2025-06-01"\nsections: [sections/one.md]\n'},
        "brief/briefing.yaml:1:1: error: briefing.yaml: 'title' has no value",
        id="required-key-without-value",
    ),
    pytest.param(
        {"briefing.yaml": BRIEFING.replace("2025-06-01", "2025-02-30")},
        "brief/briefing.yaml:2:7: error: 'date': '2025-02-30' is not a date (use YYYY-MM-DD)",
        id="bad-date",
    ),
    pytest.param(
        {"briefing.yaml": BRIEFING + "title: U\n"},
        "brief/briefing.yaml:6:1: error: duplicate key 'title' (first given at line 1)",
        id="duplicate-yaml-key",
    ),
    pytest.param(
        {"briefing.yaml": BRIEFING + "authors: &who [Jane]\norganization: *who\n"},
        "brief/briefing.yaml:6:10: error: YAML anchors and aliases are not allowed in briefing content",
        id="yaml-anchor",
    ),
    pytest.param(
        {
            "briefing.yaml": BRIEFING
            + "keywords: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
            + "".join(f"k{n}: &{chr(98 + n)} [{', '.join(['*' + chr(97 + n)] * 9)}]\n" for n in range(8))
        },
        "brief/briefing.yaml:6:11: error: YAML anchors and aliases are not allowed in briefing content",
        id="alias-bomb",
    ),
    # timeline.yaml
    pytest.param(
        {"timeline.yaml": 'events:\n  - id: oman-talks\n    date: "2025-13-01"\n    title: Talks\n'},
        "brief/timeline.yaml:3:11: error: "
        "event 'oman-talks': '2025-13-01' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)",
        id="event-date",
    ),
    pytest.param(
        {"timeline.yaml": 'events:\n  - id: war\n    date: "1988"\n    end: "1980"\n    title: War\n'},
        "brief/timeline.yaml:4:10: error: event 'war': ends (1980) before it starts (1988)",
        id="span-ends-before-it-starts",
    ),
    pytest.param(
        {"timeline.yaml": 'events:\n  - {id: a, date: "2001", title: A}\n  - {id: a, date: "2002", title: B}\n'},
        "brief/timeline.yaml:3:10: error: duplicate event id 'a' (first used at line 2)",
        id="duplicate-event-id",
    ),
    pytest.param(
        {"timeline.yaml": 'events:\n  - {id: a, date: "2001", titel: A}\n'},
        "brief/timeline.yaml:2:27: error: unknown key 'titel' in event 'a' (did you mean 'title'?)",
        id="unknown-event-key",
    ),
    pytest.param(
        {"timeline.yaml": 'categories: {war: War}\nevents:\n  - {id: a, date: "2001", title: A, category: wars}\n'},
        "brief/timeline.yaml:3:47: error: event 'a': unknown category 'wars' (did you mean 'war'?) (known: war)",
        id="unknown-category",
    ),
    pytest.param(
        {"timeline.yaml": "events:\n  -\n  - {date: '2001', title: A}\n"},
        "brief/timeline.yaml:2:3: error: an event is a mapping with at least 'date' and 'title'",
        id="empty-event",
    ),
    # Markdown: citations, cross-references, ids, fences
    pytest.param(
        {"sections/one.md": "# One\n\nSee [@refl].\n"},
        "brief/sections/one.md:3:6: error: unknown citation key 'refl' (did you mean 'ref1'?)",
        id="unknown-citation-key",
    ),
    pytest.param(
        {"sections/one.md": "# One {#sec-one}\n\nAs @sec-onw shows [@ref1].\n"},
        "brief/sections/one.md:3:4: error: unknown cross-reference '@sec-onw' (did you mean 'sec-one'?)",
        id="unknown-cross-reference",
    ),
    pytest.param(
        {"timeline.yaml": 'events:\n  - {id: a, date: "2001", title: A, sources: [ref2]}\n'},
        "brief/timeline.yaml:2:47: error: unknown citation key 'ref2' (did you mean 'ref1'?)",
        id="unknown-event-source",
    ),
    pytest.param(
        {"sections/one.md": "# One {#sec-one}\n\n## Two {#sec-one}\n\n[@ref1]\n"},
        "brief/sections/one.md:3:1: error: duplicate id 'sec-one'",
        id="duplicate-heading-id",
    ),
    pytest.param(
        {"sections/one.md": "# One\n\n::: {#fig-t .timeline}\nCaption [@ref1].\n"},
        "brief/sections/one.md:3:1: error: fenced div is never closed (add a ':::' line)",
        id="unclosed-fence",
    ),
    pytest.param(
        {"sections/one.md": '# One\n\n::: {#fig-t .timeline form="2001"}\nCaption [@ref1].\n:::\n'},
        "brief/sections/one.md:3:1: error: unknown timeline option 'form' (did you mean 'from'?)",
        id="unknown-timeline-option",
    ),
    # paths: missing, escaping, absolute, not text
    pytest.param(
        {"briefing.yaml": BRIEFING.replace("sections/one.md", "sections/two.md")},
        "brief/briefing.yaml:3:12: error: file 'sections/two.md' not found",
        id="missing-section",
    ),
    pytest.param(
        {"briefing.yaml": BRIEFING.replace("sections/one.md", "../../etc/passwd")},
        "brief/briefing.yaml:3:12: error: '../../etc/passwd' points outside the briefing folder",
        id="dotdot-escape",
    ),
    pytest.param(
        {"briefing.yaml": BRIEFING.replace("timeline.yaml\n", "/etc/passwd\n")},
        "brief/briefing.yaml:4:11: error: '/etc/passwd' is an absolute path; paths are relative to the briefing folder",
        id="absolute-path",
    ),
    pytest.param(
        {"briefing.yaml": BRIEFING.replace("refs.yaml", "'refs.yaml\\0'").replace("'", '"')},
        "brief/briefing.yaml:5:23: error: U+0000 is a control character, not text; remove it",
        id="nul-in-path",
    ),
    pytest.param(
        {"briefing.yaml": BRIEFING + "citation-style: ../styles/apa.csl\n"},
        "brief/briefing.yaml:6:17: error: '../styles/apa.csl' points outside the briefing folder",
        id="style-escape",
    ),
    pytest.param(
        {"briefing.yaml": BRIEFING + "citation-style: /usr/share/evil\n"},
        "brief/briefing.yaml:6:17: error: "
        "'citation-style' must be a style name such as 'apa' or the path of a .csl file, found '/usr/share/evil'",
        id="style-name-escape",
    ),
    pytest.param(
        {
            "briefing.yaml": BRIEFING + "citation-style: style.csl\n",
            "style.csl": '<?xml version="1.0"?>\n<!DOCTYPE style [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
            '<style xmlns="http://purl.org/net/xbiblio/csl">&x;</style>\n',
        },
        "brief/style.csl:2:1: error: a CSL style may not have a <!DOCTYPE> (no entities, no DTD)",
        id="style-external-entity",
    ),
    pytest.param(
        {"sections/one.md": b"# One\n\nCaf\xe9 [@ref1]\n"},
        "brief/sections/one.md:3:4: error: not valid UTF-8 text (save the file as UTF-8)",
        id="non-utf8",
    ),
    pytest.param(
        {"sections/one.md": png(4, 4)},
        "brief/sections/one.md:1:1: error: not valid UTF-8 text (save the file as UTF-8)",
        id="binary-as-markdown",
    ),
    # references
    pytest.param(
        {"refs.yaml": "- id: ref1\n  type: book\n  title: A Book\n  author: Jane Doe\n"},
        "brief/refs.yaml:4:11: error: reference 'ref1': 'author' must be a list of names such as "
        "{family: Doe, given: Jane} or {literal: World Bank}",
        id="csl-name-as-text",
    ),
    pytest.param(
        {"refs.yaml": "- id: ref1\n  type: book\n  title: A Book\n  issued: {date-parts: [[twenty]]}\n"},
        "brief/refs.yaml:4:11: error: reference 'ref1': 'issued' must be a date such as "
        "2001, 2001-05-01 or {date-parts: [[2001, 5, 1]]}",
        id="csl-bad-date",
    ),
    pytest.param(
        {"refs.yaml": "- id: ref1\n  title: A\n- id: ref1\n  title: B\n"},
        "brief/refs.yaml:3:7: error: duplicate reference key 'ref1' (first defined at line 1)",
        id="duplicate-reference",
    ),
    pytest.param(
        {"briefing.yaml": BRIEFING.replace("refs.yaml", "refs.json"), "refs.json": '[{"id": "ref1",}]'},
        "brief/refs.json:1:16: error: invalid CSL-JSON: Expecting property name enclosed in double quotes",
        id="broken-csl-json",
    ),
    # images
    pytest.param(
        with_image("images/nope.png"),
        "brief/sections/one.md:5:1: error: file 'images/nope.png' not found",
        id="missing-image",
    ),
    pytest.param(
        with_image("../secret.png"),
        "brief/sections/one.md:5:1: error: '../secret.png' points outside the briefing folder",
        id="image-escape",
    ),
    pytest.param(
        with_image("/etc/passwd"),
        "brief/sections/one.md:5:1: error: "
        "'/etc/passwd' is an absolute path; paths are relative to the briefing folder",
        id="image-absolute",
    ),
    pytest.param(
        with_image("//127.0.0.1:9/x.png"),
        "brief/sections/one.md:5:1: error: "
        "image '//127.0.0.1:9/x.png': only local files inside the briefing folder can be used",
        id="image-network-path",
    ),
    pytest.param(
        {**with_image("images/map.png"), "images/map.png": png(10, 10, data=b"not zlib data")},
        "brief/sections/one.md:5:1: error: "
        "image 'images/map.png' cannot be decoded: broken data stream when reading image file",
        id="image-undecodable",
    ),
    pytest.param(
        {**with_image("images/map.svg"), "images/map.svg": "<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>"},
        "brief/sections/one.md:5:1: error: image 'images/map.svg' is not a readable SVG file: "
        "Opening and ending tag mismatch: rect line 1 and svg, line 1, column 53",
        id="svg-not-xml",
    ),
    pytest.param(
        {
            **with_image("images/map.svg"),
            "images/map.svg": '<!DOCTYPE svg [<!ENTITY a "a">]>\n<svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
        },
        "brief/sections/one.md:5:1: error: "
        "image 'images/map.svg': an SVG may not have a <!DOCTYPE> (no entities, no DTD)",
        id="svg-entities",
    ),
    pytest.param(
        {
            **with_image("images/map.svg"),
            "images/map.svg": '<svg xmlns="http://www.w3.org/2000/svg"><image href="../../secret.png"/></svg>',
        },
        "brief/sections/one.md:5:1: error: image 'images/map.svg' refers to '../../secret.png'; "
        "an image may only use files inside the briefing folder",
        id="svg-escape",
    ),
    pytest.param(
        {**with_image("images/map.png"), "images/map.png": "<html>not an image</html>"},
        "brief/sections/one.md:5:1: error: image 'images/map.png' is not a readable image file",
        id="image-not-an-image",
    ),
    pytest.param(
        {**with_image("images/map.png"), "images/map.png": png(9000, 9000)},
        "brief/sections/one.md:5:1: error: "
        "image 'images/map.png' is 9000 x 9000 pixels; the limit is 40,000,000 pixels",
        id="image-too-large",
    ),
    pytest.param(
        {**with_image("images/map.png"), "images/map.png": png(30000, 30000)},
        "brief/sections/one.md:5:1: error: "
        "image 'images/map.png' has 900,000,000 pixels; the limit is 40,000,000 pixels",
        id="decompression-bomb",
    ),
]


@pytest.mark.parametrize(("files", "expected"), CASES)
def test_bad_content_is_refused_with_a_located_line(
    build: BuildRun, tree: Callable[..., Path], files: dict[str, str | bytes | None], expected: str
) -> None:
    assert_refused(build(tree(files)), expected)


def test_every_problem_is_reported_in_one_run(build: BuildRun, tree: Callable[..., Path]) -> None:
    folder = tree(
        {
            "sections/one.md": "# One\n\n[@nobody] and @sec-nowhere.\n",
            "timeline.yaml": 'events:\n  - {id: a, date: "2001", title: A, sources: [nobody2]}\n',
        }
    )
    assert_refused(
        build(folder),
        "brief/sections/one.md:3:2: error: unknown citation key 'nobody'",
        "brief/sections/one.md:3:15: error: unknown cross-reference '@sec-nowhere' (did you mean 'sec-one'?)",
        "brief/timeline.yaml:2:47: error: unknown citation key 'nobody2'",
    )


def test_messages_show_control_and_bidi_characters_escaped(build: BuildRun, tree: Callable[..., Path]) -> None:
    folder = tree(
        {
            "timeline.yaml": 'categories: {war: War}\nevents:\n  - {id: a, date: "2001", title: A, '
            'category: "w\\u202Eraw"}\n'
        }
    )
    outcome = build(folder)
    assert_refused(outcome, "brief/timeline.yaml:3:47: error: event 'a': unknown category 'w\\u202eraw' (known: war)")
    assert all(char.isprintable() for line in outcome.lines for char in line)


def test_oversized_file_is_refused(build: BuildRun, tree: Callable[..., Path]) -> None:
    folder = tree({"sections/one.md": "# One\n\n" + "word " * 1_000_000})
    assert_refused(
        build(folder), "brief/briefing.yaml:4:12: error: 'one.md' is 5,000,007 bytes; the limit is 5,000,000"
    )


def test_huge_timeline_is_bounded(build: BuildRun, tree: Callable[..., Path]) -> None:
    events = "".join(f'  - {{id: e{n}, date: "{1900 + n % 120}", title: Event {n}}}\n' for n in range(3000))
    outcome = build(tree({"timeline.yaml": "events:\n" + events}))
    assert_refused(
        outcome,
        "brief/timeline.yaml:2:3: error: "
        "the timeline has 3,000 events; the limit is 1,000 (keep the events the briefing needs)",
    )


def test_timeline_figure_with_too_many_events_is_bounded(
    build: BuildRun, tree: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse_to_draw(events: object, *args: object) -> None:
        raise AssertionError(f"drew {len(events)} events")  # type: ignore[arg-type]

    monkeypatch.setattr(figures, "make_timeline", refuse_to_draw)  # drawing 400 events takes minutes
    events = "".join(f'  - {{id: e{n}, date: "{1600 + n}", title: Event {n}}}\n' for n in range(400))
    folder = tree(
        {
            "timeline.yaml": "events:\n" + events,
            "sections/one.md": "# One\n\n[@ref1]\n\n::: {#fig-all .timeline}\nEverything.\n:::\n",
        }
    )
    assert_refused(
        build(folder),
        "brief/sections/one.md:5:1: error: figure 'fig-all' selects 400 events; the limit is 200"
        " (narrow it with from=, to= or tags=)",
    )


# -- symlinks out of the folder --------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "target", "files", "expected"),
    [
        pytest.param(
            "sections/link.md",
            "secret.md",
            {"briefing.yaml": BRIEFING.replace("one.md", "link.md")},
            "brief/briefing.yaml:3:12: error: 'sections/link.md' points outside the briefing folder",
            id="section",
        ),
        pytest.param(
            "timeline.yaml",
            "secret.yaml",
            {"timeline.yaml": None},
            "brief/briefing.yaml:6:11: error: 'timeline.yaml' points outside the briefing folder",
            id="timeline",
        ),
        pytest.param(
            "images",
            "",
            with_image("images/map.png"),
            "brief/sections/one.md:5:1: error: 'images/map.png' points outside the briefing folder",
            id="image-folder",
        ),
    ],
)
def test_symlink_out_of_the_folder_is_refused(
    build: BuildRun,
    tree: Callable[..., Path],
    tmp_path: Path,
    link: str,
    target: str,
    files: dict[str, str | None],
    expected: str,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n")
    (outside / "secret.yaml").write_text("events: []\n")
    (outside / "map.png").write_bytes(png(4, 4))
    folder = tree(files)
    (folder / link).parent.mkdir(parents=True, exist_ok=True)
    (folder / link).symlink_to(outside / target if target else outside)
    assert_refused(build(folder), expected)


def test_symlink_loop_is_refused(build: BuildRun, tree: Callable[..., Path]) -> None:
    folder = tree({"briefing.yaml": BRIEFING.replace("one.md", "loop.md")})
    (folder / "sections" / "loop.md").symlink_to("loop.md")
    assert_refused(build(folder), "brief/briefing.yaml:3:12: error: 'sections/loop.md' is a symbolic link that loops")


# -- no network: a loopback listener sees nothing --------------------------------------------


def test_remote_image_is_refused_without_a_connection(
    build: BuildRun, tree: Callable[..., Path], listener: Listener
) -> None:
    url = f"http://127.0.0.1:{listener.port}/x.png"
    folder = tree({"sections/one.md": f"# One\n\nSee [the map]({url}) [@ref1].\n\n![Map]({url})\n"})
    assert_refused(
        build(folder),
        f"brief/sections/one.md:5:1: error: image '{url}': only local files inside the briefing folder can be used",
    )
    assert listener.close() == 0


def test_svg_reaching_out_is_refused_without_a_connection(
    build: BuildRun, tree: Callable[..., Path], listener: Listener
) -> None:
    url = f"http://127.0.0.1:{listener.port}/y.png"
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="{url}"/></svg>'
    assert_refused(
        build(tree({**with_image("images/map.svg"), "images/map.svg": svg})),
        f"brief/sections/one.md:5:1: error: image 'images/map.svg' refers to '{url}'; "
        "an image may only use files inside the briefing folder",
    )
    assert listener.close() == 0


def test_link_to_loopback_is_only_a_link(tmp_path: Path, listener: Listener, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{listener.port}/x.png"
    folder = write_tree(
        tmp_path / "brief", {"sections/one.md": f"# One\n\nSee [the map]({url}) and <{url}> [@ref1].\n"}
    )
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--quiet", "--variant", "pdf", "--out", "out", str(folder)]) == 0
    links = [
        annotation.get_object().get("/A", {}).get("/URI")
        for page in PdfReader(tmp_path / "out" / "brief.pdf").pages
        for annotation in page.get("/Annots", [])
    ]
    assert url in links  # a live link for the reader; the build itself never connects
    assert listener.close() == 0


@pytest.fixture
def fetcher_roots(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "brief"
    folder.mkdir()
    (folder / "ok.png").write_bytes(png(4, 4))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(png(4, 4))
    (folder / "link.png").symlink_to(outside / "secret.png")
    (folder / "linked-folder").symlink_to(outside)
    return folder, outside


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/x.png",
        "https://127.0.0.1:{port}/x.png",
        "ftp://127.0.0.1:{port}/x.png",
        "http://localhost:{port}/x.png",
        "http://[::1]:{port}/x.png",
        "gopher://127.0.0.1:{port}/x",
        "file://127.0.0.1:{port}{folder}/ok.png",
        "file:///etc/passwd",
        "file://{outside}/secret.png",
        "file://{folder}/../outside/secret.png",
        "file://{folder}/%2e%2e/outside/secret.png",
        "file://{folder}/link.png",
        "file://{folder}/linked-folder/secret.png",
        "file://{folder}",
        "{folder}/ok.png",
        "javascript:alert(1)",
    ],
)
def test_fetcher_refuses_everything_outside_the_roots(
    fetcher_roots: tuple[Path, Path], listener: Listener, url: str
) -> None:
    folder, outside = fetcher_roots
    url = url.format(port=listener.port, folder=folder, outside=outside)
    fetcher = _confined_fetcher([folder, DEFAULT_TEMPLATES_DIR], {})
    with pytest.raises(ValueError, match="refused to fetch"):
        fetcher.fetch(url)
    assert listener.close() == 0


def test_fetcher_serves_files_inside_the_roots(fetcher_roots: tuple[Path, Path]) -> None:
    folder, _ = fetcher_roots
    fetcher = _confined_fetcher([folder, DEFAULT_TEMPLATES_DIR], {})
    assert fetcher.fetch((folder / "ok.png").as_uri()).read() == (folder / "ok.png").read_bytes()
    licence = DEFAULT_TEMPLATES_DIR / "fonts" / "OFL.txt"
    assert fetcher.fetch(licence.as_uri()).read() == licence.read_bytes()
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"


# -- the engine's silence is not success ------------------------------------------------------


def test_engine_errors_fail_the_build_at_the_line_of_the_content(
    build: BuildRun, tree: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from briefing import pipeline

    monkeypatch.setattr(pipeline, "check_images", lambda *args: None)  # as if validation had missed it
    folder = tree({**with_image("images/map.png"), "images/map.png": "not an image"})
    outcome = build(folder)
    assert_refused(outcome)
    located = [line for line in outcome.lines if line.startswith("brief/sections/one.md:5:1: error: rendering: ")]
    assert located, outcome.lines
    assert (folder / "images" / "map.png").as_uri() in located[0]


def test_engine_refusals_fail_the_build(
    build: BuildRun, tree: Callable[..., Path], listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    from briefing import pipeline

    monkeypatch.setattr(pipeline, "check_images", lambda *args: None)  # only the fetcher stands in the way
    url = f"http://127.0.0.1:{listener.port}/y.png"
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="{url}"/></svg>'
    outcome = build(tree({**with_image("images/map.svg"), "images/map.svg": svg}))
    assert_refused(outcome)
    assert any(": error: rendering: " in line and f"refused to fetch '{url}'" in line for line in outcome.lines)
    assert listener.close() == 0


def test_engine_refusals_are_located_at_the_image(
    build: BuildRun, tree: Callable[..., Path], listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    from briefing import pipeline

    monkeypatch.setattr(pipeline, "check_images", lambda *args: None)
    url = f"http://127.0.0.1:{listener.port}/y.png"
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="{url}"/></svg>'
    outcome = build(tree({**with_image("images/map.svg"), "images/map.svg": svg}))
    assert any(line.startswith("brief/sections/one.md:5:1: error: ") and url in line for line in outcome.lines), outcome.lines


# -- attributes from content: no style, no attachments --------------------------------------


def test_attachment_attribute_is_refused(build: BuildRun, tree: Callable[..., Path]) -> None:
    folder = tree({"sections/one.md": "# One\n\n[the data](refs.yaml){rel=attachment} [@ref1]\n"})
    assert_refused(
        build(folder),
        "brief/sections/one.md:3:1: error: attribute 'rel' is not allowed "
        "(only #id, .class and lang; width and height on images)",
    )


def test_style_attribute_is_refused(build: BuildRun, tree: Callable[..., Path]) -> None:
    folder = tree({"sections/one.md": '# One\n\nSee `this`{style="color: red"} [@ref1].\n'})
    assert_refused(
        build(folder),
        "brief/sections/one.md:3:1: error: attribute 'style' is not allowed "
        "(only #id, .class and lang; width and height on images)",
    )


# -- content that is only text builds and prints as written ---------------------------------


@pytest.fixture
def build_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Build the digital edition of the given content; return the text of every page."""

    def run(files: dict[str, str | bytes | None]) -> str:
        folder = write_tree(tmp_path / "brief", files)
        monkeypatch.chdir(tmp_path)
        assert main(["build", "--quiet", "--variant", "pdf", "--out", "out", str(folder)]) == 0
        return "\n".join(page_texts(tmp_path / "out" / "brief.pdf"))

    return run


def test_raw_html_and_script_are_shown_as_text(build_text: Callable[..., str]) -> None:
    text = build_text(
        {
            "sections/one.md": "# One\n\nRaw <script>alert(1)</script> and <b>bold</b> [@ref1].\n\n"
            "<div onclick=x>block</div>\n",
            "briefing.yaml": BRIEFING + "classification: </style><script>x</script>\n",
        }
    )
    assert "Raw <script>alert(1)</script> and <b>bold</b>" in text
    assert "<div onclick=x>block</div>" in text
    assert "</style><script>x</script>" in text


def test_html_comments_are_left_out_and_raw_html_is_a_located_warning(
    build_text: Callable[..., str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    section = ("# One\n\n<!-- TODO: ask the desk -->\nKept, <!-- an aside --> and `<!-- code -->` [@ref1].\n\n"
               "<!--\nA note\n\nover two paragraphs\n-->\nAfter <b>bold</b>.\n")
    text = build_text({"sections/one.md": section})
    assert "Kept, and <!-- code -->" in " ".join(text.split())
    assert "TODO" not in text
    assert "aside" not in text
    assert "over two paragraphs" not in text
    assert "After <b>bold</b>." in text
    capsys.readouterr()
    assert main(["check", str(tmp_path / "brief")]) == 0
    err = capsys.readouterr().err
    assert ("brief/sections/one.md:11:7: warning: raw HTML '<b>' is printed as text: a briefing is written in "
            "Markdown, and HTML never reaches a page") in err
    assert "'<!--" not in err


def test_template_syntax_in_content_is_shown_literally(build_text: Callable[..., str]) -> None:
    text = build_text(
        {
            "briefing.yaml": BRIEFING.replace("title: T", "title: '{{ 7*7 }} {% if 1 %}x{% endif %}'"),
            "sections/one.md": "# One {#sec-one}\n\nValue {{ 7*7 }} and {% raw %}{# c #} [@ref1].\n",
            "timeline.yaml": "events:\n  - {date: '2001', title: '{{ config }}', summary: '{{ self }}'}\n",
        }
    )
    assert "Value {{ 7*7 }} and {% raw %}{# c #}" in text
    assert "{{ 7*7 }} {% if 1 %}x{% endif %}" in text
    assert "{{ config }}" in text
    assert "{{ self }}" in text
    assert "49" not in text


ARABIC = "مرحبا بالعالم"  # Arabic on purpose: the vendored Noto Naskh Arabic draws it


def test_rtl_and_zero_width_text_builds(build_text: Callable[..., str]) -> None:
    text = build_text(
        {"sections/one.md": f"# One\n\n{ARABIC} and zero\u200bwidth, join\u200dme, over\u202eride\u202c [@ref1].\n"}
    )
    hello = ARABIC.split()[0]
    assert hello in text or hello[::-1] in text  # extraction may give the visual order
    flat = text.replace("\u200b", "").replace("\u200d", "")
    assert "zerowidth" in flat
    assert "joinme" in flat


def test_very_long_word_builds(build_text: Callable[..., str]) -> None:
    word = "Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetz" * 8
    text = build_text({"sections/one.md": f"# One\n\n{word} [@ref1].\n\n| {word} |\n|---|\n| x |\n"})
    flat = text.replace("\u2010\n", "").replace("-\n", "").replace("\n", "")
    assert word in flat


def test_dollar_signs_in_figure_labels_are_literal(build_text: Callable[..., str]) -> None:
    text = build_text(
        {
            "timeline.yaml": "events:\n  - {date: '2001', title: Cost $5 and $10, label: Cost $5 and $10}\n"
            "  - {date: '2003', title: Rate 50% \\ $x^2$}\n",
            "sections/one.md": "# One\n\n[@ref1]\n\n::: {#fig-t .timeline}\nCosts.\n:::\n",
        }
    )
    assert "Cost$5and$10" in text.replace(" ", "")  # mathtext would have printed 'Cost 5 and 10' in italics
    assert "$x^2$" in text.replace(" ", "")


def test_file_url_is_not_an_image(build_text: Callable[..., str]) -> None:
    text = build_text({"sections/one.md": "# One\n\n![A map](file:///etc/passwd) [@ref1]\n"})
    assert "![A map](file:///etc/passwd)" in text  # CommonMark refuses the scheme: it stays text
    assert "root:" not in text


def test_image_names_with_spaces_and_accents_build(build_text: Callable[..., str]) -> None:
    build_text(
        {
            "sections/one.md": "# One\n\n[@ref1]\n\n![Map](images/carte-é.png)\n\n![Map](<images/my map.png>)\n",
            "images/carte-é.png": png(4, 4),
            "images/my map.png": png(4, 4),
        }
    )


def test_missing_glyph_in_a_figure_label_is_a_located_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(
        tmp_path / "brief",
        {
            "timeline.yaml": "events:\n  - {id: a, date: '2001', title: Talks in 中国}\n",
            "sections/one.md": "# One\n\n[@ref1]\n\n::: {#fig-t .timeline}\nTalks.\n:::\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--quiet", "--variant", "pdf", "--out", "out", "brief"]) == 1
    assert (  # found before anything is drawn: the chronology would print the title with a box too
        "brief/timeline.yaml:2:43: error: '中' (U+4E2D) and 1 more (国) are in none of the embedded fonts "
        "(Noto Serif, Sans, Naskh Arabic, Hebrew, Devanagari, Bengali, Tamil, Thai, Georgian, Armenian, Ethiopic, "
        "Symbols, Symbols 2 and Math); they would print as empty boxes: put a font that draws them (such as Noto Sans "
        "CJK SC (or TC, JP, KR)) in a theme's font folder and name its family under 'fallback:' (README, \"Themes\")"
    ) in capsys.readouterr().err.splitlines()
    assert not (tmp_path / "out").exists()


def test_yaml_values_keep_their_written_form(build_text: Callable[..., str]) -> None:
    text = build_text(
        {
            "briefing.yaml": BRIEFING.replace("title: T", "title: 'no'") + "version: 1.10\n"
            "classification: off\nsubtitle: 0x1F\n"
        }
    )
    for written in ("1.10", "0x1F", "off"):
        assert written in text


# -- outputs are never half written -----------------------------------------------------------


def test_two_builds_at_once_leave_valid_files(tmp_path: Path) -> None:
    folder = write_tree(
        tmp_path / "brief", {"sections/one.md": "# One\n\n[@ref1]\n\n::: {#fig-t .timeline}\nT.\n:::\n"}
    )
    command = [sys.executable, "-m", "briefing", "build", "--quiet", "--out", str(tmp_path / "out"), str(folder),
               "--variant", "pdf", "--variant", "html"]  # two editions and a manifest: a set to keep whole
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    processes = [
        subprocess.Popen(command, cwd=tmp_path, env=environment, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    results = []
    for process in processes:
        with process:
            _, err = process.communicate(timeout=300)
            results.append((process.returncode, err))
    assert [code for code, _ in results] == [0, 0], results
    names = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert not [name for name in names if name.startswith(".") or name.endswith(".tmp")], names
    for name in names:
        if name.endswith(".pdf"):
            assert len(PdfReader(tmp_path / "out" / name).pages) >= 1
    manifest = json.loads((tmp_path / "out" / "brief.manifest.json").read_text(encoding="utf-8"))
    assert {Path(entry["path"]).name for entry in manifest["outputs"]} <= set(names)


# -- an internal error is one line, its traceback only on request -----------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_internal_error_is_one_line_asking_for_a_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], debug: bool
) -> None:
    from briefing import pipeline

    def broken(*args: object) -> None:
        raise RuntimeError("something unforeseen")

    monkeypatch.setattr(pipeline, "build", broken)
    folder = write_tree(tmp_path / "brief")
    code = main(["build", "--quiet", *(["--debug"] if debug else []), "--out", str(tmp_path / "out"), str(folder)])
    err = capsys.readouterr().err
    assert code == 70
    assert err.splitlines()[-1] == (
        "internal error: RuntimeError: something unforeseen; please report it with the command you ran"
        " (rerun with --debug for the traceback)"
    )
    assert ("Traceback (most recent call last)" in err) is debug
    assert not (tmp_path / "out").exists()
