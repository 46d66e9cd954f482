"""Replay WARC archives through the real crawler: same spiders, middlewares and pipeline, no network.

A download handler answers every http/https request from the archive index, so robots.txt,
redirects, retries, the spiders' callbacks and the item pipeline all run exactly as in a live crawl.

Each snapshot (one crawl's archive files) is replayed in the order given:

1. The start sources come from the snapshot's root records (``Factwatch-Source-Kind``); an archive
   without them (written by another tool) starts from the feeds and sitemaps it holds.
2. A second crawl pass requests every archived HTML page the first pass did not ask for (an article
   the live crawl revisited on its own schedule, or one whose feed entry has since disappeared), through
   a sitemap the handler makes up for them. Every archived page therefore goes through the same path.

A request the archive cannot answer raises ``NotInArchiveError`` and is listed in the report: a gap is
never silent. robots.txt missing from an archive is answered 404 (allow all), as a site without one
would, and is not a gap. A URL missing from the current snapshot but present in an earlier one is
served from there (the site had not changed it, as far as we know) and counted as ``stale``.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes

from crawler.warcindex import (
    ArchivedEntry,
    ArchivedPayload,
    ArchiveError,
    WarcSnapshot,
    open_snapshots,
    url_key,
)

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from config.models import AppConfig
    from crawler.config import SourceConfig

logger = logging.getLogger(__name__)

SESSION_SETTING = "FACTWATCH_REPLAY_SESSION"
HANDLER_PATH = "crawler.replay.WarcDownloadHandler"
# The second pass's made-up sitemaps live on a host of their own (RFC 2606 reserves .invalid), so no
# archived robots.txt can forbid them and no archived URL can collide with them.
SYNTHETIC_BASE = "http://second-pass.factwatch-replay.invalid/"
SOURCE_KINDS = ("feed", "sitemap", "listing")

__all__ = [
    "HANDLER_PATH",
    "SESSION_SETTING",
    "ArchiveError",
    "ArchivedFailureError",
    "NotInArchiveError",
    "ReplayReport",
    "ReplaySession",
    "WarcDownloadHandler",
    "replay",
    "replay_blocking",
    "replay_settings",
]


class NotInArchiveError(Exception):
    """The replayed crawl asked for a URL no given archive holds."""


class ArchivedFailureError(Exception):
    """The live crawl's download of this URL failed; replay fails it the same way."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    flags: tuple[str, ...] = ("replay",)


