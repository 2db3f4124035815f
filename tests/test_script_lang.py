"""Runs in another script get a language: the heuristic, through the text pass (the built editions: test_pdf_tags)."""

from __future__ import annotations

import pytest

from briefing.model_html import runs_html
from briefing.model_text import Inline, Run, RunKind, Span
from briefing.script_lang import language_of
from briefing.text_finish import TextPass


def _marked(inlines: tuple[Inline, ...], base: str = "en") -> tuple[Inline, ...]:
    return TextPass(base).inlines(inlines)


def _html(text: str, base: str = "en") -> str:
    return runs_html([node for node in _marked((Run(text),), base) if isinstance(node, Run)])


@pytest.mark.parametrize(("run", "language"), [
    ("علی خامنه‌ای", "fa"),  # Farsi yeh and a half-space (ZWNJ): Persian
    ("مصر", "ar"),  # no letter only Persian has: Arabic
    ("Москва", "ru"),
    ("שלום", "he"),
    ("Ἀθῆναι", "el"),
    ("北京", "zh"),
    ("東京へ", "ja"),  # kana among the ideographs
    ("서울", "ko"),
    ("नमस्ते", "hi"),
])
def test_the_script_of_a_run_names_its_language(run: str, language: str) -> None:
    assert language_of(run, "en") == language
    assert _html(f"In {run}, too.") == f'In <span lang="{language}">{run}</span>, too.'


def test_one_run_per_script_with_the_spaces_between_its_words() -> None:
    marked = _html("Cairo (القاهرة الكبرى), Moscow (Москва, Россия) and Athens.")
    assert marked == 'Cairo (<span lang="ar">القاهرة الكبرى</span>), Moscow (<span lang="ru">Москва, Россия</span>) and Athens.'


def test_the_page_s_own_script_is_not_marked() -> None:
    assert _html("Москва и Tehran (تهران)", "ru") == 'Москва и Tehran (<span lang="ar">تهران</span>)'


def test_the_author_s_language_wins() -> None:
    persian = Span("span", (Run("علی خامنه‌ای"),), (("lang", "fa"),))
    egyptian = Span("span", (Run("مصر"),), (("lang", "ar-EG"),))
    written = (Run("Khamenei ("), persian, Run(") and "), egyptian)
    assert _marked(written) == written


def test_code_and_escapes_are_left_as_written() -> None:
    written = (Run("Москва", RunKind.CODE), Run(" "), Run('"', RunKind.VERBATIM), Run("Москва"))
    marked = _marked(written)
    assert marked[:3] == written[:3]
    assert marked[3] == Run("Москва", lang="ru")


def test_a_data_file_text_gets_its_language_too() -> None:
    title = TextPass("en").text("Talks in Muscat (مسقط)")
    assert title == "Talks in Muscat (مسقط)"
    assert runs_html(title.runs) == 'Talks in Muscat (<span lang="ar">مسقط</span>)'


def test_latin_script_only_is_unchanged() -> None:
    assert _html("Plain text, “quoted” — and é, ß, ø.") == "Plain text, “quoted” — and é, ß, ø."
