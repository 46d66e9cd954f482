"""The one spider: walks every configured source (feed, sitemap, listing) and fetches new articles.

One spider for all sources (rather than one per kind) keeps one scheduler and one set of per-host slots,
so two sources on the same site still share that site's politeness limits, and an `auto` source can turn
into whichever kind its response shows.

Incremental rules, all decided from the store:
- roots (feeds, sitemaps, listings) are requested conditionally; a 304 ends that source's work at once;
- a listed article already seen is skipped unless the source gives it a newer date than we stored;
- articles due for a revisit (age-based schedule) are fetched again, conditionally.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler.config import SourceConfig
from crawler.context import (
    META_DEPTH,
    META_ENTRY,
    META_ORIGIN,
    META_REVISIT,
    META_ROLE,
    META_SOURCE,
    META_SOURCE_KIND,
    META_VALIDATORS,
    CrawlContext,
)
from crawler.failures import classify
from crawler.items import PageItem
from crawler.spiders.entries import Entry, host_allowed
from crawler.spiders.feed import parse_feed
from crawler.spiders.listing import listing_entries
from crawler.spiders.sitemap import parse_sitemap
from crawler.spiders.xmlutil import XmlError, maybe_gunzip
from crawler.state import HUB_OUTCOME, UrlState
from pipeline.types import FetchedPage
from pipeline.urls import normalize_url

logger = logging.getLogger(__name__)

ROOT_PRIORITY = 100  # feeds before articles, so new entries are known early
SITEMAP_PRIORITY = 50


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _mentions(title: str | None, keywords: Iterable[str]) -> bool:
    words = [k.lower() for k in keywords]
    if not words or not title:
        return True
    low = title.lower()
    return any(word in low for word in words)


class NewsSpider(Spider):
    name = "factwatch"

    def __init__(self, *args: Any, context: CrawlContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context = context
        self._scheduled: set[str] = set()

    # -- start -----------------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        ctx = self.context
        names = list(ctx.sources)
        roots = await asyncio.to_thread(ctx.state.lookup, [s.url for s in ctx.sources.values()])
        for source in ctx.sources.values():
            # Claimed, so a listing page linking back to itself is not fetched again as an article.
            self._scheduled.add(normalize_url(source.url))
            yield self._root_request(source, roots.get(normalize_url(source.url)))
        due = await asyncio.to_thread(ctx.state.due_revisits, names)
        for state in due:
            owner = ctx.source(state.source)
            if owner is None or state.url in self._scheduled:
                continue
            self._scheduled.add(state.url)
            ctx.count(revisits=1)
            entry = Entry(url=state.url, published=state.published)
            yield self._article_request(entry, owner, depth=1, state=state, revisit=True)

    def _root_request(self, source: SourceConfig, state: UrlState | None) -> Request:
        meta: dict[str, Any] = {
            META_SOURCE: source.name,
            META_SOURCE_KIND: source.kind,
            META_ORIGIN: source.name,
            META_ROLE: "root",
            "handle_httpstatus_list": [304],
        }
        if state is not None and (state.etag or state.last_modified):
            meta[META_VALIDATORS] = (state.etag, state.last_modified)
        return Request(
            source.url,
            callback=self.parse_root,
            errback=self.failed,
            meta=meta,
            priority=ROOT_PRIORITY,
            dont_filter=True,
        )

    def _article_request(
        self, entry: Entry, source: SourceConfig, *, depth: int, state: UrlState | None, revisit: bool = False
    ) -> Request:
        meta: dict[str, Any] = {
            META_ORIGIN: source.name,
            META_ROLE: "article",
            META_ENTRY: entry,
            META_DEPTH: depth,
            META_REVISIT: revisit,
            "handle_httpstatus_list": [304],
        }
        if state is not None and (state.etag or state.last_modified):
            meta[META_VALIDATORS] = (state.etag, state.last_modified)
        return Request(
            entry.url, callback=self.parse_article, errback=self.failed, meta=meta, dont_filter=True
        )

    # -- roots -----------------------------------------------------------------------------------------

    async def parse_root(self, response: Response) -> AsyncIterator[Any]:
        ctx = self.context
        source = ctx.source(response.meta.get(META_ORIGIN))
        run = ctx.run(response.meta.get(META_ORIGIN))
        if source is None or run is None:
            return
        run.fetched = True
        kind = response.meta.get(META_SOURCE_KIND)
        if kind != "auto":
            run.kind = kind
        if response.status == 304:
            run.not_modified = True
            ctx.count(not_modified=1)
            logger.debug("%s not modified", response.url)
            return
        if kind not in ("feed", "sitemap", "listing"):
            self._root_failed(
                source,
                response.url,
                "unknown-kind",
                "could not tell whether this is a feed, a sitemap or a page",
                response.status,
            )
            return
        async for request in self._parse_kind(response, source, kind, role=kind):
            yield request

    def _remember_root(self, source: SourceConfig, response: Response, *, role: str) -> None:
        # Keyed by the URL we asked for (before redirects): that is what the next crawl looks up.
        asked = (response.meta.get("redirect_urls") or [response.url])[0]
        self.context.pending_roots[asked] = {
            "source": source.name,
            "role": role,
            "status": response.status,
            "etag": _header(response, b"ETag"),
            "last_modified": _header(response, b"Last-Modified"),
        }

    async def _parse_kind(
        self, response: Response, source: SourceConfig, kind: str, *, role: str
    ) -> AsyncIterator[Any]:
        """Entries of a root or child sitemap; validators are kept only once it parsed, so a broken
        feed is not later excused by a 304."""
        ctx = self.context
        try:
            if kind == "feed":
                entries = parse_feed(response.body, response.url)
            elif kind == "sitemap":
                body = maybe_gunzip(response.body, ctx.config.crawl.max_body_bytes)
                sitemap = parse_sitemap(body, response.url)
                if sitemap.kind == "index":
                    self._remember_root(source, response, role=role)
                    for request in await self._child_sitemaps(sitemap.entries, source):
                        yield request
                    return
                entries = sitemap.entries
            else:
                if not isinstance(response, TextResponse):
                    raise XmlError("listing page is not text")
                entries = listing_entries(
                    response, allow=source.allow, deny=source.deny, allowed_domains=source.allowed_domains
                )
        except XmlError as exc:
            self._root_failed(
                source, response.url, "unparseable", f"cannot read {kind}: {exc}", response.status
            )
            return
        ctx.count_source(source.name, entries=len(entries))
        if not entries:
            self._root_failed(
                source, response.url, "no-entries", f"{kind} lists no articles", response.status
            )
            return
        self._remember_root(source, response, role=role)
        for request in await self._article_requests(entries, source, depth=1):
            yield request

    async def _child_sitemaps(self, entries: list[Entry], source: SourceConfig) -> list[Request]:
        states = await asyncio.to_thread(self.context.state.lookup, [e.url for e in entries])
        requests = []
        for entry in entries:
            key = normalize_url(entry.url)
            if key in self._scheduled:
                continue
            self._scheduled.add(key)
            state = states.get(key)
            meta: dict[str, Any] = {
                META_ORIGIN: source.name,
                META_ROLE: "sitemap",
                "handle_httpstatus_list": [304],
            }
            if state is not None and (state.etag or state.last_modified):
                meta[META_VALIDATORS] = (state.etag, state.last_modified)
            requests.append(
                Request(
                    entry.url,
                    callback=self.parse_child_sitemap,
                    errback=self.failed,
                    meta=meta,
                    priority=SITEMAP_PRIORITY,
                    dont_filter=True,
                )
            )
        return requests

    async def parse_child_sitemap(self, response: Response) -> AsyncIterator[Any]:
        ctx = self.context
        source = ctx.source(response.meta.get(META_ORIGIN))
        if source is None:
            return
        if response.status == 304:
            ctx.count(not_modified=1)
            return
        async for request in self._parse_kind(response, source, "sitemap", role="sitemap"):
            yield request

    # -- articles --------------------------------------------------------------------------------------

    async def _article_requests(
        self, entries: list[Entry], source: SourceConfig, *, depth: int
    ) -> list[Request]:
        ctx = self.context
        wanted: dict[str, Entry] = {}
        for entry in entries:
            if not entry.url.startswith(("http://", "https://")):
                continue
            if not host_allowed(entry.url, source.allowed_domains) or not _mentions(
                entry.title, source.keywords
            ):
                ctx.count(skipped_filtered=1)
                continue
            key = normalize_url(entry.url)
            if key in self._scheduled:
                continue
            # Claimed before the store lookup below yields, so a feed and a sitemap listing the same
            # article concurrently cannot both request it.
            self._scheduled.add(key)
            wanted[key] = entry
        if not wanted:
            return []
        states = await asyncio.to_thread(ctx.state.lookup, wanted)
        unknown = [wanted[key].url for key in wanted if key not in states]
        held = await asyncio.to_thread(ctx.processor.known_urls, unknown) if unknown else set()
        remember = []
        requests = []
        for key, entry in wanted.items():
            state = states.get(key)
            if state is None and entry.url in held:
                remember.append((entry.url, source.name, entry.changed_at, entry.published))
                ctx.count(skipped_known=1)
                continue
            # Hubs (listing pages inside a listing) are asked again each crawl, conditionally, for new links.
            hub = state is not None and state.last_outcome == HUB_OUTCOME
            if state is not None and state.settled and not hub and not state.changed_since(entry.changed_at):
                ctx.count(skipped_known=1)
                continue
            requests.append(self._article_request(entry, source, depth=depth, state=state))
        if remember:
            await asyncio.to_thread(ctx.state.remember, remember)
        ctx.count_source(source.name, requested=len(requests))
        return requests

    async def parse_article(self, response: Response) -> AsyncIterator[Any]:
        ctx = self.context
        meta = response.meta
        source = ctx.source(meta.get(META_ORIGIN))
        entry: Entry = meta[META_ENTRY]
        revisit = bool(meta.get(META_REVISIT))
        if source is None:
            return
        if response.status == 304:
            ctx.count(not_modified=1)
            await asyncio.to_thread(
                ctx.state.record_fetch,
                url=entry.url,
                source=source.name,
                role="article",
                outcome="not-modified",
                status=304,
                source_lastmod=entry.changed_at,
                revisit=revisit,
            )
            return
        final_url = response.url if normalize_url(response.url) != normalize_url(entry.url) else None
        headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
        page = FetchedPage(
            url=entry.url,
            status=response.status,
            body=response.body,
            headers=headers,
            fetched_at=datetime.now(UTC),
            source=source.name,
            hint_title=entry.title,
            hint_published=entry.published,
            final_url=final_url,
        )
        depth = int(meta.get(META_DEPTH, 1))
        follow = (
            source.kind in ("listing", "auto") and depth < source.depth and isinstance(response, TextResponse)
        )
        yield PageItem(
            page=page,
            source=source.name,
            url=entry.url,
            depth=depth,
            revisit=revisit,
            source_lastmod=entry.changed_at,
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            hub=follow,
        )
        if follow and isinstance(response, TextResponse):
            entries = listing_entries(
                response, allow=source.allow, deny=source.deny, allowed_domains=source.allowed_domains
            )
            for request in await self._article_requests(entries, source, depth=depth + 1):
                yield request

    # -- failures --------------------------------------------------------------------------------------

    def failed(self, failure: Failure) -> None:
        """Errback of every request: record the bad response, never raise."""
        request: Request | None = getattr(failure, "request", None)
        if request is None:
            logger.warning("request failed without a request: %s", failure.getErrorMessage())
            return
        ctx = self.context
        problem = classify(failure.value or Exception(failure.getErrorMessage()))
        name = request.meta.get(META_ORIGIN)
        source = ctx.source(name)
        role = request.meta.get(META_ROLE)
        if role in ("root", "sitemap") and source is not None:
            self._root_failed(
                source, request.url, problem.kind, problem.reason, problem.status, child=role == "sitemap"
            )
            return
        entry: Entry | None = request.meta.get(META_ENTRY)
        # The URL as listed, not where redirects ended, so the record matches the feed.
        listed = entry.url if entry is not None else request.url
        ctx.record_bad(
            url=listed, source=name, kind=problem.kind, reason=problem.reason, status=problem.status
        )
        if entry is not None:
            try:
                ctx.state.record_fetch(
                    url=entry.url,
                    source=name,
                    role="article",
                    status=problem.status,
                    outcome="error" if problem.transient else "bad",
                    source_lastmod=None if problem.transient else entry.changed_at,
                    revisit=bool(request.meta.get(META_REVISIT)),
                )
            except Exception:
                logger.exception("could not record the failure of %s", request.url)

    def _root_failed(
        self,
        source: SourceConfig,
        url: str,
        kind: str,
        reason: str,
        status: int | None,
        *,
        child: bool = False,
    ) -> None:
        ctx = self.context
        run = ctx.run(source.name)
        if run is not None and not child:
            run.error = reason
        elif run is not None and run.error is None:
            run.error = f"sitemap {url}: {reason}"
        ctx.record_bad(url=url, source=source.name, kind=kind, reason=reason, status=status)

    def closed(self, reason: str) -> None:
        self.context.report.close_reason = reason
