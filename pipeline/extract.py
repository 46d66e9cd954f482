"""Turn a fetched page (HTML bytes or text) into a :class:`~pipeline.types.Document`.

trafilatura does the heavy lifting in a single ``bare_extraction`` call with metadata. What it does not
give us we read from the page's ``<head>`` with a few regular expressions over the decoded string (no
second parse): the canonical URL without courlan's validation (which rejects loopback hosts, so a test
server's pages would lose their URL), the publication time with its time of day, the language, and the
markers of a paywall. The text then goes through :func:`pipeline.cleaning.clean_text`.

Nothing here raises on bad input: binary data, empty pages and undecodable bytes give ``None``.
"""

from __future__ import annotations

import codecs
import html as html_lib
import logging
import re
from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import trafilatura
from trafilatura.settings import Document as TrafilaturaResult

from pipeline.cleaning import clean_lines
from pipeline.types import Document

logger = logging.getLogger(__name__)

PAYWALL_MAX_WORDS = 150
"""Below this many words, a page that states it is not free or shows a paywall prompt is paywall-only."""
PAYWALL_MARKUP_MAX_WORDS = 60
"""Paywall class names appear on free pages too (a login link in the header), so with only that sign
the page must be nearly empty to count as paywall-only."""

_EXTRACTION_OPTIONS: dict[str, Any] = {
    "with_metadata": True,
    "include_comments": False,
    "include_tables": False,
    "favor_precision": True,
    # Never deduplicate: trafilatura's cache is process-wide and would drop the third copy of a text
    # in a long-running daemon.
    "deduplicate": False,
}

