"""Markdown text -> markdown-it tokens: the parser's set-up and Pandoc's syntax as markdown-it rules.

CommonMark with tables and footnotes, plus Pandoc's heading attributes, fenced divs (callouts and
timeline figures), table captions, line blocks and image attributes, each added as a markdown-it
rule (the plugin style of markdown-it-py); citations and cross-references are ``markdown_citations.py``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.subscript import sub_plugin
from mdit_py_plugins.superscript import superscript_plugin

from .errors import Diagnostics, SourceLocation, did_you_mean
from .image_size import IMAGE_SIZE_ATTRIBUTES, image_size
from .markdown_checks import MARKDOWN_IT_NESTING
from .markdown_citations import bracketed_citation, narrative_citation
from .model import ImageFigure, PartialDate, TimelineFigureSpec
from .validate import ID_PATTERN, LANGUAGE_PATTERN, parse_partial_date

if TYPE_CHECKING:
    from .markdown_numbering import DocumentParser

ALLOWED_ATTRIBUTES = ("id", "class", "lang", *IMAGE_SIZE_ATTRIBUTES)
"""On spans, links and images, and no others: ``style`` or ``rel=attachment`` would let content restyle or
embed files. ``lang`` marks a run in another language (hyphenation, the PDF's tags); ``width`` and
``height`` are on images only (checked, then written as our own CSS)."""
CALLOUT_KINDS = ("note", "tip", "important", "warning", "caution")
"""Quarto's callouts: ``::: {.callout-note}`` with an optional ``##`` title as its first line."""
_TRAILING_ATTRS_RE = re.compile(r"\s*\{(?P<attrs>[^{}]*)\}\s*$")
_TABLE_CAPTION_RE = re.compile(r"^(?:Table)?:\s+")
_IMAGE_ATTRS_RE = re.compile(r"\)\{[^{}\n]*\}")
_PERCENT_VALUE_RE = re.compile(r"(?<=[\s{])(width|height)=(\d+(?:\.\d+)?%)(?=[\s}])")
"""``width=40%`` as Pandoc users write it: the attribute parser reads ``%`` as a comment, so it is quoted first."""


def make_markdown() -> MarkdownIt:
    # No typographer and no joining of escaped characters into the text: punctuation is the text
    # pass's (text_finish.py), which leaves what the author escaped as written.
    md = MarkdownIt("commonmark", {"html": False, "maxNesting": MARKDOWN_IT_NESTING})
    md.enable(["table"]).disable(["text_join"])
    md.use(footnote_plugin).use(attrs_plugin, allowed=ALLOWED_ATTRIBUTES, spans=True)
    md.use(sub_plugin).use(superscript_plugin).use(deflist_plugin)  # H~2~O, x^2^, definition lists
    md.core.ruler.after("block", "line_blocks", _line_blocks)
    md.block.ruler.before("fence", "fenced_div", _fenced_div, {"alt": ["paragraph"]})
    md.core.ruler.after("block", "heading_attributes", _heading_attributes)
    md.core.ruler.after("heading_attributes", "table_captions", _table_captions)
    md.core.ruler.after("inline", "move_table_captions", _move_table_captions)
    md.core.ruler.before("inline", "percent_lengths", _quote_percent_lengths)
    md.core.ruler.at("inline", _inline_with_lines)
    md.core.ruler.after("inline", "image_figures", _image_figures)
    md.core.ruler.after("image_figures", "refused_attributes", _refused_attributes)
    md.core.ruler.after("refused_attributes", "image_sizes", _image_sizes)
    md.inline.ruler.before("link", "citation", bracketed_citation)
    md.inline.ruler.before("text", "narrative_citation", narrative_citation)
    return md


def _parse_attributes(text: str) -> tuple[str | None, list[str], dict[str, str]]:
    """Pandoc attributes ``#id .class key="value"`` -> (id, classes, key/values)."""
    ident, classes, pairs = None, [], {}
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    for word in words:
        if word.startswith("#"):
            ident = word[1:]
        elif word.startswith("."):
            classes.append(word[1:])
        elif "=" in word:
            key, value = word.split("=", 1)
            pairs[key] = value
        else:
            classes.append(word)
    return ident, classes, pairs


def _heading_attributes(state: StateCore) -> None:
    """``## Title {#sec-x .unnumbered}``: strip the braces into attributes."""
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline = tokens[index + 1]
        match = _TRAILING_ATTRS_RE.search(inline.content)
        if not match:
            continue
        inline.content = inline.content[: match.start()]
        ident, classes, pairs = _parse_attributes(match["attrs"])
        if ident:
            _check_id(state.env, ident, token)
            token.attrSet("id", ident)
        if classes:
            token.attrSet("class", " ".join(classes))
        for key, value in pairs.items():
            if key == "short" and value.strip():
                token.attrSet("data-short", value.strip())  # the running head's form of a long title
            else:
                parser: DocumentParser = state.env["parser"]
                location = parser.location(state.env["source"], token.map[0] if token.map else None, 1)
                parser.report.error(location, f"unknown heading attribute '{key}'{did_you_mean(key, ['short'])} "
                                              "(headings take an {#id}, classes and short=\"running head\")")


def _check_id(env: EnvType, ident: str, token: Token) -> None:
    if not ID_PATTERN.match(ident):
        parser: DocumentParser = env["parser"]
        location = parser.location(env["source"], token.map[0] if token.map else None, 1)
        parser.report.error(location, f"'{ident}' is not a valid id (letters, digits and hyphens)")


def _table_captions(state: StateCore) -> None:
    """A paragraph ``Table: Caption {#tbl-x}`` right after a table becomes its caption."""
    tokens = state.tokens
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "table_close" and index + 3 < len(tokens) and tokens[index + 1].type == "paragraph_open":
            inline = tokens[index + 2]
            if _TABLE_CAPTION_RE.match(inline.content):
                table_open = _matching_open(tokens, index)
                caption = _TABLE_CAPTION_RE.sub("", inline.content, count=1)
                if match := _TRAILING_ATTRS_RE.search(caption):
                    caption = caption[: match.start()]
                    ident, _, _ = _parse_attributes(match["attrs"])
                    if ident:
                        _check_id(state.env, ident, tokens[index + 1])
                        table_open.attrSet("id", ident)
                inline.content = caption
                table_open.meta["caption"] = inline
                tokens[index + 1].meta["table_caption"] = True  # taken out once its inline rules ran
        index += 1


def _move_table_captions(state: StateCore) -> None:
    """The caption paragraphs leave the flow once the inline rules have run on them."""
    tokens = state.tokens
    index = 0
    while index < len(tokens):
        if tokens[index].type == "paragraph_open" and tokens[index].meta.get("table_caption"):
            del tokens[index: index + 3]
            continue
        index += 1


def _matching_open(tokens: list[Token], close_index: int) -> Token:
    depth = 0
    for index in range(close_index, -1, -1):
        depth += tokens[index].nesting
        if depth == 0:
            return tokens[index]
    raise AssertionError("unbalanced tokens")


def _inline_with_lines(state: StateCore) -> None:
    """markdown-it's inline step, telling inline rules the line they are on (for locations)."""
    for token in state.tokens:
        if token.type == "inline":
            state.env["line"] = token.map[0] if token.map else None
            token.children = []
            state.md.inline.parse(token.content, state.md, state.env, token.children)
    for inline in (t.meta["caption"] for t in state.tokens if "caption" in t.meta):
        if not inline.children:
            inline.children = []
            state.md.inline.parse(inline.content, state.md, state.env, inline.children)


def _image_figures(state: StateCore) -> None:
    """A paragraph holding only an image becomes a numbered figure with its alt text as caption."""
    tokens = state.tokens
    parser: DocumentParser = state.env["parser"]
    for index, token in enumerate(tokens):
        if token.type != "paragraph_open":
            continue
        inline = tokens[index + 1]
        children = [c for c in inline.children or [] if not (c.type == "text" and not c.content.strip())]
        for child in inline.children or []:
            if child.type == "image":
                location = parser.location(state.env["source"], inline.map[0] if inline.map else None, 1)
                path = unquote(str(child.attrGet("src")))  # markdown-it percent-encodes: 'carte-%C3%A9.png'
                parser.images.append(ImageFigure(child.attrGet("id"), path, location))  # type: ignore[arg-type]
        if len(children) == 1 and children[0].type == "image":
            image = children[0]
            token.type, tokens[index + 2].type = "image_figure_open", "image_figure_close"
            if image.attrGet("id"):
                token.attrSet("id", str(image.attrGet("id")))
                del image.attrs["id"]
            token.meta["image"] = image


def _line_blocks(state: StateCore) -> None:
    """Pandoc's line blocks: a paragraph whose every line starts with ``| `` keeps its line breaks."""
    for token in state.tokens:
        if token.type != "inline" or not token.content.startswith("|"):
            continue
        lines = token.content.split("\n")
        if all(re.match(r"^\|( |$)", line) for line in lines) and not any("|" in line[1:] for line in lines):
            # a trailing backslash is CommonMark's hard line break
            token.content = "\\\n".join(line[2:] if len(line) > 1 else "" for line in lines)


def _refused_attributes(state: StateCore) -> None:
    """Report the attributes the attrs plugin dropped, rather than losing them silently."""
    parser: DocumentParser = state.env["parser"]
    for block in state.tokens:
        for token in [block, *(block.children or [])]:
            location = parser.location(state.env["source"], block.map[0] if block.map else None, 1)
            for name in token.meta.get("insecure_attrs", {}) if token.meta else {}:
                parser.report.error(
                    location, f"attribute '{name}' is not allowed (only #id, .class and lang; width and height on images)"
                )
            language = token.attrs.get("lang") if token.attrs else None
            if language is not None and not LANGUAGE_PATTERN.match(str(language)):  # it becomes an HTML attribute
                parser.report.error(location, f"lang='{language}' is not a BCP 47 tag such as 'fa' or 'ar-EG'")
                del token.attrs["lang"]


def _quote_percent_lengths(state: StateCore) -> None:
    """``{width=40%}`` after an image, as Pandoc reads it: quoted, so the attribute parser keeps the value."""
    for token in state.tokens:
        if token.type == "inline" and "%" in token.content:
            token.content = _IMAGE_ATTRS_RE.sub(
                lambda m: _PERCENT_VALUE_RE.sub(r'\1="\2"', m[0]), token.content
            )


def _image_sizes(state: StateCore) -> None:
    """``width``/``height`` on an image become its size (checked); on anything else they are an error."""
    parser: DocumentParser = state.env["parser"]
    for block in state.tokens:
        location = parser.location(state.env["source"], block.map[0] if block.map else None, 1)
        for token in [block, *(block.children or [])]:
            given = {key: str(token.attrs.pop(key)) for key in IMAGE_SIZE_ATTRIBUTES if key in token.attrs}
            if not given:
                continue
            if token.type != "image":
                for key in given:
                    parser.report.error(location, f"attribute '{key}' is only for images (![caption](file){{{key}=40%}})")
                continue
            size, problems = image_size(given)
            for problem in problems:
                parser.report.error(location, problem)
            token.meta["size"] = size


def _fenced_div(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Pandoc fenced divs: ``::: {#fig-x .timeline from="2015"}`` ... ``:::``."""
    start = state.bMarks[start_line] + state.tShift[start_line]
    line_text = state.src[start: state.eMarks[start_line]]
    opening = re.match(r"^(:{3,})\s*(?:\{(?P<attrs>[^}]*)\}|(?P<word>[\w\-]+))?\s*:*\s*$", line_text)
    if not opening or not (opening["attrs"] or opening["word"]):
        return False
    if silent:
        return True
    depth, line = 1, start_line + 1
    while line < end_line:
        text = state.src[state.bMarks[line] + state.tShift[line]: state.eMarks[line]]
        if re.match(r"^:{3,}\s*(\{[^}]*\}|[\w\-]+)", text):
            depth += 1
        elif re.match(r"^:{3,}\s*$", text):
            depth -= 1
            if depth == 0:
                break
        line += 1
    ident, classes, pairs = _parse_attributes(opening["attrs"] or "." + opening["word"])
    kind = "timeline" if "timeline" in classes else "div"
    parser: DocumentParser = state.env["parser"]
    callouts = [c for c in classes if c.startswith("callout-")]
    for callout in callouts:
        if callout.removeprefix("callout-") not in CALLOUT_KINDS:
            parser.report.error(
                parser.location(state.env["source"], start_line, 1),
                f"unknown callout '.{callout}'{did_you_mean(callout, [f'callout-{k}' for k in CALLOUT_KINDS])} "
                f"(callouts: {', '.join(f'.callout-{k}' for k in CALLOUT_KINDS)})",
            )
    open_token = state.push(f"{kind}_open", "figure" if kind == "timeline" else "div", 1)
    open_token.map = [start_line, line]
    if ident:
        open_token.attrSet("id", ident)
    if classes:
        open_token.attrSet("class", " ".join(classes))
    if kind == "timeline":
        open_token.meta["spec"] = _timeline_spec(state, start_line, ident, pairs)
    old_parent, old_max = state.parentType, state.lineMax
    state.parentType = "blockquote"  # keeps lazy paragraph continuation from eating the fence
    state.lineMax = line
    first_inner = len(state.tokens)
    state.md.block.tokenize(state, start_line + 1, line)
    state.parentType, state.lineMax = old_parent, old_max
    if callouts:
        _callout_title(state.tokens, first_inner)
    state.push(f"{kind}_close", "figure" if kind == "timeline" else "div", -1)
    if line >= end_line:
        parser.report.error(parser.location(state.env["source"], start_line, 1), "fenced div is never closed (add a ':::' line)")
    state.line = min(line + 1, end_line)
    return True


def _callout_title(tokens: list[Token], first: int) -> None:
    """A heading that opens a callout is its title, not a section: no number, no contents entry."""
    if first + 2 < len(tokens) and tokens[first].type == "heading_open":
        for token, kind in ((tokens[first], "paragraph_open"), (tokens[first + 2], "paragraph_close")):
            token.type, token.tag = kind, "p"
        tokens[first].attrs = {"class": "callout-title"}


TIMELINE_OPTIONS = ["from", "to", "tags", "labels", "inset", "rows", "width", "height"]
LABEL_STRATEGIES = ["auto", "direct", "inset", "callouts"]
"""``labels=``: choose for me; labels only; zoom the crowded interval; number every event."""
MAX_LABEL_ROWS = 4


def _timeline_spec(state: StateBlock, line: int, ident: str | None, pairs: dict[str, str]) -> TimelineFigureSpec:
    parser: DocumentParser = state.env["parser"]
    location = parser.location(state.env["source"], line, 1)
    for key in pairs:
        if key not in TIMELINE_OPTIONS:
            parser.report.error(location, f"unknown timeline option '{key}'{did_you_mean(key, TIMELINE_OPTIONS)}")
    if not ident or not ident.startswith("fig-"):
        parser.report.error(location, "a timeline figure needs an id starting with 'fig-', e.g. {#fig-timeline .timeline}")
        ident = ident or f"fig-timeline-{len(parser.timeline_figures) + 1}"
    dates = {}
    for key in ("from", "to"):
        if key in pairs:
            dates[key] = parse_partial_date(pairs[key])
            if dates[key] is None:
                parser.report.error(
                    location, f"timeline '{ident}': {key}='{pairs[key]}' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)"
                )
    options = _FigureOptions(parser.report, location, ident)
    labels = pairs.get("labels", "auto")
    if labels not in LABEL_STRATEGIES:
        options.error("labels", labels, f"use one of {', '.join(LABEL_STRATEGIES)}{did_you_mean(labels, LABEL_STRATEGIES)}")
        labels = "auto"
    inset, allow_inset = options.inset(pairs.get("inset"))
    return TimelineFigureSpec(
        ident,
        location,
        dates.get("from"),
        dates.get("to"),
        tuple(pairs.get("tags", "").split()),
        labels=labels,
        inset=inset,
        allow_inset=allow_inset,
        rows=options.rows(pairs.get("rows")),
        width_mm=options.length("width", pairs.get("width")),
        height_mm=options.length("height", pairs.get("height")),
    )


@dataclass
class _FigureOptions:
    """Reads the figure attributes beyond the filters; each bad value is a located error."""

    report: Diagnostics
    location: SourceLocation
    ident: str

    def error(self, key: str, value: str, expected: str) -> None:
        self.report.error(self.location, f"timeline '{self.ident}': {key}='{value}' is not valid ({expected})")

    def inset(self, value: str | None) -> tuple[tuple[PartialDate, PartialDate] | None, bool]:
        """``inset="2025-02/2025-06"`` zooms that interval; ``inset="none"`` never zooms."""
        if value is None:
            return None, True
        if value == "none":
            return None, False
        first, _, last = value.partition("/")
        dates = (parse_partial_date(first.strip()), parse_partial_date(last.strip()))
        if dates[0] is None or dates[1] is None:
            self.error("inset", value, "use FIRST/LAST with dates YYYY, YYYY-MM or YYYY-MM-DD, or 'none'")
            return None, True
        if dates[1].last_day() < dates[0].first_day():
            self.error("inset", value, "the interval ends before it starts")
            return None, True
        return (dates[0], dates[1]), True

    def rows(self, value: str | None) -> int:
        if value is None:
            return 2
        if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_LABEL_ROWS:
            self.error("rows", value, f"use a number of label rows per side from 1 to {MAX_LABEL_ROWS}")
            return 2
        return int(value)

    def length(self, key: str, value: str | None) -> float | None:
        """``width="120mm"``, ``height="6cm"``: a length in mm or cm."""
        if value is None:
            return None
        match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(mm|cm)", value.strip())
        if not match or float(match[1]) == 0:
            self.error(key, value, "use a length in mm or cm, e.g. 120mm")
            return None
        millimetres = float(match[1]) * (10 if match[2] == "cm" else 1)
        if millimetres < 40:
            self.error(key, value, "a timeline figure needs at least 40mm")
            return None
        return millimetres