@dataclass
class ReplaySession:
    """What the download handlers of one replay share: the snapshots and what has been served.

    Within a snapshot, the n-th request for a URL gets the n-th archived response for it (the last one
    once they run out), which reproduces retries (500, then 200) and revisits in archive order.
    """

    snapshots: list[WarcSnapshot]
    current: int = 0
    requests: int = 0
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    orphan_304s: list[str] = field(default_factory=list)  # archived 304s with no earlier 200 to stand for
    served: set[tuple[Path, int]] = field(default_factory=set)
    _cursors: dict[tuple[int, str], int] = field(default_factory=dict)
    _synthetic: dict[str, bytes] = field(default_factory=dict)

    def __deepcopy__(self, memo: dict[int, Any]) -> ReplaySession:
        # Scrapy deep-copies settings per crawler; every handler must see this one object.
        return self

    @property
    def snapshot(self) -> WarcSnapshot:
        return self.snapshots[self.current]

    def add_synthetic(self, url: str, body: bytes) -> None:
        self._synthetic[url_key(url)] = body

    def answer(self, url: str, headers: Headers | None = None) -> Answer:
        """The archived answer to a GET of ``url``; raises for a gap or an archived failure."""
        self.requests += 1
        key = url_key(url)
        synthetic = self._synthetic.get(key)
        if synthetic is not None:
            return Answer(200, [("Content-Type", "application/xml")], synthetic, ("replay", "synthetic"))
        picked = self._pick(key, url)
        if picked is None:
            if urlsplit(url).path == "/robots.txt":
                return Answer(404, [("Content-Type", "text/plain")], b"", ("replay", "no-robots"))
            self.missing.append(url)
            raise NotInArchiveError(f"not in the archive: {url}")
        entry, snapshot = picked
        if entry.record_type == "failure":
            reason = entry.error or "download failed"
            self.failures.append((url, reason))
            raise ArchivedFailureError(f"archived failure: {reason}")
        payload = self._payload(entry, snapshot, url)
        payload = self._resolve_not_modified(entry, payload, snapshot, headers)
        return self._conditional(payload, headers)

    def _pick(self, key: str, url: str) -> tuple[ArchivedEntry, WarcSnapshot] | None:
        entries = self.snapshot.lookup(url)
        if entries:
            cursor = self._cursors.get((self.current, key), 0)
            self._cursors[(self.current, key)] = cursor + 1
            entry = entries[min(cursor, len(entries) - 1)]
            self.served.add((entry.archive, entry.offset))
            return entry, self.snapshot
        for earlier in reversed(self.snapshots[: self.current]):
            entries = earlier.lookup(url)
            if entries:
                self.stale.append(url)
                usable = [e for e in entries if e.status == 200] or entries
                return usable[-1], earlier
        return None

    def _payload(self, entry: ArchivedEntry, snapshot: WarcSnapshot, url: str) -> ArchivedPayload:
        payload = snapshot.read(entry)
        if entry.record_type != "revisit" or payload.status == 304:
            return payload
        original = self._revisited(entry)
        if original is None:
            self.missing.append(url)
            raise NotInArchiveError(f"revisit record for {url} refers to a response not in the archives")
        body = original[1].read(original[0]).body
        return ArchivedPayload(payload.status, payload.reason, payload.headers, body)

    def _revisited(self, entry: ArchivedEntry) -> tuple[ArchivedEntry, WarcSnapshot] | None:
        for snapshot in reversed(self.snapshots[: self.current + 1]):
            if entry.refers_to_uri:
                for candidate in reversed(snapshot.lookup(entry.refers_to_uri)):
                    if candidate.record_type == "response" and (
                        not entry.refers_to_date or candidate.warc_date == entry.refers_to_date
                    ):
                        return candidate, snapshot
            if entry.payload_digest:
                found = snapshot.by_digest(entry.payload_digest)
                if found is not None:
                    return found, snapshot
        return None

    def _resolve_not_modified(
        self,
        entry: ArchivedEntry,
        payload: ArchivedPayload,
        snapshot: WarcSnapshot,
        headers: Headers | None,
    ) -> ArchivedPayload:
        """An archived 304 answers an unconditional request with the last 200 archived before it.

        A server only sends 304 to a conditional request; replaying into a store that lacks the
        validator (a fresh database, say) must still see the document the 304 stood for.
        """
        if payload.status != 304 or (_is_conditional(headers) and _validators_agree(payload, headers)):
            return payload
        candidates = [
            e for e in snapshot.lookup(entry.url) if e.sequence < entry.sequence and e.status == 200
        ]
        source = snapshot
        if not candidates:
            index = self.snapshots.index(snapshot)
            for earlier in reversed(self.snapshots[:index]):
                candidates = [e for e in earlier.lookup(entry.url) if e.status == 200]
                if candidates:
                    source = earlier
                    break
        if not candidates:
            self.orphan_304s.append(entry.url)
            return payload
        full = source.read(candidates[-1])
        return ArchivedPayload(200, full.reason, full.headers, full.body)

    @staticmethod
    def _conditional(payload: ArchivedPayload, headers: Headers | None) -> Answer:
        """Answer 304 when the request's If-None-Match names the archived ETag, as the server would."""
        if payload.status == 200 and headers is not None:
            wanted = headers.get(b"If-None-Match")
            etag = next((v for n, v in payload.headers if n.lower() == "etag"), None)
            if wanted and etag:
                tags = [tag.strip() for tag in wanted.decode("latin-1").split(",")]
                if etag in tags or "*" in tags:
                    kept = [
                        (n, v)
                        for n, v in payload.headers
                        if n.lower() not in ("content-length", "content-type")
                    ]
                    return Answer(304, kept, b"", ("replay", "not-modified"))
        return Answer(payload.status, payload.headers, payload.body)

    def unrequested_pages(self) -> list[ArchivedEntry]:
        """Archived 200 HTML responses of the current snapshot that no request has been served yet."""
        return [
            entry
            for entry in self.snapshot.entries
            if entry.record_type == "response"
            and entry.status == 200
            and entry.is_html
            and (entry.archive, entry.offset) not in self.served
        ]


