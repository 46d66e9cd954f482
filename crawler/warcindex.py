"""An index of WARC files that finds archived responses by URL without holding their bodies.

Replay needs to answer "what did the server send for this URL" thousands of times, and an archive may
be far bigger than memory. So a scan keeps only what routing needs (URL, status, a few headers, where
the record starts) and bodies are read from disk when a response is served.

Archives are grouped into *snapshots*: the rotated parts one crawl wrote (they share the crawl id of
their ``warcinfo`` record) form one snapshot; every other file is a snapshot of its own. Replay plays
snapshots in the order given, so facts evolve in the order the crawls happened.

Damage is never silent. A scan stops at the first damaged record (truncated, corrupt gzip member,
digest mismatch, unparsable header) and reports the file and byte offset; records before the damage
stay usable when the caller allows partial archives.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from w3lib.url import canonicalize_url
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader

logger = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = (".warc", ".warc.gz")
OPEN_SUFFIX = ".open"  # an archive still being written (or left by a crash)

HEADER_SOURCE_KIND = "Factwatch-Source-Kind"
HEADER_SOURCE = "Factwatch-Source"
HEADER_ORIGIN = "Factwatch-Origin"  # the source a request was made for (every request, not only roots)
HEADER_ERROR = "Factwatch-Error"
HEADER_CRAWL = "Factwatch-Crawl"
INFO_CRAWL = "factwatch-crawl"  # key in the warcinfo payload

_READ_BLOCK = 64 * 1024
_HTML_TYPES = ("text/html", "application/xhtml+xml")


class ArchiveError(Exception):
    """A WARC file that cannot be read (fully); str() names the file and, when known, the record offset."""

    def __init__(self, path: Path | str, problem: str, offset: int | None = None) -> None:
        self.path = Path(path)
        self.problem = problem
        self.offset = offset
        where = f"{self.path}" if offset is None else f"{self.path} (record at byte {offset})"
        super().__init__(f"{where}: {problem}")


def url_key(url: str) -> str:
    """The lookup key of a URL: canonical form (sorted query, no fragment) but nothing dropped.

    Tracking-parameter stripping belongs to article identity, not to replay: ``?output=amp`` may be
    a different document, so two URLs that differ in any parameter are two archived responses.
    """
    try:
        return canonicalize_url(url.strip())
    except (ValueError, TypeError):
        return url.strip()


@dataclass(frozen=True, slots=True)
class ArchivedEntry:
    """Where one archived response lives, plus what routing needs to know without reading it."""

    archive: Path
    offset: int
    sequence: int  # position in its snapshot, archive order
    url: str
    record_type: str  # "response", "revisit" or "failure" (an archived download error)
    status: int  # 0 for failures
    content_type: str = ""
    location: str | None = None
    etag: str | None = None
    source_kind: str | None = None
    source: str | None = None
    origin: str | None = None
    warc_date: str = ""
    record_id: str | None = None
    payload_digest: str | None = None
    refers_to_uri: str | None = None
    refers_to_date: str | None = None
    error: str | None = None

    @property
    def key(self) -> str:
        return url_key(self.url)

    @property
    def is_html(self) -> bool:
        return self.content_type.split(";")[0].strip().lower() in _HTML_TYPES

    @property
    def is_redirect(self) -> bool:
        return 300 <= self.status < 400 and self.status != 304 and bool(self.location)

    @property
    def is_root(self) -> bool:
        return bool(self.source_kind)


@dataclass(frozen=True, slots=True)
class ArchivedPayload:
    """An archived HTTP response as it came over the wire (content encoding kept, chunking removed)."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class ScannedFile:
    """The outcome of scanning one file: its entries and the damage found, if any."""

    path: Path
    entries: list[ArchivedEntry]
    crawl_id: str | None = None
    records: int = 0  # all WARC records, any type
    damage: ArchiveError | None = None


