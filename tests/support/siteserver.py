"""A loopback news site whose pages tests can change between crawls.

Crawler tests need a server that answers like a real site (ETag, Last-Modified, 304, robots.txt) and one
that misbehaves on purpose (wrong content types, huge bodies, redirect loops, errors, slow answers), with a
log of every request so a test can prove what was or was not downloaded.

    with SiteServer() as site:
        site.add_article("/news/a1.html", title="...", paragraphs=[...], published=dt)
        site.add_feed("/feed.xml", ["/news/a1.html"])
        ...crawl site.url("/feed.xml")...
        assert site.hits("/news/a1.html") == 1
"""

from __future__ import annotations

import hashlib
import html
import logging
import random
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"


@dataclass
class Route:
    """What one path answers. `body` may be bytes or a callable producing bytes per request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds to wait before answering (slow responses)
    conditional: bool = True  # answer 304 to a matching If-None-Match / If-Modified-Since
    last_modified: datetime | None = None
    chunked: bool = False  # stream without Content-Length (for size limits that must abort mid-body)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    headers: dict[str, str]
    status: int
    time: float

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._safely(send_body=True)

    def do_HEAD(self) -> None:
        self._safely(send_body=False)

    def _safely(self, *, send_body: bool) -> None:
        try:
            self._answer(send_body=send_body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up on purpose (size limits, timeouts, early aborts); nothing to do.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        logger.debug("siteserver: %s", format % args)

    def _answer(self, *, send_body: bool) -> None:
        site = self.server.site
        path = self.path
        route = site.route_for(path)
        if route is None:
            route = Route(
                status=404, headers={"Content-Type": HTML}, body=b"<html><body>not found</body></html>"
            )
        if route.delay:
            time.sleep(route.delay)
        status = route.status
        if route.conditional and status == 200 and self._not_modified(route):
            status = 304
        site.record(LoggedRequest(self.command, path, dict(self.headers.items()), status, time.time()))
        self.send_response(status)
        headers = {"Content-Type": HTML, **route.headers}
        if route.conditional and route.status == 200:
            headers.setdefault("ETag", route.etag)
            if route.last_modified is not None:
                headers.setdefault("Last-Modified", format_datetime(route.last_modified, usegmt=True))
        body = b"" if status == 304 else route.body
        for name, value in headers.items():
            if status == 304 and name.lower() in ("content-type", "content-length"):
                continue
            self.send_header(name, value)
        if status == 304:
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if route.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if send_body:
                self._send_chunked(body)
            return
        if "content-length" not in {name.lower() for name in headers}:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up on purpose (size limits); nothing to do.
                self.close_connection = True

    def _send_chunked(self, body: bytes) -> None:
        try:
            for start in range(0, len(body), 65536):
                chunk = body[start : start + 65536]
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _not_modified(self, route: Route) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return route.etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match == "*"
        if_modified_since = self.headers.get("If-Modified-Since")
        if if_modified_since and route.last_modified is not None:
            try:
                since = parsedate_to_datetime(if_modified_since)
            except (TypeError, ValueError):
                return False
            return route.last_modified.replace(microsecond=0) <= since
        return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    site: SiteServer


class SiteServer:
    """A threaded HTTP server on 127.0.0.1 with an ephemeral port, serving `routes` (path -> Route)."""

    def __init__(self, *, robots: str | None = "User-agent: *\nDisallow:\n") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        if robots is not None:
            self.set_robots(robots)

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> SiteServer:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.site = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="siteserver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("SiteServer is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    # -- routes ----------------------------------------------------------------------------------------

    def route_for(self, raw_path: str) -> Route | None:
        with self._lock:
            route = self.routes.get(raw_path)
            if route is None:
                route = self.routes.get(urlsplit(raw_path).path)
            return route

    def set(
        self,
        path: str,
        body: bytes | str,
        *,
        status: int = 200,
        content_type: str | None = HTML,
        headers: dict[str, str] | None = None,
        last_modified: datetime | None = None,
        delay: float = 0.0,
        conditional: bool = True,
        chunked: bool = False,
    ) -> Route:
        """Serve `body` at `path` (replacing what was there); its ETag follows the body."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        all_headers = dict(headers or {})
        if content_type is not None:
            all_headers.setdefault("Content-Type", content_type)
        route = Route(
            status=status,
            headers=all_headers,
            body=data,
            delay=delay,
            conditional=conditional,
            last_modified=last_modified,
            chunked=chunked,
        )
        with self._lock:
            self.routes[path] = route
        return route

    def remove(self, path: str) -> None:
        with self._lock:
            self.routes.pop(path, None)

    def set_robots(self, text: str) -> None:
        self.set("/robots.txt", text, content_type="text/plain; charset=utf-8")

    # -- request log -----------------------------------------------------------------------------------

    def record(self, request: LoggedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def log(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self.requests)

    def hits(self, path: str, *, status: int | None = None) -> int:
        """How many GET requests reached `path` (answered with `status`, if given)."""
        return sum(
            1
            for request in self.log()
            if request.method == "GET"
            and urlsplit(request.path).path == path
            and (status is None or request.status == status)
        )

    def requested_paths(self) -> list[str]:
        return [urlsplit(request.path).path for request in self.log() if request.method == "GET"]

    # -- a news site -----------------------------------------------------------------------------------

    def add_article(
        self,
        path: str,
        *,
        title: str,
        paragraphs: Sequence[str],
        published: datetime | None = None,
        canonical: str | None = None,
        last_modified: datetime | None = None,
    ) -> Route:
        return self.set(
            path,
            article_html(title=title, paragraphs=paragraphs, published=published, canonical=canonical),
            last_modified=last_modified,
        )

    def add_feed(
        self,
        path: str,
        items: Iterable[FeedItem],
        *,
        title: str = "Loopback News",
        atom: bool = False,
        last_modified: datetime | None = None,
    ) -> Route:
        body = (
            atom_feed(self.base_url, items, title=title)
            if atom
            else rss_feed(self.base_url, items, title=title)
        )
        return self.set(
            path,
            body,
            content_type="application/atom+xml" if atom else "application/rss+xml",
            last_modified=last_modified,
        )

    def add_news_sitemap(
        self, path: str, items: Iterable[FeedItem], *, last_modified: datetime | None = None
    ) -> Route:
        return self.set(
            path,
            news_sitemap(self.base_url, items),
            content_type="application/xml",
            last_modified=last_modified,
        )

    def add_sitemap_index(self, path: str, sitemaps: Iterable[str]) -> Route:
        return self.set(path, sitemap_index(self.base_url, sitemaps), content_type="application/xml")

    def add_listing(self, path: str, links: Iterable[str], *, title: str = "Latest news") -> Route:
        return self.set(path, listing_html(links, title=title))

    # -- misbehaving URLs ------------------------------------------------------------------------------

    def add_non_html(self, path: str, content_type: str = "application/pdf") -> Route:
        return self.set(path, b"%PDF-1.4 not an article\n" * 20, content_type=content_type)

    def add_oversized(self, path: str, size: int, *, declare_length: bool = True) -> Route:
        """An HTML page of `size` bytes; without a declared length the client must abort mid-stream."""
        filler = b"<p>" + b"x" * 1000 + b"</p>\n"
        body = b"<html><body>" + filler * (size // len(filler) + 1) + b"</body></html>"
        return self.set(path, body, chunked=not declare_length)

    def add_broken_encoding(self, path: str) -> Route:
        """Declares UTF-8 but sends bytes that are not valid in any UTF text encoding."""
        junk = bytes(range(0x80, 0x100)) * 40
        body = b"<html><head><meta charset='utf-8'><title>\xff\xfe\xfa</title></head><body><p>" + junk
        body += b"</p></body></html>"
        return self.set(path, body, content_type="text/html; charset=utf-8")

    def add_redirect_loop(self, path: str, other: str | None = None) -> None:
        """`path` redirects to `other`, which redirects back to `path`."""
        partner = other or path + "-loop"
        self.set(path, b"", status=302, headers={"Location": partner}, conditional=False)
        self.set(partner, b"", status=302, headers={"Location": path}, conditional=False)

    def add_redirect(self, path: str, target: str, status: int = 301) -> Route:
        return self.set(path, b"", status=status, headers={"Location": target}, conditional=False)

    def add_status(self, path: str, status: int) -> Route:
        body = f"<html><body><h1>{status}</h1></body></html>"
        return self.set(path, body, status=status, conditional=False)

    def add_slow(self, path: str, delay: float, body: bytes | str | None = None) -> Route:
        content = body if body is not None else article_html(title="Slow page", paragraphs=["Waited."])
        return self.set(path, content, delay=delay)

    def add_paywall(self, path: str, *, title: str = "Subscribers only") -> Route:
        body = f"""<!doctype html><html><head><title>{html.escape(title)}</title></head><body>
<header><nav><a href="/">Home</a></nav></header>
<article><h1>{html.escape(title)}</h1>
<div class="paywall"><p>Subscribe to continue reading.</p><p>Already a subscriber? Log in.</p></div>
</article></body></html>"""
        return self.set(path, body)

    def add_empty(self, path: str) -> Route:
        return self.set(path, "<!doctype html><html><head><title></title></head><body></body></html>")


# -- page builders ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed or news sitemap; `path` is relative to the site root."""

    path: str
    title: str
    published: datetime | None = None
    summary: str = ""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def article_html(
    *,
    title: str,
    paragraphs: Sequence[str],
    published: datetime | None = None,
    canonical: str | None = None,
    site_name: str = "Loopback News",
) -> str:
    meta = [f'<meta property="og:site_name" content="{html.escape(site_name)}">']
    if published is not None:
        meta.append(f'<meta property="article:published_time" content="{_iso(published)}">')
    if canonical is not None:
        meta.append(f'<link rel="canonical" href="{html.escape(canonical)}">')
    body = "\n".join(f"<p>{html.escape(text)}</p>" for text in paragraphs)
    dateline = f"<time datetime='{_iso(published)}'>{published:%d %B %Y}</time>" if published else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
{chr(10).join(meta)}
</head><body>
<header><nav><a href="/">Home</a> <a href="/world/">World</a></nav></header>
<main><article><h1>{html.escape(title)}</h1>{dateline}
{body}
</article></main>
<footer><p>Loopback News, a fixture for tests.</p></footer>
</body></html>"""


def listing_html(links: Iterable[str], *, title: str = "Latest news") -> str:
    items = "\n".join(f'<li><a href="{html.escape(link)}">{html.escape(link)}</a></li>' for link in links)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title></head>
<body><h1>{html.escape(title)}</h1><ul>
{items}
</ul></body></html>"""


def rss_feed(base_url: str, items: Iterable[FeedItem], *, title: str = "Loopback News") -> str:
    entries = []
    for item in items:
        pub = f"<pubDate>{format_datetime(item.published, usegmt=True)}</pubDate>" if item.published else ""
        entries.append(
            f"<item><title>{html.escape(item.title)}</title><link>{html.escape(base_url + item.path)}</link>"
            f"<guid>{html.escape(base_url + item.path)}</guid>{pub}"
            f"<description>{html.escape(item.summary)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{html.escape(title)}</title><link>{html.escape(base_url)}/</link>"
        f"<description>fixture</description>{''.join(entries)}</channel></rss>"
    )


def atom_feed(base_url: str, items: Iterable[FeedItem], *, title: str = "Loopback News") -> str:
    entries = []
    for item in items:
        updated = f"<updated>{_iso(item.published)}</updated>" if item.published else ""
        entries.append(
            f"<entry><title>{html.escape(item.title)}</title>"
            f'<link rel="alternate" href="{html.escape(base_url + item.path)}"/>'
            f"<id>{html.escape(base_url + item.path)}</id>{updated}</entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{html.escape(title)}</title><id>{html.escape(base_url)}/</id>{''.join(entries)}</feed>"
    )


def news_sitemap(base_url: str, items: Iterable[FeedItem], *, publication: str = "Loopback News") -> str:
    entries = []
    for item in items:
        date_tag = (
            f"<news:publication_date>{_iso(item.published)}</news:publication_date>" if item.published else ""
        )
        entries.append(
            f"<url><loc>{html.escape(base_url + item.path)}</loc><news:news><news:publication>"
            f"<news:name>{html.escape(publication)}</news:name><news:language>en</news:language>"
            f"</news:publication>{date_tag}<news:title>{html.escape(item.title)}</news:title>"
            "</news:news></url>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + "".join(entries) + "</urlset>"
    )


def sitemap_index(base_url: str, sitemaps: Iterable[str]) -> str:
    entries = "".join(f"<sitemap><loc>{html.escape(base_url + path)}</loc></sitemap>" for path in sitemaps)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'
    )


_SUBJECTS = [
    "The mission commander",
    "A police spokesperson",
    "The transition council",
    "Local officials",
    "Aid workers",
    "The foreign ministry",
    "Community leaders",
    "A United Nations envoy",
    "Residents of the district",
    "The national police",
    "Hospital staff",
    "Port authorities",
]
_VERBS = [
    "reported",
    "confirmed",
    "announced",
    "said",
    "noted",
    "explained",
    "described",
    "added",
    "warned",
    "estimated",
    "acknowledged",
    "stressed",
]
_OBJECTS = [
    "new patrols near the port",
    "a shortage of fuel",
    "the reopening of two schools",
    "fresh clashes on the northern road",
    "the arrival of supply flights",
    "a curfew in the capital",
    "funding gaps for the coming quarter",
    "repairs to the main bridge",
    "talks with armed groups",
    "a vaccination drive in the suburbs",
    "the return of displaced families",
    "armoured vehicles",
    "training for local recruits",
    "new checkpoints on the coast road",
    "a budget review",
]
_PLACES = [
    "Port-au-Prince",
    "Nairobi",
    "Cap-Haitien",
    "Jacmel",
    "Les Cayes",
    "Gonaives",
    "Mombasa",
    "Petion-Ville",
    "Croix-des-Bouquets",
    "Saint-Marc",
    "Kisumu",
    "Miragoane",
]
_TAILS = [
    "before the weekend",
    "after a long delay",
    "despite heavy rain",
    "under close watch",
    "with little warning",
    "as planned",
    "ahead of the council meeting",
    "for the third time this month",
]


def paragraphs_about(topic: str, count: int = 5, *, seed: int = 0) -> list[str]:
    """Distinct, article-like paragraphs (seeded) so extraction keeps them and dedup tells pages apart."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        sentences = []
        for _ in range(3):
            sentences.append(
                f"{rng.choice(_SUBJECTS)} in {rng.choice(_PLACES)} {rng.choice(_VERBS)} "
                f"{rng.choice(_OBJECTS)} {rng.choice(_TAILS)}, citing figure {rng.randint(10, 99999)}."
            )
        if index == 0:
            sentences.insert(0, f"This dispatch concerns {topic} (report {seed}).")
        out.append(" ".join(sentences))
    return out


def now_utc() -> datetime:
    return datetime.now(UTC)
