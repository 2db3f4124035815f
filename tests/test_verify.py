"""Each self-check after layout, provoked once, failing the build with its exact message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from briefing.config import DEFAULT_TEMPLATES_DIR, BuildConfig, Variant
from briefing.errors import ContentError, Diagnostics
from briefing.pipeline import build

from .conftest import ContentTree

pytestmark = pytest.mark.slow


def failures(folder: Path, tmp_path: Path, templates: Path = DEFAULT_TEMPLATES_DIR) -> list[str]:
    report = Diagnostics()
    out = tmp_path / "out"
    config = BuildConfig(content_dir=folder, output_dir=out, variants=(Variant.PDF,), cache_dir=tmp_path / "cache",
                         templates_dir=templates)
    with pytest.raises(ContentError):
        build(config, report)
    assert not out.exists(), "a failed build writes nothing"
    return [str(d).replace(f"{folder}/", "").replace(f"{templates}/", "templates/") for d in report]


def edited_templates(tmp_path: Path, name: str, old: str, new: str) -> Path:
    templates = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATES_DIR, templates)
    path = templates / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return templates


def test_contents_entry_on_the_wrong_page(content_tree: ContentTree, tmp_path: Path) -> None:
    templates = edited_templates(tmp_path, "css/print.css", "target-counter(attr(href url), page)", '"9"')
    problems = failures(content_tree(), tmp_path, templates)
    expected = "templates/briefing.html: error: page 2: the contents entry for '#sec-one' shows page 9, but it is on page 3"
    assert expected in problems


def test_internal_link_without_target(content_tree: ContentTree, tmp_path: Path) -> None:
    templates = edited_templates(
        tmp_path, "partials/cover.html", "<dt>{{ t['as-of'] }}</dt>", '<dt><a href="#nowhere">As of</a></dt>'
    )
    problems = failures(content_tree(), tmp_path, templates)
    assert problems == ["templates/briefing.html: error: page 1: internal link to '#nowhere' has no target"]


def test_glyph_missing_from_the_fonts_is_located_in_the_content(
    content_tree: ContentTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from briefing import pipeline

    monkeypatch.setattr(pipeline, "report_uncovered", lambda *args: None)  # as if the check before layout missed it
    folder = content_tree({"sections/one.md": "# One\n\nText citing [@ref1], with 漢 in it.\n"})
    assert failures(folder, tmp_path) == [
        "sections/one.md:3:27: error: '漢' (U+6F22, page 3) is in none of the embedded fonts "
        "(Noto Serif, Sans, Naskh Arabic, Hebrew, Devanagari, Bengali, Tamil, Thai, Georgian, Armenian, Ethiopic, "
        "Symbols, Symbols 2 and Math); it would print as an empty box: put a font that draws it (such as Noto Sans "
        "CJK SC (or TC, JP, KR)) in a theme's font folder and name its family under 'fallback:' (README, \"Themes\")"
    ]


def test_image_without_alternative_text(content_tree: ContentTree, tmp_path: Path) -> None:
    from PIL import Image

    folder = content_tree({"sections/one.md": "# One\n\nText citing [@ref1].\n\n![](map.png)\n"})
    Image.new("RGB", (40, 20), "white").save(folder / "map.png")
    assert failures(folder, tmp_path) == [
        "sections/one.md:5:1: error: page 3: image 'map.png' has no alternative text (write it in ![...])"
    ]


def test_content_running_off_the_page(content_tree: ContentTree, tmp_path: Path) -> None:
    templates = edited_templates(tmp_path, "css/print.css", "figure img {", "figure img { min-width: 200mm;")
    folder = content_tree(
        {"sections/one.md": "# One\n\nText citing [@ref1].\n\n::: {#fig-t .timeline}\nCaption.\n:::\n"}
    )
    problems = failures(folder, tmp_path, templates)
    assert len(problems) == 1
    assert problems[0].startswith("templates/briefing.html: error: page 3: image 'fig-t-")
    assert problems[0].endswith(".svg' runs 74.0 mm outside the text area")  # 200 mm on the 126 mm block


def test_text_running_off_the_page_is_located_in_the_content(content_tree: ContentTree, tmp_path: Path) -> None:
    templates = edited_templates(tmp_path, "css/print.css", "p {\n", "p {\n  white-space: nowrap;\n")
    line = "A sentence far too long for one line of the page, which this stylesheet forbids to wrap at all, " * 2
    folder = content_tree({"sections/one.md": f"# One\n\nShort [@ref1].\n\n{line}.\n"})
    problems = failures(folder, tmp_path, templates)
    assert problems
    assert all(problem.startswith("sections/one.md:5:1: error: page 3: text 'A sentence") for problem in problems)