@dataclass(eq=False)
class WarcSnapshot:
    """One crawl's worth of archived responses, in archive order, looked up by URL."""

    files: list[ScannedFile]
    entries: list[ArchivedEntry] = field(default_factory=list)
    _by_key: dict[str, list[ArchivedEntry]] = field(default_factory=dict, repr=False)
    _by_digest: dict[str, ArchivedEntry] = field(default_factory=dict, repr=False)
    _handles: dict[Path, IO[bytes]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        sequence = 0
        for scanned in self.files:
            for entry in scanned.entries:
                indexed = _with_sequence(entry, sequence)
                sequence += 1
                self.entries.append(indexed)
                self._by_key.setdefault(indexed.key, []).append(indexed)
                if indexed.record_type == "response" and indexed.payload_digest:
                    self._by_digest.setdefault(indexed.payload_digest, indexed)

    def __deepcopy__(self, memo: dict[int, Any]) -> WarcSnapshot:
        # Scrapy deep-copies settings; a snapshot is shared, read-only state with open files.
        return self

    @property
    def paths(self) -> list[Path]:
        return [scanned.path for scanned in self.files]

    @property
    def name(self) -> str:
        first = self.files[0].path.name if self.files else "?"
        return first if len(self.files) == 1 else f"{first} (+{len(self.files) - 1} parts)"

    @property
    def records(self) -> int:
        return sum(scanned.records for scanned in self.files)

    @property
    def damage(self) -> list[ArchiveError]:
        return [scanned.damage for scanned in self.files if scanned.damage is not None]

    def lookup(self, url: str) -> list[ArchivedEntry]:
        """Every archived response for this URL, in archive order."""
        return self._by_key.get(url_key(url), [])

    def by_digest(self, digest: str) -> ArchivedEntry | None:
        return self._by_digest.get(digest)

    def roots(self) -> list[ArchivedEntry]:
        return [entry for entry in self.entries if entry.is_root]

    def read(self, entry: ArchivedEntry) -> ArchivedPayload:
        """Read one record from disk; the body is as sent (minus transfer chunking)."""
        with self._lock:
            handle = self._handles.get(entry.archive)
            if handle is None:
                try:
                    handle = entry.archive.open("rb")
                except OSError as exc:
                    raise ArchiveError(entry.archive, f"cannot open: {exc.strerror or exc}") from None
                self._handles[entry.archive] = handle
            return _read_record_at(handle, entry)

    def peek(self, entry: ArchivedEntry, size: int = 2048) -> bytes:
        """The first bytes of a body, for sniffing what kind of document it is."""
        return self.read(entry).body[:size]

    def close(self) -> None:
        with self._lock:
            for handle in self._handles.values():
                handle.close()
            self._handles.clear()


def _with_sequence(entry: ArchivedEntry, sequence: int) -> ArchivedEntry:
    if entry.sequence == sequence:
        return entry
    return ArchivedEntry(
        archive=entry.archive,
        offset=entry.offset,
        sequence=sequence,
        url=entry.url,
        record_type=entry.record_type,
        status=entry.status,
        content_type=entry.content_type,
        location=entry.location,
        etag=entry.etag,
        source_kind=entry.source_kind,
        source=entry.source,
        origin=entry.origin,
        warc_date=entry.warc_date,
        record_id=entry.record_id,
        payload_digest=entry.payload_digest,
        refers_to_uri=entry.refers_to_uri,
        refers_to_date=entry.refers_to_date,
        error=entry.error,
    )


def expand_archives(args: Iterable[str | Path]) -> list[Path]:
    """Files as given, directories as their finished archives sorted by name.

    A directory's ``.open`` files are skipped with a warning: they are being written, or a crash left
    them unfinished. Naming one explicitly replays what it holds.
    """
    paths: list[Path] = []
    for arg in args:
        path = Path(arg)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(ARCHIVE_SUFFIXES))
            unfinished = sorted(p.name for p in path.iterdir() if p.name.endswith(OPEN_SUFFIX))
            if unfinished:
                logger.warning("skipping unfinished archives in %s: %s", path, ", ".join(unfinished))
            if not found:
                raise ArchiveError(path, "directory holds no .warc or .warc.gz files")
            paths.extend(found)
        else:
            paths.append(path)
    return paths


