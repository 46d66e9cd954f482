"""Incremental crawling at scale on loopback: a first crawl of 2,000 articles, then a repeat crawl.

Prints the repeat crawl's wall time as a ratio to the first crawl's (target <= 0.10, with zero article
downloads) and the first crawl's pages per second as a ratio to bare trafilatura extraction of the same
pages in this process (target >= 0.8). The site is served from a child process so the server does not
compete with the crawler for this interpreter's GIL.

Pages are realistic news pages (tests/support/newspage.py: head full of meta and inline script, mega-menu,
teasers, comments, footer) of --page-kb KiB each, by default the median of the real pages in
../shared/corpus/html; `--page-kb 0` serves the old tiny pages (siteserver.article_html, ~2.5 KB) so the
earlier figure can still be measured.

    .venv/bin/python bench/incremental.py [--articles 2000] [--page-kb 207]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# This file is named like Twisted's `incremental` dependency: keep bench/ off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO))

from tests.support.newspage import DEFAULT_SIZE_KB, news_page_html  # noqa: E402
from tests.support.siteserver import FeedItem, SiteServer, article_html, paragraphs_about  # noqa: E402

logger = logging.getLogger("bench.incremental")

TOPIC = "the Kenya-led mission in Haiti"
START = datetime(2025, 1, 1, tzinfo=UTC)
PER_SITEMAP = 500


def build_site(count: int, page_kb: float, base_url: str) -> tuple[dict[str, bytes], list[FeedItem]]:
    """The site's article pages by path, and their feed items.

    `page_kb` 0: the old tiny pages (six paragraphs, no boilerplate). Otherwise realistic news pages of
    about `page_kb` KiB with 8-10 paragraphs, their canonical URL on `base_url`.
    """
    pages: dict[str, bytes] = {}
    items = []
    for number in range(count):
        path = f"/news/{number:05d}.html"
        published = START + timedelta(hours=number)
        title = f"Mission dispatch {number}"
        if page_kb <= 0:
            body = article_html(
                title=title, paragraphs=paragraphs_about(TOPIC, 6, seed=number), published=published
            )
        else:
            body = news_page_html(
                title=title,
                paragraphs=paragraphs_about(TOPIC, 8 + number % 3, seed=number),
                published=published,
                canonical=base_url + path,
                site_name="Loopback News",
                seed=number,
                size_kb=page_kb,
            )
        pages[path] = body.encode("utf-8")
        items.append(FeedItem(path, title, published))
    return pages, items


def serve(count: int, page_kb: float, port_out: Any, stop: Any) -> None:
    with SiteServer() as site:
        pages, items = build_site(count, page_kb, site.base_url)
        for path, body in pages.items():
            site.set(path, body)
        site.add_feed("/feed.xml", items[-50:])
        chunks = [items[i : i + PER_SITEMAP] for i in range(0, len(items), PER_SITEMAP)]
        for index, chunk in enumerate(chunks):
            site.add_news_sitemap(f"/sitemaps/news-{index}.xml", chunk)
        site.add_sitemap_index("/sitemap.xml", [f"/sitemaps/news-{i}.xml" for i in range(len(chunks))])
        port_out.send(site.port)
        stop.wait()


def processor_alone(pages: dict[str, bytes], base: str, workdir: Path, sample: int = 300) -> float:
    """Pages per second of Processor.process_page called serially (no crawler), for diagnosis."""
    from config.models import AppConfig
    from pipeline.process import Processor
    from pipeline.store import Store
    from pipeline.types import FetchedPage

    config = AppConfig.model_validate({"topic": {"name": "haiti-mss", "keywords": ["Haiti", "mission"]}})
    store = Store.open(f"sqlite:///{workdir / 'alone.db'}")
    processor = Processor(store, config)
    chosen = list(pages.items())[:sample]
    started = time.perf_counter()
    for path, body in chosen:
        processor.process_page(
            FetchedPage(url=base + path, status=200, body=body, headers={"Content-Type": "text/html"})
        )
    elapsed = time.perf_counter() - started
    store.close()
    return len(chosen) / elapsed


def bare_extraction(pages: dict[str, bytes]) -> float:
    """Seconds for trafilatura alone to extract every page, one after another."""
    import trafilatura

    started = time.perf_counter()
    for body in pages.values():
        trafilatura.extract(body.decode("utf-8"), include_comments=False)
    return time.perf_counter() - started


NOOP = "--noop" in sys.argv


class _Noop:
    """Accepts every page without work: measures the crawler's own cost (--noop)."""

    def process_page(self, page: Any) -> Any:
        from types import SimpleNamespace

        return SimpleNamespace(url=page.url, status="new", reason="", article_id=None)

    def known_urls(self, urls: Any) -> set[str]:
        return set()


