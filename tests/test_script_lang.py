"""Runs in another script get a language: the heuristic on its own (the built editions: test_pdf_tags)."""

from __future__ import annotations

import pytest

from briefing.script_lang import language_of, mark_languages


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
    assert mark_languages(f"<p>In {run}, too.</p>", "en") == f'<p>In <span lang="{language}">{run}</span>, too.</p>'


def test_one_run_per_script_with_the_spaces_between_its_words() -> None:
    marked = mark_languages("<p>Cairo (القاهرة الكبرى), Moscow (Москва, Россия) and Athens.</p>", "en")
    assert marked == (
        '<p>Cairo (<span lang="ar">القاهرة الكبرى</span>), Moscow (<span lang="ru">Москва, Россия</span>) and Athens.</p>'
    )


def test_the_page_s_own_script_is_not_marked() -> None:
    page = "<p>Москва и Tehran (تهران)</p>"
    assert mark_languages(page, "ru") == '<p>Москва и Tehran (<span lang="ar">تهران</span>)</p>'


def test_the_author_s_language_wins() -> None:
    page = '<p>Khamenei (<span lang="fa">علی خامنه‌ای</span>) and <span lang="ar-EG">مصر</span></p>'
    assert mark_languages(page, "en") == page


def test_markup_styles_code_and_attributes_are_left_as_written() -> None:
    page = ('<html lang="en"><head><title>Москва</title><style>p::after{content:"Москва"}</style></head>'
            '<body><p title="Москва"><code>Москва</code> <img alt="Москва"> <b>Москва</b></p></body></html>')
    assert mark_languages(page, "en") == page.replace("<b>Москва</b>", '<b><span lang="ru">Москва</span></b>')


def test_a_page_in_latin_script_only_is_returned_unchanged() -> None:
    page = "<p>Plain text, “quoted” — and é, ß, ø.</p>"
    assert mark_languages(page, "en") is page
