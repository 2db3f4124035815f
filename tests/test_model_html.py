"""The document model written as HTML: what markdown-it's renderer wrote, from plain blocks and runs."""

from __future__ import annotations

import pytest

from briefing.config import BuildConfig
from briefing.errors import Diagnostics
from briefing.model_html import HtmlWriter, RenderContext
from briefing.pipeline import check

from .conftest import ContentTree


def _written(content_tree: ContentTree, markdown: str) -> str:
    folder = content_tree({"sections/one.md": f"# One\n\n{markdown}"})
    report = Diagnostics()
    prepared = check(BuildConfig(content_dir=folder, use_cache=False), report)
    assert [str(d) for d in report] == []
    context = RenderContext(prepared.citations.clusters, prepared.document.targets, lambda name, **values: f"[{name}]")
    return HtmlWriter(context).fragment(prepared.document.sections[0])


@pytest.mark.parametrize(("markdown", "expected"), [
    ("- a *b*\n- c\n", "<ul>\n<li>a <em>b</em></li>\n<li>c</li>\n</ul>\n"),
    ("1. a\n\n2. b\n", "<ol>\n<li>\n<p>a</p>\n</li>\n<li>\n<p>b</p>\n</li>\n</ol>\n"),
    ("> It's **so**.\n", "<blockquote>\n<p>It\u2019s <strong>so</strong>.</p>\n</blockquote>\n"),
    ("```py\nx = 'a' -- b\n```\n", '<pre><code class="language-py">x = \'a\' -- b\n</code></pre>\n'),
    ("| A | B |\n|--:|---|\n| 1 | 'x' |\n",
     '<table>\n<thead>\n<tr>\n<th style="text-align:right">A</th>\n<th>B</th>\n</tr>\n</thead>\n'
     '<tbody>\n<tr>\n<td style="text-align:right">1</td>\n<td>\u2018x\u2019</td>\n</tr>\n</tbody>\n</table>\n'),
    ("H~2~O and x^2^, `it's`\\\nnext\n", "<p>H<sub>2</sub>O and x<sup>2</sup>, <code>it's</code><br />\nnext</p>\n"),
    ("[Iran's](https://example.org/a \"T\") \\\"as is\\\"\n",
     '<p><a href="https://example.org/a" title="T">Iran\u2019s</a> &quot;as is&quot;</p>\n'),  # escaped: as written
    ("<https://example.org/a-b>\n",
     '<p><a href="https://example.org/a-b"><span class="url-part">https://</span><wbr>'
     '<span class="url-part">example</span><wbr><span class="url-part">.org</span><wbr>'
     '<span class="url-part">/a</span><wbr><span class="url-part">-b</span></a></p>\n'),
    ("See [Tehran]{lang=fa-Latn} and [Москва].\n",
     '<p>See <span lang="fa-Latn">Tehran</span> and [<span lang="ru">Москва</span>].</p>\n'),
    ("***\n", "<hr />\n"),
])
def test_blocks_and_runs_are_written_as_markdown_it_wrote_them(content_tree: ContentTree, markdown: str, expected: str) -> None:
    assert _written(content_tree, markdown).split("</h1>\n", 1)[1] == expected


def test_figures_notes_and_cross_references_go_through_their_partials(content_tree: ContentTree) -> None:
    html = _written(content_tree, "Text.[^1] See @tbl-a.\n\n| A |\n|---|\n| 1 |\n\nTable: Cap {#tbl-a}\n\n[^1]: A note.\n")
    assert html.split("</h1>\n", 1)[1] == (
        '<p>Text.[footnote] See [crossref].</p>\n<table id="tbl-a">\n[table_caption]<thead>\n<tr>\n<th>A</th>\n</tr>\n'
        "</thead>\n<tbody>\n<tr>\n<td>1</td>\n</tr>\n</tbody>\n</table>\n")


def test_long_words_in_table_cells_may_break_where_the_language_allows(content_tree: ContentTree) -> None:
    """A column is as wide as its longest word: compounds get soft hyphens (only in cells, only long words,
    never near their ends), a typed address breaks before its slashes."""
    table = ("| Behörde | Quelle |\n|---|---|\n"
             "| Donaudampfschifffahrtsgesellschaft in Muscat | https://example.org/gesetze/rechtsgrundlage.html |\n\n"
             "Donaudampfschifffahrtsgesellschaft in the prose.\n")
    html = _written(content_tree, table).replace("\u00ad", "|")
    assert "<td><span class=\"long-word\">Donaudampf|schiff|fahrts|gesell|schaft</span> in Muscat</td>" in html
    assert '<span class="url-part">https://</span><wbr><span class="url-part">example</span>' in html
    assert "rechtsgrundlage.html" in html.replace('</span><wbr><span class="url-part">', "")  # no soft hyphen in it
    assert "<p>Donaudampfschifffahrtsgesellschaft in the prose.</p>" in html  # the prose hyphenates by itself
