"""The realistic news page generator (tests/support/newspage.py) against the project's extraction.

A generated page must come out of :func:`pipeline.extract.extract_document` as exactly its paragraphs,
with its title, date and URL as metadata and none of the boilerplate around them; it must weigh what it
was asked to; and two seeds must give different pages with the same article text.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.extract import extract_document
from pipeline.types import Document
from tests.support.newspage import DEFAULT_SIZE_KB, NewsPageBoilerplate, news_page_html, page_boilerplate
from tests.support.siteserver import paragraphs_about

TITLE = "Second contingent of officers lands in the capital"
URL = "http://127.0.0.1:8000/news/00042.html"
PUBLISHED = datetime(2025, 3, 4, 14, 5, tzinfo=UTC)
SITE = "Loopback News"
SEED = 42
PARAGRAPHS = paragraphs_about("the Kenya-led mission in Haiti", 9, seed=SEED)


def _page(seed: int = SEED, paragraphs: list[str] = PARAGRAPHS, size_kb: float = DEFAULT_SIZE_KB) -> str:
    return news_page_html(
        title=TITLE,
        paragraphs=paragraphs,
        published=PUBLISHED,
        canonical=URL,
        site_name=SITE,
        seed=seed,
        size_kb=size_kb,
    )


def _extract(page: str) -> Document:
    document = extract_document(page.encode("utf-8"), URL)
    assert document is not None
    return document


@pytest.fixture(scope="module")
def document() -> Document:
    return _extract(_page())


@pytest.fixture(scope="module")
def boilerplate() -> NewsPageBoilerplate:
    return page_boilerplate(site_name=SITE, seed=SEED)


def test_article_text_and_metadata_are_kept(document: Document) -> None:
    for paragraph in PARAGRAPHS:
        assert paragraph in document.text
    assert document.title == TITLE  # the headline is metadata; extract_document drops it from the text
    assert document.published == PUBLISHED
    assert document.published_precision == "datetime"
    assert document.canonical_url == URL
    assert document.publisher == SITE
    assert document.language == "en"
    assert not document.paywalled


def test_nothing_but_the_paragraphs(document: Document) -> None:
    assert document.text.splitlines() == PARAGRAPHS


def _leftovers(text: str, strings: list[str]) -> list[str]:
    """Which of `strings` survive in `text`: whole lines for short labels, substrings for longer ones."""
    lines = set(text.splitlines())
    return [s for s in strings if s in lines or (len(s.split()) >= 3 and s in text)]


@pytest.mark.parametrize(
    "kind",
    [
        "nav_labels",
        "footer_labels",
        "ticker",
        "related_titles",
        "most_read",
        "comments",
        "cookie",
        "newsletter",
        "share_bar",
        "also_read",
        "author_box",
        "legal",
    ],
)
def test_boilerplate_is_dropped(document: Document, boilerplate: NewsPageBoilerplate, kind: str) -> None:
    bp = boilerplate
    strings = {
        "nav_labels": list(bp.nav_labels),
        "footer_labels": list(bp.footer_labels),
        "ticker": list(bp.ticker),
        "related_titles": [*bp.related_titles, "More on this story"],
        "most_read": [*bp.most_read, "Most read"],
        "comments": [c.text for c in bp.comments] + [c.author for c in bp.comments] + ["Reply"],
        "cookie": [bp.cookie_text, *bp.cookie_buttons, "use cookies", "Your privacy choices"],
        "newsletter": [*bp.newsletter_texts, "Sign up", "in your inbox"],
        "share_bar": [*bp.share_labels, "Share this article"],
        "also_read": [bp.also_read_line, bp.also_read_title, "Also read"],
        "author_box": [bp.author_bio, f"More from {bp.author}", f"By {bp.author}"],
        "legal": ["All rights reserved", "Media Group Limited", "Advertisement", "Breaking"],
    }[kind]
    assert strings
    assert _leftovers(document.text, strings) == []
    for marker in ("Also read", "cookies", "newsletter", "inbox", "WhatsApp", "Comments"):
        assert marker not in document.text


def test_boilerplate_appears_on_the_page(boilerplate: NewsPageBoilerplate) -> None:
    """The checks above mean something only if the page really carries that text."""
    import html

    page = html.unescape(_page())
    samples = [
        *boilerplate.nav_labels[:5],
        *boilerplate.related_titles,
        *boilerplate.most_read,
        *(c.text for c in boilerplate.comments),
        boilerplate.cookie_text,
        *boilerplate.newsletter_texts,
        *boilerplate.share_labels,
        boilerplate.also_read_title,
        boilerplate.author_bio,
        *boilerplate.footer_labels[-3:],
    ]
    assert [s for s in samples if s not in page] == []
    assert "<strong>Also read:</strong>" in _page()
    assert 100 <= len(boilerplate.nav_labels) <= 150
    assert 60 <= len(boilerplate.footer_labels) <= 100
    assert len(boilerplate.related_titles) == 8
    assert len(boilerplate.most_read) == 10


@pytest.mark.parametrize("size_kb", [DEFAULT_SIZE_KB, 100, 400, 1000])
def test_page_size_follows_size_kb(size_kb: float) -> None:
    size = len(_page(size_kb=size_kb).encode("utf-8")) / 1024
    assert size == pytest.approx(size_kb, rel=0.2)


def test_heavier_page_keeps_the_same_text() -> None:
    assert _extract(_page(size_kb=600)).text.splitlines() == PARAGRAPHS


def test_seeds_change_the_page_not_the_article() -> None:
    one, two = _page(seed=1), _page(seed=2)
    assert one != two
    assert one == _page(seed=1), "deterministic"
    first, second = page_boilerplate(site_name=SITE, seed=1), page_boilerplate(site_name=SITE, seed=2)
    assert set(first.related_titles).isdisjoint(second.related_titles)
    assert first.comments != second.comments
    assert first.nav_labels == second.nav_labels, "site-wide boilerplate is shared"
    assert _extract(one).text == _extract(two).text == "\n".join(PARAGRAPHS)


def test_short_article_drops_the_newsletter_pitch() -> None:
    paragraphs = paragraphs_about("the Kenya-led mission in Haiti", 1, seed=SEED)
    assert _extract(_page(paragraphs=paragraphs)).text.splitlines() == paragraphs