_SNIFF_BYTES = 4096
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]{2,40})""", re.IGNORECASE
)
_LATIN1_ALIASES = {"iso8859-1", "latin-1", "ascii", "us-ascii", "iso-8859-1", "latin1", "cp819"}
_TAG = re.compile(r"<(meta|link|html)\b([^>]{0,2000})>", re.IGNORECASE)
_ATTR = re.compile(r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")
_JSONLD_PUBLISHED = re.compile(r""""datePublished"\s*:\s*"([^"]{4,40})\"""")
_TIME_PUBLISHED = re.compile(
    r"""<time\b[^>]{0,300}?\b(?:itemprop\s*=\s*["']datePublished["'][^>]{0,300}?datetime|datetime)"""
    r"""\s*=\s*["']([^"']{4,40})["'][^>]{0,300}?>""",
    re.IGNORECASE,
)
_NOT_FREE_KEY = "isAccessibleForFree"
_NOT_FREE = re.compile(r"""isAccessibleForFree["']?\s*(?:[:=]|content\s*=)\s*["']?false""", re.IGNORECASE)
# Plain substrings, not one regex: an alternation without a literal prefix costs ~10 ms on a 1 MB page,
# while `in` over the page is a memchr scan. Class names and ids are lower-case in practice.
_PAYWALL_MARKUP = (
    "paywall",
    "pay-wall",
    "regwall",
    "reg-wall",
    "subscriber-only",
    "subscribers-only",
    "premium-content",
    "premium-article",
    "premium-wall",
    "metered-content",
    "article-locked",
    "locked-content",
    "subscription-wall",
    "subscription-required",
    "piano-inline",
)
_HTML_START = re.compile(
    rb"""^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|div|article"""
    rb"""|p|section|main|header|script|link|style)\b""",
    re.IGNORECASE | re.DOTALL,
)
_HTML_TAGS = re.compile(rb"<(?:html|head|body|div|p|article|title|meta|br|span|a)\b[^>]*>", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_HEADLINE_SEARCH_LINES = 3
_KICKER_MAX_WORDS = 4
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_TEXT_BYTES = bytes([9, 10, 12, 13, *range(32, 256)])
_PUBLISHED_KEYS = (
    "article:published_time",
    "og:published_time",
    "article:published",
    "datepublished",
    "publishdate",
    "publish-date",
    "pubdate",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.created",
    "dc.date",
    "date",
    "parsely-pub-date",
)
_MONTH_ONLY = re.compile(r"^\d{4}-\d{2}$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def looks_like_html(data: bytes | str) -> bool:
    """Whether input given to the CLI is an HTML page rather than plain article text."""
    head = data[:_SNIFF_BYTES]
    sample = head.encode("utf-8", "replace") if isinstance(head, str) else head
    sample = sample.lstrip(b"\xef\xbb\xbf")
    if _HTML_START.match(sample):
        return True
    return len(_HTML_TAGS.findall(sample)) >= 3


def _looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters: an image, a PDF, an archive, not a page."""
    sample = data[:_SNIFF_BYTES]
    if not sample:
        return False
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in sample:
        return True
    controls = len(sample.translate(None, _TEXT_BYTES))
    return controls / len(sample) > 0.05


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().strip("\"'").lower()).name
    except (LookupError, ValueError):
        return None
    # Browsers read pages labelled Latin-1 as Windows-1252; so do we (curly quotes survive).
    return "cp1252" if codec in _LATIN1_ALIASES else codec


def decode_html(data: bytes, encoding_hint: str | None = None) -> str:
    """Decode page bytes the way a browser would, never failing: broken bytes become U+FFFD."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", "replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace")
    try:
        # Valid UTF-8 with non-ASCII bytes is UTF-8 whatever the label says; pure ASCII decodes the same.
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(data[:_SNIFF_BYTES])
    candidates = [
        _codec(encoding_hint),
        _codec(declared.group(1).decode("ascii", "replace") if declared else None),
    ]
    for codec in candidates:
        if codec and codec != "utf-8":
            try:
                return data.decode(codec)
            except (UnicodeDecodeError, LookupError):
                continue
    detected = _detect(data)
    if detected:
        return data.decode(detected, "replace")
    return data.decode("utf-8", "replace")


def _detect(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - trafilatura depends on it
        return None
    best = from_bytes(data[:65536]).best()
    return _codec(best.encoding) if best is not None else None


def _head_tags(page: str) -> dict[str, str]:
    """First value of each meta name/property, plus `canonical` and `html-lang`; keys lower-cased.

    The whole page is scanned, not just ``<head>``: some sites put their canonical link in the body, and
    some heads run past a megabyte of inline script; the scan is a fraction of a millisecond either way.
    """
    found: dict[str, str] = {}
    for match in _TAG.finditer(page):
        tag = match.group(1).lower()
        attrs = {
            m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
            for m in _ATTR.finditer(match.group(2))
        }
        if tag == "html":
            if "lang" in attrs:
                found.setdefault("html-lang", attrs["lang"])
            continue
        if tag == "link":
            rels = attrs.get("rel", "").lower().split()
            if "canonical" in rels and attrs.get("href"):
                found.setdefault("canonical", html_lib.unescape(attrs["href"]).strip())
            continue
        key = attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or attrs.get("http-equiv")
        value = attrs.get("content")
        if key and value is not None:
            found.setdefault(key.lower(), html_lib.unescape(value).strip())
    return found


def _absolute_http(candidate: str | None, base: str | None) -> str | None:
    """An absolute http(s) URL, or None; malformed URLs (a broken IPv6 host) are None, not an error."""
    if not candidate:
        return None
    try:
        absolute = urljoin(base, candidate) if base else candidate
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return absolute


def _netloc(url: str | None) -> tuple[str, str | None]:
    """(host:port, bare host without www.) of a URL; empty/None when it has none or is malformed."""
    if not url:
        return "", None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "", None
    if not host:
        return parts.netloc.casefold(), None
    return parts.netloc.casefold(), host.removeprefix("www.")


def _publisher(sitename: str | None, url: str | None, canonical: str | None) -> str | None:
    """The site's name; trafilatura falls back to the URL's host:port, which we trim to the bare host."""
    netloc, host = _netloc(url or canonical)
    if sitename and sitename.casefold() not in (netloc, netloc.removeprefix("www.")):
        return sitename
    return host or _netloc(canonical)[1] or sitename


def _parse_when(value: str) -> tuple[datetime, date, str] | None:
    """An ISO 8601 or RFC 2822 timestamp as (UTC datetime, the page's local date, precision).

    Naive times are taken as UTC; anything unparseable or out of range is None.
    """
    value = value.strip()
    try:
        if _MONTH_ONLY.match(value):
            month = datetime.strptime(value, "%Y-%m").replace(tzinfo=UTC)
            return month, month.date(), "month"
        try:
            parsed = datetime.fromisoformat(value.replace(" ", "T", 1) if len(value) > 10 else value)
        except ValueError:
            parsed = parsedate_to_datetime(value)
        if _DATE_ONLY.match(value):
            return parsed.replace(tzinfo=UTC), parsed.date(), "day"
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC), parsed.date(), "datetime"
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _published(head: dict[str, str], page: str, extracted_day: str | None) -> tuple[datetime | None, str]:
    """Publication time: trafilatura's day, refined to the time of day the page gives for that same day."""
    candidates = [head[key] for key in _PUBLISHED_KEYS if head.get(key)]
    jsonld = _JSONLD_PUBLISHED.search(page)
    if jsonld:
        candidates.append(jsonld.group(1))
    time_tag = _TIME_PUBLISHED.search(page)
    if time_tag:
        candidates.append(time_tag.group(1))
    parsed = [p for p in (_parse_when(c) for c in candidates) if p is not None]

    day = None
    if extracted_day:
        try:
            day = datetime.strptime(extracted_day[:10], "%Y-%m-%d").date()
        except ValueError:
            day = None
    if day is None:
        if not parsed:
            return None, "day"
        when, _, precision = parsed[0]
        return when, precision
    for when, local_day, precision in parsed:
        # htmldate reports the page's local date, before any conversion to UTC.
        if precision == "datetime" and local_day == day:
            return when, "datetime"
    return datetime.combine(day, time(0, 0), tzinfo=UTC), "day"


def _states_not_free(page: str) -> bool:
    """schema.org's `isAccessibleForFree: false`, the marking Google asks paywalled publishers to use."""
    start = page.find(_NOT_FREE_KEY)
    while start != -1:
        if _NOT_FREE.match(page, start, start + 64):
            return True
        start = page.find(_NOT_FREE_KEY, start + 1)
    return False


def _is_paywalled(page: str, *, prompt_seen: bool, words: int) -> bool:
    """A paywall sign and little article text left; the page scans only run for short texts."""
    if words >= PAYWALL_MAX_WORDS:
        return False
    if prompt_seen or _states_not_free(page):
        return True
    return words < PAYWALL_MARKUP_MAX_WORDS and any(marker in page for marker in _PAYWALL_MARKUP)


def _language(head: dict[str, str], extracted: str | None) -> str | None:
    for raw in (head.get("html-lang"), head.get("content-language"), head.get("og:locale"), extracted):
        if raw:
            code = re.split(r"[-_,;\s]", raw.strip(), maxsplit=1)[0].lower()
            if 2 <= len(code) <= 3 and code.isalpha():
                return code
    return None


def _is_kicker(line: str) -> bool:
    return len(_WORD.findall(line)) <= _KICKER_MAX_WORDS and not line.endswith((".", "!", "?", ":"))


def _words_key(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _drop_metadata_lines(lines: list[str], title: str | None, author: str | None) -> list[str]:
    """Drop the headline (and a kicker above it) kept as paragraphs, and bylines naming the author.

    Both have their own fields; in the text they would only repeat, and a kicker ("Analysis") is no
    paragraph. The headline is looked for in the first few lines only.
    """
    title_key = _words_key(title) if title else ""
    for index, line in enumerate(lines[:_HEADLINE_SEARCH_LINES]):
        if title_key and _words_key(line) == title_key:
            if all(_is_kicker(before) for before in lines[:index]):
                lines = lines[index + 1 :]
            break
    if not author:
        return lines
    names = {_words_key(name) for name in re.split(r"[;,]| and ", author) if name.strip()}
    names |= {_words_key(author)} | {f"by {name}" for name in names}
    names.discard("")
    return [line for line in lines if len(line) > 120 or _words_key(line) not in names]


def _text_or_none(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def _run_trafilatura(page: str, url: str | None) -> TrafilaturaResult | None:
    """One trafilatura pass; for a paywall-only page with no text at all, its metadata alone."""
    try:
        result = trafilatura.bare_extraction(page, url=url, **_EXTRACTION_OPTIONS)
        if result is None and _is_paywalled(page, prompt_seen=False, words=0):
            result = trafilatura.extract_metadata(page, default_url=url)
            result.text = ""
    except (
        Exception
    ) as error:  # lxml and htmldate raise many kinds on hostile markup; one page must not stop a crawl
        logger.warning("extraction failed on %s: %s", url, error)
        logger.debug("extraction failure on %s", url, exc_info=True)
        return None
    return result if isinstance(result, TrafilaturaResult) else None


def extract_document(
    html: str | bytes, url: str | None = None, *, encoding_hint: str | None = None
) -> Document | None:
    """Article text and metadata of one page, or None when the page holds no article."""
    if isinstance(html, bytes):
        if not html.strip() or _looks_binary(html):
            logger.debug("not an HTML page (empty or binary): %s", url)
            return None
        page = decode_html(html, encoding_hint)
    else:
        page = html
    if not page.strip() or "<" not in page or "\x00" in page[:_SNIFF_BYTES]:
        return None

    metadata = _run_trafilatura(page, url)
    if metadata is None:
        return None
    raw_text = metadata.text or ""
    head = _head_tags(page)

    title = _text_or_none(getattr(metadata, "title", None))
    author = _text_or_none(getattr(metadata, "author", None))
    cleaned = clean_lines(raw_text)
    lines = _drop_metadata_lines(cleaned.lines, title, author)
    text = "\n".join(lines)
    paywalled = _is_paywalled(page, prompt_seen=cleaned.fired["paywall"] > 0, words=len(_WORD.findall(text)))
    if not text and not paywalled:
        return None

    og_url = _absolute_http(head.get("og:url"), url)
    # A relative canonical link needs a base: the page's URL, else its absolute og:url.
    canonical = _absolute_http(head.get("canonical"), _absolute_http(url, None) or og_url) or og_url
    published, precision = _published(head, page, getattr(metadata, "date", None))
    publisher = _publisher(_text_or_none(getattr(metadata, "sitename", None)), url, canonical)
    return Document(
        text=text,
        url=url,
        canonical_url=canonical,
        title=title,
        published=published,
        published_precision=precision,
        publisher=publisher,
        author=author,
        language=_language(head, getattr(metadata, "language", None)),
        paywalled=paywalled,
    )


def extract_plain_text(text: str, url: str | None = None) -> Document:
    """A plain-text article (a seed file, a paste): cleaned like extracted HTML, no metadata."""
    return Document(text=clean_lines(_CONTROL_CHARS.sub("", text)).text, url=url)


def extract_any(
    data: bytes | str, url: str | None = None, *, encoding_hint: str | None = None
) -> Document | None:
    """HTML or plain text, told apart by :func:`looks_like_html`; None for empty or binary input.

    The one entry point for inputs of unknown kind (the CLI's FILE arguments, stdin).
    """
    if isinstance(data, bytes):
        if not data.strip() or _looks_binary(data):
            return None
        if looks_like_html(data):
            return extract_document(data, url, encoding_hint=encoding_hint)
        text = decode_html(data, encoding_hint)
    else:
        if not data.strip() or "\x00" in data[:_SNIFF_BYTES]:
            return None
        if looks_like_html(data):
            return extract_document(data, url, encoding_hint=encoding_hint)
        text = data
    document = extract_plain_text(text, url)
    return document if document.text else None
