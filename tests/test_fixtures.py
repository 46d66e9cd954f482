"""The fixture archives are what the end-to-end tests believe they are.

Every other suite trusts ``tests/fixtures/*.warc.gz`` and ``expected.yaml`` blindly, so this file checks
them: the archives match their sources byte for byte, every record is valid WARC, the pages carry the
furniture the cleaning code must strip, and every evidence sentence in the contract really is on its page.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import pytest
import yaml
from lxml import html as lxml_html
from warcio.archiveiterator import ArchiveIterator

from tests.support.fixtures import FACT_NAMES, archive_builder

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEEDS = Path(__file__).resolve().parents[1] / ".." / "shared" / "seeds"
MAX_ARCHIVE_BYTES = 200_000


builder = archive_builder()
ARCHIVES: list[str] = builder.archive_names()
EXPECTED: dict[str, Any] = yaml.safe_load((FIXTURES / "expected.yaml").read_text(encoding="utf-8"))


class Record(NamedTuple):
    kind: str  # WARC-Type
    warc: Any  # warcio StatusAndHeaders of the WARC record
    http: Any  # warcio StatusAndHeaders of the HTTP message, None for warcinfo
    body: bytes


@functools.cache
def _records(name: str) -> tuple[Record, ...]:
    """Every record of one committed archive, read once, with digest checking switched on."""
    with (FIXTURES / name).open("rb") as stream:
        return tuple(
            Record(record.rec_type, record.rec_headers, record.http_headers, record.content_stream().read())
            for record in ArchiveIterator(stream, check_digests="raise")
        )


def _responses(name: str) -> Iterator[tuple[str, Any, Any, bytes]]:
    for record in _records(name):
        if record.kind == "response":
            yield record.warc.get_header("WARC-Target-URI"), record.warc, record.http, record.body


def _page(name: str, url: str) -> bytes:
    for target, _, http_headers, body in _responses(name):
        if target == url and http_headers.get_statuscode() == "200":
            return body
    raise AssertionError(f"{url} is not a 200 response in {name}")


def _text(body: bytes) -> str:
    tree = lxml_html.fromstring(body)
    for node in tree.xpath("//script|//style"):
        node.drop_tree()
    return re.sub(r"\s+", " ", tree.text_content())


def _is_article(url: str, body: bytes) -> bool:
    return b'property="og:type" content="article"' in body and "?" not in url


# --------------------------------------------------------------------------- reproducibility


def test_committed_archives_match_their_sources(tmp_path: Path) -> None:
    """A fresh build, in another process at another time, gives the committed bytes: sources and
    archives agree, and nothing in the build depends on the clock or the machine."""
    built = builder.build_all(tmp_path)
    assert sorted(path.name for path in built) == sorted(ARCHIVES)
    stale = [path.name for path in built if path.read_bytes() != (FIXTURES / path.name).read_bytes()]
    assert not stale, f"rebuild with: python tests/fixtures/build_archives.py (stale: {stale})"


@pytest.mark.parametrize("name", ARCHIVES)
def test_archive_is_small(name: str) -> None:
    assert (FIXTURES / name).stat().st_size < MAX_ARCHIVE_BYTES


# --------------------------------------------------------------------------- WARC structure


@pytest.mark.parametrize("name", ARCHIVES)
def test_every_record_parses_and_requests_precede_responses(name: str) -> None:
    records = _records(name)
    assert records[0].kind == "warcinfo"
    pairs = records[1:]
    assert pairs and len(pairs) % 2 == 0
    for request, response in zip(pairs[::2], pairs[1::2], strict=True):
        assert (request.kind, response.kind) == ("request", "response")
        assert request.warc.get_header("WARC-Concurrent-To") == response.warc.get_header("WARC-Record-ID")
        assert request.warc.get_header("WARC-Target-URI") == response.warc.get_header("WARC-Target-URI")
        target = urlsplit(request.warc.get_header("WARC-Target-URI"))
        path = target.path + (f"?{target.query}" if target.query else "")
        assert (request.http.protocol, request.http.statusline) == ("GET", f"{path} HTTP/1.1")
        assert request.http.get_header("Host") == target.netloc
        assert response.http.protocol == "HTTP/1.1"
        assert "charset=" in response.http.get_header("Content-Type")
        assert response.http.get_header("Date")
        assert int(response.http.get_header("Content-Length")) == len(response.body)
        if response.http.get_statuscode() == "200":
            assert response.http.get_header("Last-Modified") and response.http.get_header("ETag")


def test_record_ids_are_unique_across_archives() -> None:
    seen: dict[str, str] = {}
    for name in ARCHIVES:
        for record in _records(name):
            record_id = record.warc.get_header("WARC-Record-ID")
            assert record_id not in seen, f"{record_id} in {name} and {seen.get(record_id)}"
            seen[record_id] = name


@pytest.mark.parametrize("name", ARCHIVES)
def test_fetch_times_increase_within_an_archive(name: str) -> None:
    dates = [headers.get_header("WARC-Date") for _, headers, _, _ in _responses(name)]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)


def test_snapshots_are_in_order() -> None:
    last_2024 = max(h.get_header("WARC-Date") for _, h, _, _ in _responses("portledger-2024.warc.gz"))
    first_2025 = min(h.get_header("WARC-Date") for _, h, _, _ in _responses("portledger-2025.warc.gz"))
    assert last_2024 < first_2025


def test_crawl_roots_are_marked() -> None:
    kinds: dict[str, dict[str, str]] = {}
    for name in ARCHIVES:
        kinds[name] = {
            url: headers.get_header(builder.SOURCE_KIND_HEADER)
            for url, headers, _, _ in _responses(name)
            if headers.get_header(builder.SOURCE_KIND_HEADER)
        }
    for snapshot in ("portledger-2024.warc.gz", "portledger-2025.warc.gz"):
        assert kinds[snapshot] == {
            "https://portledger.example/feed.xml": "feed",
            "https://portledger.example/news-sitemap.xml": "sitemap",
            "https://portledger.example/haiti/": "listing",
        }
    assert set(kinds["wire-copies.warc.gz"].values()) == {"feed", "sitemap", "listing"}
    assert kinds["edited-v2.warc.gz"] == {}


def _root_links(kind: str, body: bytes, host: str) -> set[str]:
    if kind == "feed":
        links = re.findall(rb"<link>([^<]+)</link>", body)
    elif kind == "sitemap":
        links = re.findall(rb"<loc>([^<]+)</loc>", body)
    else:
        links = [href.encode() for href in lxml_html.fromstring(body).xpath("//a/@href")]
    urls = {link.decode().strip() for link in links}
    return {url for url in urls if urlsplit(url).hostname == host and re.search(r"/20\d\d", url)}


@pytest.mark.parametrize("name", ARCHIVES)
def test_every_url_a_root_links_to_is_in_the_same_archive(name: str) -> None:
    responses = list(_responses(name))
    fetched = {url for url, _, _, _ in responses}
    for url, headers, _, body in responses:
        kind = headers.get_header(builder.SOURCE_KIND_HEADER)
        if kind:
            missing = _root_links(kind, body, urlsplit(url).hostname or "") - fetched
            assert not missing, f"{url} links to pages missing from {name}: {missing}"


def test_2025_snapshot_has_a_redirect_and_a_not_found() -> None:
    by_status = {
        url: (http.get_statuscode(), http.get_header("Location"))
        for url, _, http, _ in _responses("portledger-2025.warc.gz")
    }
    old = "https://portledger.example/haiti/2025/04/10/mss-needs-helicopters/"
    new = "https://portledger.example/haiti/2025/04/10/mission-commander-asks-for-air-support/"
    assert by_status[old] == ("301", new)
    assert by_status[new][0] == "200"
    assert by_status["https://portledger.example/haiti/2025/08/20/in-pictures-a-day-on-patrol/"][0] == "404"


# --------------------------------------------------------------------------- page furniture

PORT_LEDGER_ARTICLES = sorted(
    (name, url)
    for name in ("portledger-2024.warc.gz", "portledger-2025.warc.gz")
    for url, _, http, body in _responses(name)
    if http.get_statuscode() == "200" and _is_article(url, body)
)


def test_port_ledger_has_enough_articles() -> None:
    assert len(PORT_LEDGER_ARTICLES) >= 12


@pytest.mark.parametrize(("name", "url"), PORT_LEDGER_ARTICLES)
def test_port_ledger_article_has_its_furniture(name: str, url: str) -> None:
    body = _page(name, url)
    tree = lxml_html.fromstring(body)
    text = _text(body)
    assert tree.xpath("//nav[contains(@class, 'main-nav')]//a"), "navigation menu"
    assert tree.xpath("//*[@id='cookie-banner']"), "cookie banner"
    for label in ("Share on X", "WhatsApp", "Copy link"):
        assert label in text
    assert tree.xpath("//section[contains(@class, 'newsletter-signup')]//form"), "newsletter signup"
    assert tree.xpath("//section[@id='comments']"), "comments"
    assert tree.xpath("//footer[contains(@class, 'site-footer')]"), "footer"
    assert tree.xpath("//figure/figcaption"), "photo with caption"
    assert tree.xpath("//link[@rel='canonical']/@href") == [url]
    published = tree.xpath("//meta[@property='article:published_time']/@content")
    assert len(published) == 1
    (ld_json,) = tree.xpath("//script[@type='application/ld+json']/text()")
    data = json.loads(ld_json)
    assert data["@type"] == "NewsArticle"
    assert data["datePublished"] == published[0]
    assert data["headline"] and data["author"][0]["name"] and data["publisher"]["name"] == "The Port Ledger"
    paywalled = bool(tree.xpath("//*[contains(@class, 'paywall--hard')]"))
    if paywalled:
        assert len(" ".join(tree.xpath("//div[@class='story__body']//text()")).split()) < 40
    else:
        assert tree.xpath("//aside[contains(@class, 'paywall-prompt')]"), "subscription prompt"
        assert tree.xpath("//div[@class='story__body']//p[contains(., 'Also read:')]"), "Also read in body"


def test_other_sites_pages_declare_canonical_and_publication_time() -> None:
    for url, _, http, body in _responses("wire-copies.warc.gz"):
        if http.get_statuscode() != "200" or b'og:type" content="article"' not in body:
            continue
        tree = lxml_html.fromstring(body)
        (canonical,) = tree.xpath("//link[@rel='canonical']/@href")
        assert canonical == url.split("?")[0]
        assert tree.xpath("//meta[@property='article:published_time']/@content")
        assert tree.xpath("//meta[@property='og:site_name']/@content")


def test_tracking_urls_serve_the_clean_page() -> None:
    clean = (
        "https://islanddaily.example/2024/07/17/on-the-airport-road-hope-and-doubt-greet-new-kenyan-officers/"
    )
    bodies = {url: body for url, _, _, body in _responses("wire-copies.warc.gz") if url.startswith(clean)}
    assert len(bodies) == 3
    assert any("fbclid=" in url for url in bodies) and any("utm_source=" in url for url in bodies)
    assert len(set(bodies.values())) == 1


def test_wire_copies_carry_the_agency_text() -> None:
    def paragraphs(url: str, body_class: str) -> list[str]:
        tree = lxml_html.fromstring(_page("wire-copies.warc.gz", url))
        return [
            re.sub(r"\s+", " ", p.text_content()).strip()
            for p in tree.xpath(f"//div[contains(@class, '{body_class}')]/p")
        ]

    clusters = {c["name"]: c for c in EXPECTED["duplicates"]["clusters"]}
    wire, herald, island = clusters["cws-second-kenyan-contingent"]["members"]
    story = paragraphs(wire, "story-text")
    assert len(story) == 9
    herald_text = paragraphs(herald, "article__body")
    assert herald_text[0].startswith("Editor's note") and herald_text[1:-1] == story
    assert paragraphs(island, "entry-content")[:-1] == story[:6]  # cut after six; WhatsApp line follows


def test_edited_article_has_two_versions() -> None:
    (version,) = EXPECTED["duplicates"]["versions"]
    v1 = _text(_page(version["v1"], version["url"]))
    v2 = _text(_page(version["v2"], version["url"]))
    assert "Kenya now has 400 police officers in Haiti." in v1 and "Update" not in v1
    assert (
        "Kenya now has 430 police officers in Haiti." in v2
        and "Update: This story was corrected on July 19." in v2
    )


# --------------------------------------------------------------------------- the contract


def _expected_pages() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for url, entry in EXPECTED["articles"].items():
        yield entry["archive"], url, entry
        if "version_2" in entry:
            yield entry["version_2"]["archive"], url, entry["version_2"]


_SMALL_NUMBERS = {2: "two", 6: "six"}


def _number_forms(value: int) -> set[str]:
    """How a journalist may write the value: 1,000 or 1000, 'two', '1 million' or '1.3 million'."""
    forms = {f"{value:,}", str(value)}
    if value in _SMALL_NUMBERS:
        forms.add(_SMALL_NUMBERS[value])
    if value >= 1_000_000:
        forms.add(f"{value / 1_000_000:g} million")
    return forms


@pytest.mark.parametrize(("name", "url", "entry"), list(_expected_pages()), ids=lambda v: str(v)[-40:])
def test_expected_sentences_are_on_their_pages(name: str, url: str, entry: dict[str, Any]) -> None:
    text = _text(_page(name, url))
    for fact in entry["facts"]:
        assert fact["fact"] in FACT_NAMES, fact
        assert fact["sentence"] in text, fact
        if isinstance(fact["value"], int):
            assert any(form in fact["sentence"] for form in _number_forms(fact["value"])), fact
        assert (fact["entity"] is not None) == (fact["fact"] == "contingents"), fact
    for trap in entry.get("not_facts", []):
        assert trap["sentence"] in text, trap
        assert set(trap["not"]) <= FACT_NAMES, trap


@pytest.mark.parametrize("url", list(EXPECTED["articles"]))
def test_expected_metadata_matches_the_page(url: str) -> None:
    entry = EXPECTED["articles"][url]
    tree = lxml_html.fromstring(_page(entry["archive"], url))
    assert tree.xpath("//meta[@property='og:site_name']/@content") == [entry["publisher"]]
    assert tree.xpath("//meta[@property='og:title']/@content") == [entry["title"]]
    assert tree.xpath("//meta[@property='article:published_time']/@content") == [entry["published"]]


def test_expected_covers_every_article_page() -> None:
    pages = {
        url.split("?")[0]
        for name in ARCHIVES
        for url, _, http, body in _responses(name)
        if http.get_statuscode() == "200" and b'og:type" content="article"' in body
    }
    assert pages == set(EXPECTED["articles"])


def test_replay_changes_follow_the_articles() -> None:
    """Each expected change is stated on its page, and old values chain into new ones."""
    current: dict[tuple[str, str | None], object] = {}
    for step in EXPECTED["replays"]["portledger"]["steps"]:
        for first in step["first"]:
            current[(first["fact"], first["entity"])] = first["value"]
        for change in step["changes"]:
            key = (change["fact"], change["entity"])
            assert current[key] == change["old"], change
            assert change["sentence"] in _text(_page(step["archive"], change["url"]))
            current[key] = change["new"]
        flat = {k: v for k, v in step["current"].items() if k != "contingents"}
        assert {fact: current[(fact, None)] for fact in flat} == flat
        assert {e: current[("contingents", e)] for e in step["current"]["contingents"]} == step["current"][
            "contingents"
        ]
    changes = [c for step in EXPECTED["replays"]["portledger"]["steps"] for c in step["changes"]]
    assert any(
        c["fact"] == "mandate_end" and (c["old"], c["new"]) == ("2024-10-02", "2025-10-02") for c in changes
    )


# --------------------------------------------------------------------------- own writing only


def _ngrams(text: str, n: int = 10) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower().replace("’", "'"))
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@pytest.mark.shared
def test_no_ten_word_run_from_the_seeds() -> None:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is absent")
    seed_grams: set[tuple[str, ...]] = set()
    for path in sorted(SEEDS.glob("*.txt")):
        seed_grams |= _ngrams(path.read_text(encoding="utf-8", errors="replace"))
    assert seed_grams, "no seed text found"
    sources = [p for p in sorted((FIXTURES / "sites").rglob("*")) if p.is_file()]
    sources.append(FIXTURES / "expected.yaml")
    for path in sources:
        overlap = _ngrams(path.read_text(encoding="utf-8")) & seed_grams
        assert not overlap, f"{path} repeats seed text: {' '.join(sorted(overlap)[0])}"
    for name in ARCHIVES:
        for url, _, _, body in _responses(name):
            overlap = _ngrams(_text(body) if body.lstrip().startswith(b"<") else body.decode()) & seed_grams
            assert not overlap, f"{url} in {name} repeats seed text"