def scan_file(path: Path) -> ScannedFile:
    """Index one WARC file. Damage ends the scan and is recorded, never raised; a missing file raises."""
    if not path.exists():
        raise ArchiveError(path, "no such file")
    if not path.is_file():
        raise ArchiveError(path, "not a file")
    try:
        size = path.stat().st_size
        handle = path.open("rb")
    except OSError as exc:
        raise ArchiveError(path, f"cannot open: {exc.strerror or exc}") from None
    if size == 0:
        handle.close()
        return ScannedFile(path, [], damage=ArchiveError(path, "empty file, not a WARC archive", 0))
    with handle:
        return _scan(path, handle, size)


def _scan(path: Path, handle: IO[bytes], size: int) -> ScannedFile:
    scanned = ScannedFile(path, [])
    methods: dict[str, str] = {}  # response record id -> request method, from paired request records
    iterator = ArchiveIterator(handle, check_digests="raise")
    offset = 0  # start of the record being read
    in_record = False
    end = 0
    try:
        for record in iterator:
            in_record = True
            offset = iterator.offset
            if not str(record.format).startswith("warc"):
                raise _Damage("not a WARC record (is this a WARC file?)")
            if record.length is None:
                raise _Damage("record header is incomplete (no Content-Length)")
            consumed = _drain(record.raw_stream)
            if getattr(record.raw_stream, "limit", 0) > 0:
                raise _Damage(f"record truncated: {consumed} of {record.length} content bytes present")
            offset = iterator.get_record_offset()
            end = offset + iterator.get_record_length()
            decompressor = iterator.reader.decompressor if iterator.reader else None
            if decompressor is not None and not getattr(decompressor, "eof", True):
                raise _Damage("record truncated: its gzip member ends early")
            scanned.records += 1
            _note(scanned, record, offset, methods)
            in_record = False
    except _Damage as exc:
        scanned.damage = ArchiveError(path, str(exc), offset)
    except Exception as exc:  # warcio raises assorted errors on garbage; each means damage here
        at = offset if in_record else end
        problem = _describe(exc)
        if scanned.records == 0:
            problem = f"not a readable WARC archive ({problem})"
        scanned.damage = ArchiveError(path, problem, at)
    else:
        if scanned.records == 0:
            scanned.damage = ArchiveError(path, "no WARC records found (not a WARC archive?)", 0)
        elif end < size and _trailing_garbage(path, end):
            scanned.damage = ArchiveError(
                path, f"record truncated: {size - end} bytes after the last full record", end
            )
    scanned.entries = [
        entry for entry in scanned.entries if methods.get(entry.record_id or "", "GET").upper() == "GET"
    ]
    return scanned


class _Damage(Exception):
    pass


def _describe(exc: Exception) -> str:
    """A one-line, printable reason: warcio quotes the bad bytes, which may be binary garbage."""
    text = " ".join(str(exc).split())
    if "first line:" in text:
        head, _, line = text.partition("first line:")
        printable = "".join(ch if ch.isprintable() and ord(ch) < 128 else "?" for ch in line.strip())
        text = f"{head.strip().rstrip(',')}; it starts with {printable[:40]!r}"
    return text[:200] or type(exc).__name__


def _trailing_garbage(path: Path, end: int) -> bool:
    """Whether bytes after the last complete record hold more than record separators.

    warcio stops quietly at a record cut short inside its header, so this is how such a cut shows.
    """
    with path.open("rb") as handle:
        handle.seek(end)
        while block := handle.read(_READ_BLOCK):
            if block.strip(b"\r\n"):
                return True
    return False


def _drain(stream: Any) -> int:
    total = 0
    while True:
        block = stream.read(_READ_BLOCK)
        if not block:
            return total
        total += len(block)