async def crawls(base: str, workdir: Path) -> tuple[Any, Any]:
    from config.models import AppConfig
    from crawler.runner import crawl
    from pipeline.process import Processor
    from pipeline.store import Store

    # Politeness per source: loopback can take 32 requests in flight and no delay.
    loopback = {"concurrency": 32, "download_delay": 0}
    config = AppConfig.model_validate(
        {
            "topic": {"name": "haiti-mss", "keywords": ["Haiti", "mission"]},
            "sources": [
                {"name": "feed", "url": base + "/feed.xml", "kind": "feed", **loopback},
                {"name": "sitemap", "url": base + "/sitemap.xml", "kind": "sitemap", **loopback},
            ],
            "crawl": {"concurrent_requests": 64, "download_delay": 0, "autothrottle": False},
        }
    )
    store = Store.open(f"sqlite:///{workdir / 'bench.db'}")
    processor: Any = Processor(store, config) if not NOOP else _Noop()
    try:
        first = await crawl(config=config, processor=processor, store=store)
        repeat = await crawl(config=config, processor=processor, store=store)
    finally:
        store.close()
    return first, repeat


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument(
        "--page-kb",
        type=float,
        default=DEFAULT_SIZE_KB,
        help=f"weight of each article page in KiB (default {DEFAULT_SIZE_KB}, the real corpus median); "
        "0 serves the old tiny pages",
    )
    parser.add_argument(
        "--noop", action="store_true", help="a processor that does nothing (crawler cost only)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    stop = context.Event()
    server = context.Process(target=serve, args=(args.articles, args.page_kb, send, stop), daemon=True)
    server.start()
    port = receive.recv()
    base = f"http://127.0.0.1:{port}"

    from scrapy.utils.defer import deferred_from_coro
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    from twisted.internet import reactor as installed

    reactor: Any = installed
    outcome: dict[str, Any] = {}

    async def run() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                outcome["reports"] = await crawls(base, Path(tmp))
            except BaseException as exc:
                outcome["error"] = exc

    deferred = deferred_from_coro(run())
    deferred.addBoth(lambda _: reactor.callLater(0, reactor.stop))
    reactor.run(installSignalHandlers=False)
    stop.set()
    server.join(timeout=10)
    if "error" in outcome:
        raise outcome["error"]
    first, repeat = outcome["reports"]

    pages, _ = build_site(args.articles, args.page_kb, base)
    with tempfile.TemporaryDirectory() as tmp:
        alone_rate = processor_alone(pages, base, Path(tmp)) if not NOOP else float("nan")
    bare_seconds = bare_extraction(pages)
    bare_rate = len(pages) / bare_seconds
    crawl_rate = first.pages / first.seconds
    mean_kb = sum(len(body) for body in pages.values()) / len(pages) / 1024
    kind = "tiny article_html pages" if args.page_kb <= 0 else f"news pages, --page-kb {args.page_kb:g}"
    print(f"site: {len(pages)} articles, mean page {mean_kb:.1f} KiB ({kind})")
    print(
        f"first crawl: {first.pages} pages in {first.seconds:.2f}s ({crawl_rate:.1f}/s), "
        f"outcomes {dict(first.outcomes)}, errors {len(first.errors)}"
    )
    print(
        f"repeat crawl: {repeat.seconds:.3f}s, {repeat.article_downloads} article downloads, "
        f"{repeat.not_modified} not modified"
    )
    print(f"bare trafilatura: {len(pages)} pages in {bare_seconds:.2f}s ({bare_rate:.1f}/s)")
    print(
        f"Processor.process_page alone, serially: {alone_rate:.1f}/s "
        f"(crawl throughput / processor alone = {crawl_rate / alone_rate:.2f})"
    )
    print(
        f"repeat_ratio {repeat.seconds / first.seconds:.3f} article_downloads {repeat.article_downloads} "
        f"throughput_ratio {crawl_rate / bare_rate:.2f}"
    )


if __name__ == "__main__":
    main()