def _validators_agree(payload: ArchivedPayload, headers: Headers | None) -> bool:
    """Whether an archived 304 answers this request's validator (unknown counts as yes).

    A replay store can hold another ETag than the live crawl's store did (archives replayed out of
    order, or only some of them); a 304 meant for the other ETag must not hide the document.
    """
    etag = next((v for n, v in payload.headers if n.lower() == "etag"), None)
    wanted = headers.get(b"If-None-Match") if headers is not None else None
    if not etag or not wanted:
        return True
    tags = [tag.strip() for tag in wanted.decode("latin-1").split(",")]
    return etag in tags or "*" in tags


def _is_conditional(headers: Headers | None) -> bool:
    return headers is not None and bool(headers.get(b"If-None-Match") or headers.get(b"If-Modified-Since"))


class WarcDownloadHandler(BaseDownloadHandler):
    """Scrapy download handler (2.19 interface) serving http/https from a ``ReplaySession``.

    Enable with ``DOWNLOAD_HANDLERS = {"http": HANDLER_PATH, "https": HANDLER_PATH}`` and the session
    object in the ``FACTWATCH_REPLAY_SESSION`` setting (``replay_settings()`` builds both).
    """

    lazy = False

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        session = crawler.settings.get(SESSION_SETTING)
        if not isinstance(session, ReplaySession):
            raise NotConfigured(f"{SESSION_SETTING} must hold a ReplaySession")
        self.session = session

    async def download_request(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            self.session.missing.append(f"{request.method} {request.url}")
            raise NotInArchiveError(f"only GET is archived, not {request.method} {request.url}")
        try:
            answer = self.session.answer(request.url, request.headers)
        except ArchiveError as exc:  # the file changed or vanished since it was scanned
            self.session.failures.append((request.url, str(exc)))
            raise
        grouped: dict[str, list[str]] = {}
        for name, value in answer.headers:
            grouped.setdefault(name, []).append(value)
        headers = Headers(grouped)
        body = b"" if request.method == "HEAD" else answer.body
        respcls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        return respcls(
            url=request.url,
            status=answer.status,
            headers=headers,
            body=body,
            flags=list(answer.flags),
            request=request,
            protocol="HTTP/1.1",
        )

    async def close(self) -> None:
        return None


def replay_settings(session: ReplaySession) -> dict[str, Any]:
    """Scrapy settings that turn a crawl into a replay of ``session``.

    No archiving (replay must not archive itself), no HTTP cache (the archive is the cache), no
    politeness delays (there is no server to be polite to), and no retries: a retried 5xx would only
    meet the same archived answer, while the archived success after it is picked up by the second pass.
    """
    return {
        "DOWNLOAD_HANDLERS": {"http": HANDLER_PATH, "https": HANDLER_PATH},
        SESSION_SETTING: session,
        "FACTWATCH_ARCHIVE_DIR": None,
        "HTTPCACHE_ENABLED": False,
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "DOWNLOAD_DELAY_JITTER": 0.0,
        "DOWNLOAD_SLOTS": {},
        "RETRY_ENABLED": False,
        "CONCURRENT_REQUESTS": 32,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
    }


@dataclass
class SnapshotResult:
    name: str
    records: int
    sources: list[str]
    pages: int = 0
    second_pass: int = 0  # pages requested by the second pass


@dataclass
class ReplayReport:
    """What a replay did; ``missing`` lists every request the archives could not answer."""

    archives: list[str] = field(default_factory=list)
    snapshots: list[SnapshotResult] = field(default_factory=list)
    records: int = 0
    pages: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    missing: list[str] = field(default_factory=list)
    stale: int = 0
    orphan_304s: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    damage: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No gaps and no damage: the archives answered everything the replay asked."""
        return not self.missing and not self.damage

    def as_json(self) -> dict[str, Any]:
        return {
            "archives": self.archives,
            "snapshots": [
                {
                    "name": s.name,
                    "records": s.records,
                    "sources": s.sources,
                    "pages": s.pages,
                    "second_pass": s.second_pass,
                }
                for s in self.snapshots
            ],
            "records": self.records,
            "pages": self.pages,
            "outcomes": dict(sorted(self.outcomes.items())),
            "missing": self.missing,
            "stale": self.stale,
            "orphan_304s": self.orphan_304s,
            "errors": [{"url": url, "reason": reason} for url, reason in self.errors],
            "damage": self.damage,
        }

    def summary(self) -> str:
        lines = [
            f"replayed {len(self.archives)} archive file(s) as {len(self.snapshots)} snapshot(s): "
            f"{self.records} records, {self.pages} pages processed"
        ]
        for snap in self.snapshots:
            sources = ", ".join(snap.sources) or "no root records"
            lines.append(f"  {snap.name}: {snap.pages} pages ({snap.second_pass} in the second pass)")
            lines.append(f"    sources: {sources}")
        if self.outcomes:
            lines.append("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())))
        if self.stale:
            lines.append(f"{self.stale} request(s) answered from an earlier archive")
        if self.orphan_304s:
            lines.append(
                f"{len(self.orphan_304s)} archived 304 answer(s) had no earlier copy in these archives "
                "(replay the earlier archives first): " + ", ".join(self.orphan_304s[:5])
            )
        if self.errors:
            lines.append(f"{len(self.errors)} error(s):")
            lines.extend(f"  {url}: {reason}" for url, reason in self.errors[:20])
            if len(self.errors) > 20:
                lines.append(f"  … and {len(self.errors) - 20} more")
        if self.missing:
            lines.append(f"{len(self.missing)} request(s) missing from the archives:")
            lines.extend(f"  {url}" for url in self.missing[:50])
            if len(self.missing) > 50:
                lines.append(f"  … and {len(self.missing) - 50} more")
        for damage in self.damage:
            lines.append(f"damaged archive: {damage}")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(self.as_json(), ensure_ascii=False)


def _source_config(**fields: Any) -> SourceConfig:
    from crawler.config import SourceConfig

    return SourceConfig(**fields)


def _host(url: str) -> str:
    return urlsplit(url).hostname or "unknown"


def start_sources(snapshot: WarcSnapshot, config: AppConfig) -> list[SourceConfig]:
    """The sources a snapshot's crawl started from, with their configured rules when the name is known.

    A root the config does not name becomes a source like ``factwatch run --source URL`` makes: no
    domain or keyword filter, since whatever filtered the live crawl, its archive holds the result.
    """
    configured = {source.name: source for source in config.sources}
    found: dict[str, SourceConfig] = {}
    seen_urls: set[str] = set()
    for entry in snapshot.roots():
        # A redirect or a 304 of a root already found, or (named roots) a child sitemap of one.
        if entry.key in seen_urls or (entry.source and entry.source in found):
            continue
        seen_urls.add(entry.key)
        if entry.is_redirect and entry.location:
            seen_urls.add(url_key(urljoin(entry.url, entry.location)))
        kind = entry.source_kind if entry.source_kind in SOURCE_KINDS else "auto"
        name = entry.source or _unique(f"{_host(entry.url)} {kind}", found)
        if name in configured:
            found[name] = configured[name].model_copy(
                update={"url": entry.url, "kind": kind, "enabled": True}
            )
        else:
            extra: dict[str, Any] = {}
            if kind == "listing":
                extra["allow"] = [_archived_links_pattern(snapshot, entry)]
            found[name] = _source_config(name=name, url=entry.url, kind=kind, **extra)
    if found:
        return list(found.values())
    return _sniffed_sources(snapshot)


def _archived_links_pattern(snapshot: WarcSnapshot, root: ArchivedEntry) -> str:
    """Link rule for a listing root the config does not know: follow exactly what the live crawl fetched.

    The crawler that wrote the archive chose which links of the page to follow by rules we cannot see
    (another tool, or a source since removed from the config); following every navigation link would
    report each one as a gap. The URLs it did fetch on that host are its rules, as observed.
    """
    host = _host(root.url)
    urls = sorted(
        {e.url.split("#")[0] for e in snapshot.entries if _host(e.url) == host and e.key != root.key}
    )
    if not urls:
        return r"(?!)"  # matches nothing: the live crawl followed no link from this page
    return "^(?:" + "|".join(re.escape(url) for url in urls) + ")(?:#.*)?$"


def _unique(name: str, taken: dict[str, Any]) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name} {number}" in taken:
        number += 1
    return f"{name} {number}"


def _sniffed_sources(snapshot: WarcSnapshot) -> list[SourceConfig]:
    """Feeds and sitemaps of an archive without root records, found by content type and first bytes."""
    sources: list[SourceConfig] = []
    seen: set[str] = set()
    for entry in snapshot.entries:
        if entry.record_type != "response" or entry.status != 200 or entry.key in seen:
            continue
        ctype = entry.content_type.lower()
        if not any(marker in ctype for marker in ("xml", "rss", "atom")):
            continue
        try:
            head = snapshot.peek(entry).lstrip().lower()
        except ArchiveError as exc:
            logger.warning("%s", exc)
            continue
        if b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head:
            kind = "feed"
        elif b"<urlset" in head or b"<sitemapindex" in head:
            kind = "sitemap"
        else:
            continue
        seen.add(entry.key)
        host = _host(entry.url)
        sources.append(_source_config(name=f"{host} {kind} {len(sources) + 1}", url=entry.url, kind=kind))
    return sources


def second_pass_sources(
    session: ReplaySession, config: AppConfig, pages: list[ArchivedEntry], round_number: int
) -> list[SourceConfig]:
    """One made-up sitemap per source, listing the pages the first pass did not request."""
    configured = {source.name: source for source in config.sources}
    # <lastmod> = now tells the spider these pages changed since it last saw them, so it fetches pages
    # the store already knows (an edited version the live crawl revisited) and the processor decides.
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    groups: dict[str, list[ArchivedEntry]] = {}
    for entry in pages:
        groups.setdefault(entry.origin or entry.source or _host(entry.url), []).append(entry)
    sources: list[SourceConfig] = []
    for number, (name, entries) in enumerate(groups.items()):
        url = f"{SYNTHETIC_BASE}{round_number}-{number}.xml"
        locs = "".join(
            f"<url><loc>{html.escape(e.url)}</loc><lastmod>{stamp}</lastmod></url>"
            for e in _unique_urls(entries)
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>\n'
        ).encode()
        session.add_synthetic(url, body)
        hosts = sorted({_host(e.url) for e in entries})
        if name in configured:
            base = configured[name]
            domains = sorted(set(base.allowed_domains) | set(hosts)) if base.allowed_domains else []
            sources.append(
                base.model_copy(
                    update={"url": url, "kind": "sitemap", "allowed_domains": domains, "enabled": True}
                )
            )
        else:
            sources.append(_source_config(name=name, url=url, kind="sitemap", allowed_domains=hosts))
    return sources


def _unique_urls(entries: list[ArchivedEntry]) -> list[ArchivedEntry]:
    seen: set[str] = set()
    unique = []
    for entry in entries:
        if entry.key not in seen:
            seen.add(entry.key)
            unique.append(entry)
    return unique


def _absorb(report: ReplayReport, crawl_report: Any) -> int:
    pages = int(getattr(crawl_report, "pages", 0))
    report.pages += pages
    report.outcomes.update(getattr(crawl_report, "outcomes", Counter()))
    report.errors.extend(getattr(crawl_report, "errors", []))
    return pages


async def replay(
    archives: Sequence[str | Path],
    *,
    config: AppConfig,
    processor: Any,
    store: Any,
    partial: bool = False,
    snapshots: list[WarcSnapshot] | None = None,
) -> ReplayReport:
    """Replay archives in order, one snapshot (one crawl) at a time, through ``crawler.runner.crawl``.

    Every archive is scanned before anything is processed: unless ``partial``, a missing, truncated
    or corrupt file raises ``ArchiveError`` with the store untouched. Pass ``snapshots`` (from
    ``open_snapshots``) when the caller has scanned the archives already.
    """
    from crawler.runner import crawl

    if snapshots is None:
        snapshots = open_snapshots(archives, partial=partial)
    session = ReplaySession(snapshots)
    report = ReplayReport(
        archives=[str(path) for snapshot in snapshots for path in snapshot.paths],
        records=sum(snapshot.records for snapshot in snapshots),
        damage=[str(damage) for snapshot in snapshots for damage in snapshot.damage],
    )
    settings = replay_settings(session)
    try:
        for index, snapshot in enumerate(snapshots):
            session.current = index
            sources = start_sources(snapshot, config)
            result = SnapshotResult(snapshot.name, snapshot.records, [s.name for s in sources])
            report.snapshots.append(result)
            logger.info("replaying %s from %d source(s)", snapshot.name, len(sources))
            if sources:
                first = await crawl(
                    config=config, processor=processor, store=store, sources=sources, extra_settings=settings
                )
                result.pages += _absorb(report, first)
            pending = session.unrequested_pages()
            if pending:
                logger.info("replaying %d archived pages the crawl did not request", len(pending))
                extra = second_pass_sources(session, config, pending, index)
                second = await crawl(
                    config=config,
                    processor=processor,
                    store=store,
                    sources=extra,
                    extra_settings=settings,
                )
                result.second_pass = _absorb(report, second)
                result.pages += result.second_pass
    finally:
        for snapshot in snapshots:
            snapshot.close()
    report.missing = list(dict.fromkeys(session.missing))
    report.stale = len(session.stale)
    report.orphan_304s = list(dict.fromkeys(session.orphan_304s))
    known = {url for url, _ in report.errors}
    report.errors.extend((url, reason) for url, reason in session.failures if url not in known)
    report.errors = [(url, reason) for url, reason in report.errors if url not in set(report.missing)]
    return report


def replay_blocking(
    archives: Sequence[str | Path],
    *,
    config: AppConfig,
    processor: Any,
    store: Any,
    partial: bool = False,
    snapshots: list[WarcSnapshot] | None = None,
) -> ReplayReport:
    """``replay`` for the one-shot CLI: installs the asyncio reactor, runs the replay, stops.

    Like ``crawler.runner.crawl_blocking``, this works once per process: a Twisted reactor cannot
    be restarted. Long-lived callers (the daemon, tests that replay twice) await ``replay`` instead.
    """
    from crawler.runner import run_once_in_reactor

    return run_once_in_reactor(
        lambda: replay(
            archives, config=config, processor=processor, store=store, partial=partial, snapshots=snapshots
        ),
        "replay_blocking",
    )
