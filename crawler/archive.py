"""Archive every HTTP exchange of a crawl to rotating WARC files, so any run can be replayed.

The middleware sits next to the downloader (order ~950), so it sees each response before any other
middleware touches it: redirects before they are followed, 304s before the cache answers, robots.txt,
bodies still content-encoded as the server sent them. Downloads that fail (timeouts, refused
connections, oversized bodies) are archived as ``metadata`` records carrying ``Factwatch-Error``, so a
replay reproduces the failure instead of reporting a gap.

Files are written as ``factwatch-YYYYMMDDHHMMSS-NNNNN.warc.gz.open`` and renamed without ``.open``
once complete (after fsync), so a crash never leaves a half-written file that looks finished; the
timestamp is the crawl's start and every part begins with a ``warcinfo`` record naming the crawl
(``Factwatch-Crawl``), which is how replay groups the rotated parts of one crawl into one snapshot.
Compression and disk writes run on one background thread, so the reactor only copies bytes.
"""

from __future__ import annotations

import io
import logging
import os
import queue
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.warcindex import (
    HEADER_CRAWL,
    HEADER_ERROR,
    HEADER_ORIGIN,
    HEADER_SOURCE,
    HEADER_SOURCE_KIND,
    INFO_CRAWL,
    OPEN_SUFFIX,
)

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 100_000_000
FILE_PREFIX = "factwatch"
HEADER_FLAGS = "Factwatch-Flags"
META_SOURCE_KIND = "factwatch_source_kind"
META_SOURCE = "factwatch_source"
META_ORIGIN = "factwatch_origin"

# Bodies are stored de-chunked, so the header that says otherwise would mislead every reader.
_DROPPED_RESPONSE_HEADERS = frozenset({"transfer-encoding"})


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and what came back, copied out of Scrapy objects so a thread can write it."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int = 0
    response_headers: list[tuple[str, str]] | None = None
    body: bytes = b""
    protocol: str = "HTTP/1.1"
    ip_address: str | None = None
    source_kind: str | None = None
    source: str | None = None
    origin: str | None = None
    flags: tuple[str, ...] = ()
    error: str | None = None  # set for a failed download: no response records, one metadata record
    date: datetime | None = None