def _note(scanned: ScannedFile, record: Any, offset: int, methods: dict[str, str]) -> None:
    headers = record.rec_headers
    rec_type = record.rec_type
    if rec_type == "warcinfo":
        crawl = headers.get_header(HEADER_CRAWL)
        if crawl and scanned.crawl_id is None:
            scanned.crawl_id = crawl
        return
    if rec_type == "request":
        target = headers.get_header("WARC-Concurrent-To")
        if target and record.http_headers is not None:
            methods[target] = str(record.http_headers.protocol or "GET").split(" ")[0]
        return
    url = headers.get_header("WARC-Target-URI")
    if not url:
        return
    common: dict[str, Any] = {
        "archive": scanned.path,
        "offset": offset,
        "sequence": len(scanned.entries),
        "url": url,
        "source_kind": headers.get_header(HEADER_SOURCE_KIND),
        "source": headers.get_header(HEADER_SOURCE),
        "origin": headers.get_header(HEADER_ORIGIN),
        "warc_date": headers.get_header("WARC-Date") or "",
        "record_id": headers.get_header("WARC-Record-ID"),
    }
    if rec_type == "metadata" and headers.get_header(HEADER_ERROR):
        scanned.entries.append(
            ArchivedEntry(record_type="failure", status=0, error=headers.get_header(HEADER_ERROR), **common)
        )
        return
    if rec_type not in ("response", "revisit") or record.http_headers is None:
        return
    http = record.http_headers
    try:
        status = int(str(http.get_statuscode()))
    except ValueError:
        logger.warning("%s: record at byte %s has no HTTP status line; skipped", scanned.path, offset)
        return
    scanned.entries.append(
        ArchivedEntry(
            record_type=rec_type,
            status=status,
            content_type=http.get_header("Content-Type") or "",
            location=http.get_header("Location"),
            etag=http.get_header("ETag"),
            payload_digest=headers.get_header("WARC-Payload-Digest"),
            refers_to_uri=headers.get_header("WARC-Refers-To-Target-URI"),
            refers_to_date=headers.get_header("WARC-Refers-To-Date"),
            **common,
        )
    )


def _read_record_at(handle: IO[bytes], entry: ArchivedEntry) -> ArchivedPayload:
    try:
        handle.seek(entry.offset)
        iterator = ArchiveIterator(handle)
        record = next(iter(iterator))
        if record.http_headers is None:
            raise ArchiveError(entry.archive, "record has no HTTP headers", entry.offset)
        http = record.http_headers
        chunked = (http.get_header("Transfer-Encoding") or "").lower() == "chunked"
        stream = ChunkedDataReader(record.raw_stream) if chunked else record.raw_stream
        body = b"".join(iter(lambda: stream.read(_READ_BLOCK), b""))
        status_line = str(http.statusline or "")
        code, _, reason = status_line.partition(" ")
        headers = [
            (str(name), str(value))
            for name, value in http.headers
            if str(name).lower() != "transfer-encoding"
        ]
        iterator.close()
        return ArchivedPayload(status=int(code or entry.status), reason=reason, headers=headers, body=body)
    except ArchiveError:
        raise
    except (StopIteration, OSError, ValueError) as exc:
        raise ArchiveError(
            entry.archive, f"cannot read record: {exc or type(exc).__name__}", entry.offset
        ) from None
    except Exception as exc:  # warcio's parse errors carry no common base class
        raise ArchiveError(entry.archive, f"cannot read record: {exc}", entry.offset) from None


def open_snapshots(archives: Sequence[str | Path], *, partial: bool = False) -> list[WarcSnapshot]:
    """Scan every archive, then group rotated parts of one crawl into one snapshot, keeping the order.

    With ``partial=False`` any damage raises before anything is replayed, so a bad file never leaves
    the store half-updated; with ``partial=True`` the records before the damage are used and the
    damage stays on the snapshot for the report.
    """
    paths = expand_archives(archives)
    if not paths:
        raise ArchiveError(Path("."), "no archives given")
    scanned_files = [scan_file(path) for path in paths]
    if not partial:
        for scanned in scanned_files:
            if scanned.damage is not None:
                raise scanned.damage
    groups: list[list[ScannedFile]] = []
    for scanned in scanned_files:
        previous = groups[-1][-1] if groups else None
        if previous is not None and scanned.crawl_id and previous.crawl_id == scanned.crawl_id:
            groups[-1].append(scanned)
        else:
            groups.append([scanned])
    return [WarcSnapshot(group) for group in groups]


def iter_entries(snapshots: Iterable[WarcSnapshot]) -> Iterator[ArchivedEntry]:
    for snapshot in snapshots:
        yield from snapshot.entries
