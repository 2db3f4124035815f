"""Bad content gets one exact, located line per problem, all of them in one run."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from briefing.config import BuildConfig
from briefing.errors import ContentError, Diagnostics
from briefing.pipeline import check

from .conftest import ContentTree


def problems(folder: Path) -> list[str]:
    report = Diagnostics()
    with contextlib.suppress(ContentError):
        check(BuildConfig(content_dir=folder), report)
    return [str(d).replace(f"{folder}/", "") for d in report]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"briefing.yaml": 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\nsubtitel: x\n'},
            ["briefing.yaml:4:1: error: unknown key 'subtitel' in briefing.yaml (did you mean 'subtitle'?)"],
            id="unknown-key",
        ),
        pytest.param(
            {"briefing.yaml": 'title: T\nsections: [sections/one.md]\n'},
            ["briefing.yaml:1:1: error: briefing.yaml: missing required key 'date'"],
            id="missing-key",
        ),
        pytest.param(
            {"briefing.yaml": 'title: T\ndate: "2025-13-01"\nsections: [sections/one.md]\n'},
            ["briefing.yaml:2:7: error: 'date': '2025-13-01' is not a date (use YYYY-MM-DD)"],
            id="bad-date",
        ),
        pytest.param(
            {"briefing.yaml": 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\npaper: a5\n'},
            ["briefing.yaml:4:8: error: 'paper' must be one of 'a4', 'letter', found 'a5'"],
            id="bad-paper",
        ),
        pytest.param(
            {"briefing.yaml": 'title: T\ndate: "2025-06-01"\nsections: [../outside.md]\n'},
            ["briefing.yaml:3:12: error: '../outside.md' points outside the briefing folder"],
            id="path-escape",
        ),
        pytest.param(
            {"briefing.yaml": 'title: T\ndate: "2025-06-01"\nsections: [/etc/passwd]\n'},
            ["briefing.yaml:3:12: error: '/etc/passwd' is an absolute path; paths are relative to the briefing folder"],
            id="absolute-path",
        ),
        pytest.param(
            {"briefing.yaml": 'title: T\ndate: "2025-06-01"\nsections: [sections/two.md]\n'},
            ["briefing.yaml:3:12: error: file 'sections/two.md' not found"],
            id="missing-file",
        ),
        pytest.param(
            {"briefing.yaml": 'title: &t T\ndate: "2025-06-01"\nsections: [sections/one.md]\n'},
            ["briefing.yaml:1:8: error: YAML anchors and aliases are not allowed in briefing content"],
            id="yaml-anchor",
        ),
        pytest.param(
            {"briefing.yaml": 'title: T\ntitle: U\ndate: "2025-06-01"\nsections: [sections/one.md]\n'},
            ["briefing.yaml:2:1: error: duplicate key 'title' (first given at line 1)"],
            id="duplicate-key",
        ),
        pytest.param(
            {"briefing.yaml": 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md\n'},
            ["briefing.yaml:4:1: error: invalid YAML: expected ',' or ']', but got '<stream end>'"],
            id="broken-yaml",
        ),
        pytest.param(
            {"timeline.yaml": 'events:\n  - id: oman-talks\n    date: "2025-13-01"\n    title: Talks\n'},
            ["timeline.yaml:3:11: error: event 'oman-talks': '2025-13-01' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)"],
            id="event-date",
        ),
        pytest.param(
            {"timeline.yaml": 'events:\n  - id: war\n    date: "1988"\n    end: "1980"\n    title: War\n'},
            ["timeline.yaml:4:10: error: event 'war': ends (1980) before it starts (1988)"],
            id="span-backwards",
        ),
        pytest.param(
            {"timeline.yaml": 'events:\n  - {id: a, date: "2001", title: A}\n  - {id: a, date: "2002", title: B}\n'},
            ["timeline.yaml:3:10: error: duplicate event id 'a' (first used at line 2)"],
            id="duplicate-event-id",
        ),
        pytest.param(
            {"timeline.yaml": 'events:\n  - {id: a, date: "2001", title: A, sources: [ref2]}\n'},
            ["timeline.yaml:2:47: error: unknown citation key 'ref2' (did you mean 'ref1'?)"],
            id="event-unknown-source",
        ),
        pytest.param(
            {"sections/one.md": "# One\n\nSee [@refl] and @sec-tow.\n"},
            [
                "sections/one.md:3:6: error: unknown citation key 'refl' (did you mean 'ref1'?)",
                "sections/one.md:3:17: error: unknown cross-reference '@sec-tow' (did you mean 'sec-one'?)",
            ],
            id="unknown-keys-all-reported",
        ),
        pytest.param(
            {"sections/one.md": "Intro without a heading.\n"},
            ["sections/one.md:1:1: error: a section file must start with a '# Title' heading"],
            id="no-title",
        ),
        pytest.param(
            {"sections/one.md": '# One\n\n::: {#fig-t .timeline from="2025-13"}\nCaption.\n:::\n'},
            ["sections/one.md:3:1: error: timeline 'fig-t': from='2025-13' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)"],
            id="figure-filter-date",
        ),
        pytest.param(
            {"sections/one.md": "# One\n\n![Map](https://example.com/map.png)\n"},
            [
                "sections/one.md:3:1: error: image 'https://example.com/map.png': "
                "only local files inside the briefing folder can be used"
            ],
            id="remote-image",
        ),
        pytest.param(
            {"refs.yaml": "- id: ref1\n  title: A\n- id: ref1\n  title: B\n"},
            ["refs.yaml:3:7: error: duplicate reference key 'ref1' (first defined at line 1)"],
            id="duplicate-reference",
        ),
    ],
)
def test_problems_are_located(content_tree: ContentTree, files: dict[str, str], expected: list[str]) -> None:
    assert problems(content_tree(files)) == expected


def test_every_problem_in_one_run(content_tree: ContentTree) -> None:
    folder = content_tree(
        {
            "briefing.yaml": 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\ntimeline: timeline.yaml\n'
            "references: refs.yaml\ncolour: red\n",
            "timeline.yaml": 'events:\n  - {date: "1999-02-30", title: A}\n',
        }
    )
    assert problems(folder) == [
        "briefing.yaml:6:1: error: unknown key 'colour' in briefing.yaml",
        "timeline.yaml:2:12: error: event 'A': '1999-02-30' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)",
    ]


def test_values_keep_their_written_form(content_tree: ContentTree) -> None:
    from briefing.load import load_content
    from briefing.validate import validate_briefing

    folder = content_tree({"briefing.yaml": 'title: no\ndate: "2025-06-01"\nversion: 1.10\nsections: [sections/one.md]\n'})
    report = Diagnostics()
    briefing = validate_briefing(load_content(folder, report), report)
    assert briefing is not None
    assert (briefing.metadata.title, briefing.metadata.version) == ("no", "1.10")


def test_symlink_out_of_the_folder_is_refused(content_tree: ContentTree, tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret\n")
    folder = content_tree({"briefing.yaml": 'title: T\ndate: "2025-06-01"\nsections: [sections/link.md]\n'})
    (folder / "sections" / "link.md").symlink_to(secret)
    assert problems(folder) == ["briefing.yaml:3:12: error: 'sections/link.md' points outside the briefing folder"]


def test_a_pipe_or_a_folder_named_as_a_file_is_refused_without_reading_it(content_tree: ContentTree) -> None:
    """Opening a named pipe would wait forever for a writer: it is refused by its kind, never opened."""
    folder = content_tree({"briefing.yaml": 'title: T\ndate: "2025-06-01"\nsections: [sections/pipe.md, sections]\n'})
    os.mkfifo(folder / "sections" / "pipe.md")
    assert problems(folder) == [
        "briefing.yaml:3:12: error: 'sections/pipe.md' is not a regular file (a device, a pipe or a socket); "
        "a file is expected",
        "briefing.yaml:3:30: error: 'sections' is a folder; a file is expected",
    ]


def test_bibtex_references(content_tree: ContentTree) -> None:
    folder = content_tree(
        {
            "briefing.yaml": 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\nreferences: refs.bib\n',
            "refs.bib": "@book{ref1, author = {G{\\\"o}del, Kurt}, title = {Proofs}, year = 1931}\n",
        }
    )
    assert problems(folder) == []


def test_malformed_bibtex_is_located(content_tree: ContentTree) -> None:
    folder = content_tree(
        {
            "briefing.yaml": 'title: T\ndate: "2025-06-01"\nsections: [sections/one.md]\nreferences: refs.bib\n',
            "refs.bib": "@book{ref1, title = {Proofs}, year = 1931}\n@book{ref2 title = {X}}\n",
            "sections/one.md": "# One\n",
        }
    )
    assert problems(folder) == ["refs.bib:2:12: error: malformed BibTeX: unexpected 't'"]


def test_non_utf8_file_is_located(content_tree: ContentTree) -> None:
    folder = content_tree()
    (folder / "sections" / "one.md").write_bytes(b"# One\n\nCaf\xe9\n")
    assert problems(folder) == ["sections/one.md:3:4: error: not valid UTF-8 text (save the file as UTF-8)"]


def test_libyaml_and_the_python_composer_give_the_same_located_values() -> None:
    """The fast composer (libyaml) must locate every value where the strict Python one does:
    messages point at file:line:col either way."""
    import yaml

    from briefing import load
    from tests.conftest import US_IRAN_DIR

    def located(value: object) -> object:
        if isinstance(value, dict):
            return [(located(k), located(v)) for k, v in value.items()]
        if isinstance(value, list):
            return [located(v) for v in value] + [str(getattr(value, "location", ""))]
        return (value, str(getattr(value, "location", "")))

    for path in sorted(US_IRAN_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        fast, strict = load._compose(text), yaml.compose(text, Loader=load._StrictLoader)
        assert fast is not None
        assert strict is not None
        plain = Diagnostics()
        assert located(load._convert(fast, path, plain)) == located(load._convert(strict, path, plain)), path.name
        assert not plain.items