def _warc_date(moment: datetime | None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, values in headers.items():
        key = name.decode("latin-1") if isinstance(name, bytes) else str(name)
        for value in values:
            pairs.append((key, value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return pairs


class RotatingWarcWriter:
    """Writes exchanges to ``<dir>/factwatch-<start>-NNNNN.warc.gz``, starting a new part past max_bytes.

    Not thread-safe by itself; ``ArchiveThread`` serialises calls.
    """

    def __init__(
        self,
        directory: Path,
        max_bytes: int = DEFAULT_MAX_BYTES,
        *,
        crawl_id: str | None = None,
        started: datetime | None = None,
    ) -> None:
        self.directory = directory
        self.max_bytes = max(1, max_bytes)
        self.crawl_id = crawl_id or uuid.uuid4().hex
        self.stamp = (started or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%d%H%M%S")
        self.finished: list[Path] = []
        self.records = 0
        self._part = 0
        self._handle: IO[bytes] | None = None
        self._path: Path | None = None
        self._writer: WARCWriter | None = None

    @property
    def current_path(self) -> Path | None:
        """The ``.open`` file being written, if any."""
        return self._path

    def _next_path(self) -> Path:
        while True:
            name = f"{FILE_PREFIX}-{self.stamp}-{self._part:05d}.warc.gz"
            final = self.directory / name
            self._part += 1
            if not final.exists() and not (self.directory / (name + OPEN_SUFFIX)).exists():
                return final

    def _open(self) -> WARCWriter:
        if self._writer is not None:
            return self._writer
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self._next_path()
        self._path = final.with_name(final.name + OPEN_SUFFIX)
        self._handle = self._path.open("xb")
        self._writer = WARCWriter(self._handle, gzip=True, warc_version="1.1")
        info = self._writer.create_warcinfo_record(
            final.name,
            {
                "software": "factwatch",
                "format": "WARC File Format 1.1",
                INFO_CRAWL: self.crawl_id,
                "part": str(self._part - 1),
            },
        )
        info.rec_headers.add_header(HEADER_CRAWL, self.crawl_id)
        self._writer.write_record(info)
        logger.info("archiving to %s", self._path)
        return self._writer

    def write(self, exchange: Exchange) -> None:
        writer = self._open()
        common: dict[str, str] = {"WARC-Date": _warc_date(exchange.date)}
        if exchange.source_kind:
            common[HEADER_SOURCE_KIND] = exchange.source_kind
        if exchange.source:
            common[HEADER_SOURCE] = exchange.source
        if exchange.origin:
            common[HEADER_ORIGIN] = exchange.origin
        request = self._request_record(writer, exchange, common)
        if exchange.error is not None:
            failure_headers = {**common, HEADER_ERROR: exchange.error}
            failure = writer.create_warc_record(
                exchange.url,
                "metadata",
                payload=io.BytesIO(exchange.error.encode("utf-8")),
                warc_content_type="text/plain; charset=utf-8",
                warc_headers_dict=failure_headers,
            )
            writer.write_request_response_pair(request, failure)
        else:
            writer.write_request_response_pair(request, self._response_record(writer, exchange, common))
        self.records += 2
        assert self._handle is not None
        if self._handle.tell() >= self.max_bytes:
            self.finish()

    @staticmethod
    def _request_record(writer: WARCWriter, exchange: Exchange, common: dict[str, str]) -> Any:
        parts = urlsplit(exchange.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = list(exchange.request_headers)
        if not any(name.lower() == "host" for name, _ in headers):
            headers.insert(0, ("Host", parts.netloc))
        http = StatusAndHeaders(f"{exchange.method} {target} HTTP/1.1", headers, is_http_request=True)
        return writer.create_warc_record(
            exchange.url,
            "request",
            payload=io.BytesIO(exchange.request_body),
            length=len(exchange.request_body),
            http_headers=http,
            warc_headers_dict=dict(common),
        )

    @staticmethod
    def _response_record(writer: WARCWriter, exchange: Exchange, common: dict[str, str]) -> Any:
        try:
            reason = HTTPStatus(exchange.status).phrase
        except ValueError:
            reason = "Unknown"
        headers = [
            (name, value)
            for name, value in exchange.response_headers or []
            if name.lower() not in _DROPPED_RESPONSE_HEADERS
        ]
        http = StatusAndHeaders(
            f"{exchange.status} {reason}", headers, protocol=exchange.protocol or "HTTP/1.1"
        )
        warc_headers = dict(common)
        if exchange.ip_address:
            warc_headers["WARC-IP-Address"] = exchange.ip_address
        if exchange.flags:
            warc_headers[HEADER_FLAGS] = " ".join(exchange.flags)
        return writer.create_warc_record(
            exchange.url,
            "response",
            payload=io.BytesIO(exchange.body),
            length=len(exchange.body),
            http_headers=http,
            warc_headers_dict=warc_headers,
        )

    def finish(self) -> Path | None:
        """Close the current part and give it its final name; the next write starts a new part."""
        if self._handle is None or self._path is None:
            return None
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        final = self._path.with_name(self._path.name.removesuffix(OPEN_SUFFIX))
        self._path.rename(final)
        self.finished.append(final)
        self._handle = None
        self._path = None
        self._writer = None
        logger.info("archive part finished: %s", final)
        return final


_STOP = object()
QUEUE_LIMIT = 500  # exchanges waiting to be written


class ArchiveThread:
    """Runs a RotatingWarcWriter on its own thread: gzip and disk I/O never stall the reactor.

    A write error is logged once per distinct message and counted; the crawl goes on, since losing
    the archive is better than losing the crawl.
    """

    def __init__(self, writer: RotatingWarcWriter) -> None:
        self.writer = writer
        self.errors = 0
        self._seen_errors: set[str] = set()
        # Bounded, so a disk slower than the network slows the crawl instead of filling memory.
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_LIMIT)
        self._thread = threading.Thread(target=self._run, name="factwatch-warc", daemon=True)
        self._thread.start()
        self._closed = False

    def submit(self, exchange: Exchange) -> None:
        if self._closed:
            logger.warning("archive closed; not archiving %s", exchange.url)
            return
        self._queue.put(exchange)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                break
            try:
                self.writer.write(item)
            except Exception as exc:
                self._failed(f"cannot archive {item.url}", exc)
        try:
            self.writer.finish()
        except Exception as exc:
            self._failed("cannot finish archive file", exc)

    def _failed(self, what: str, exc: Exception) -> None:
        self.errors += 1
        message = f"{type(exc).__name__}: {exc}"
        if message not in self._seen_errors:
            self._seen_errors.add(message)
            logger.error("%s: %s", what, message)

    def close(self, timeout: float | None = None) -> list[Path]:
        """Write what is queued, finish the open part, and return every finished file."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join(timeout)
        return list(self.writer.finished)


class WarcArchiveMiddleware:
    """Downloader middleware: archive each exchange, change nothing.

    Settings: ``FACTWATCH_ARCHIVE_DIR`` (unset: the middleware is off), ``FACTWATCH_ARCHIVE_MAX_BYTES``
    (rotate after a part reaches this many compressed bytes; default 100 MB).
    """

    def __init__(self, directory: Path, max_bytes: int = DEFAULT_MAX_BYTES, stats: Any = None) -> None:
        self.archive = ArchiveThread(RotatingWarcWriter(directory, max_bytes))
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        directory = crawler.settings.get("FACTWATCH_ARCHIVE_DIR")
        if not directory:
            raise NotConfigured  # no message: Scrapy would log every unarchived crawl as a warning
        max_bytes = crawler.settings.getint("FACTWATCH_ARCHIVE_MAX_BYTES", DEFAULT_MAX_BYTES)
        middleware = cls(Path(directory), max_bytes, crawler.stats)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    @staticmethod
    def _exchange(request: Request, **extra: Any) -> Exchange:
        meta = request.meta
        return Exchange(
            url=request.url,
            method=request.method,
            request_headers=_header_pairs(request.headers),
            request_body=request.body or b"",
            source_kind=meta.get(META_SOURCE_KIND),
            source=meta.get(META_SOURCE),
            origin=meta.get(META_ORIGIN) or meta.get(META_SOURCE),
            date=datetime.now(UTC),
            **extra,
        )

    def process_response(self, request: Request, response: Response) -> Response:
        ip = response.ip_address
        exchange = self._exchange(
            request,
            status=response.status,
            response_headers=_header_pairs(response.headers),
            body=response.body,
            protocol=response.protocol or "HTTP/1.1",
            ip_address=str(ip) if ip is not None else None,
            flags=tuple(str(flag) for flag in response.flags),
        )
        self.archive.submit(exchange)
        if self.stats is not None:
            self.stats.inc_value("factwatch/archive/responses")
        return response

    def process_exception(self, request: Request, exception: BaseException) -> None:
        # IgnoreRequest is a decision (robots.txt, offsite, a filter), not a download: nothing to keep.
        if isinstance(exception, IgnoreRequest):
            return None
        error = f"{type(exception).__name__}: {exception}".strip()
        self.archive.submit(self._exchange(request, error=error))
        if self.stats is not None:
            self.stats.inc_value("factwatch/archive/failures")
        return None

    def spider_closed(self) -> None:
        files = self.archive.close()
        if self.stats is not None:
            self.stats.set_value("factwatch/archive/files", len(files))
        if self.archive.errors:
            logger.error("archive: %d exchanges could not be written", self.archive.errors)
        logger.info("archive: %d files written: %s", len(files), ", ".join(str(f) for f in files))
