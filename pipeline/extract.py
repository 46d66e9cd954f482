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
from datetime import UTC, datetime, time
from urllib.parse import urljoin, urlsplit

import trafilatura

from pipeline.cleaning import clean_lines
from pipeline.types import Document

logger = logging.getLogger(__name__)

PAYWALL_MAX_WORDS = 150
"""Below this many words, a page that states it is not free or shows a paywall prompt is paywall-only."""
PAYWALL_MARKUP_MAX_WORDS = 60
"""Paywall class names appear on free pages too (a login link in the header), so with only that sign
the page must be nearly empty to count as paywall-only."""

_EXTRACTION_OPTIONS: dict[str, bool] = {
    "with_metadata": True,
    "include_comments": False,
    "include_tables": False,
    "favor_precision": True,
    # Never deduplicate: trafilatura's cache is process-wide and would drop the third copy of a text
    # in a long-running daemon.
    "deduplicate": False,
}

_SNIFF_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]{2,40})""", re.IGNORECASE)
_LATIN1_ALIASES = {"iso8859-1", "latin-1", "ascii", "us-ascii", "iso-8859-1", "latin1", "cp819"}
_TAG = re.compile(r"<(meta|link|html)\b([^>]{0,2000})>", re.IGNORECASE)
_ATTR = re.compile(r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")
_JSONLD_PUBLISHED = re.compile(r""""datePublished"\s*:\s*"([^"]{4,40})\"""")
_TIME_PUBLISHED = re.compile(
    r"""<time\b[^>]{0,300}?\b(?:itemprop\s*=\s*["']datePublished["'][^>]{0,300}?datetime|datetime)"""
    r"""\s*=\s*["']([^"']{4,40})["'][^>]{0,300}?>""",
    re.IGNORECASE,
)
_NOT_FREE = re.compile(r"""["']?isAccessibleForFree["']?\s*[:=]\s*["']?false""", re.IGNORECASE)
_PAYWALL_MARKERS = re.compile(
    r"""\b(?:pay-?wall|reg-?wall|subscriber-only"""
    r"""|subscribers-only|premium-(?:content|article|wall|gate)|metered-?(?:content|paywall)|piano-?inline"""
    r"""|article-locked|locked-content|subscription-(?:wall|required|prompt))\b""",
    re.IGNORECASE,
)
_HTML_START = re.compile(
    rb"""^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|div|article"""
    rb"""|p|section|main|header|script|link|style)\b""",
    re.IGNORECASE | re.DOTALL,
)
_HTML_TAGS = re.compile(rb"<(?:html|head|body|div|p|article|title|meta|br|span|a)\b[^>]*>", re.IGNORECASE)
_WORD = re.compile(r"\w+")
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
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13))
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
    candidates = [_codec(encoding_hint), _codec(declared.group(1).decode("ascii", "replace") if declared else None)]
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
        attrs = {m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or "" for m in _ATTR.finditer(match.group(2))}
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
    if not candidate:
        return None
    absolute = urljoin(base, candidate) if base else candidate
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return absolute


def _host(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url).hostname
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


def _parse_when(value: str) -> tuple[datetime, str] | None:
    """An ISO-like timestamp as (aware UTC datetime, precision); naive times are taken as UTC."""
    value = value.strip()
    if _MONTH_ONLY.match(value):
        return datetime.strptime(value, "%Y-%m").replace(tzinfo=UTC), "month"
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T", 1) if len(value) > 10 else value)
    except ValueError:
        return None
    if _DATE_ONLY.match(value):
        return parsed.replace(tzinfo=UTC), "day"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed, "datetime"


def _published(head: dict[str, str], page: str, extracted_day: str | None) -> tuple[datetime | None, str]:
    """Publication time: trafilatura's day, refined to the time of day when the page states one for that day."""
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
        when, precision = parsed[0]
        return when.astimezone(UTC), precision
    for when, precision in parsed:
        # The page's local date, before conversion to UTC, is what htmldate reports.
        if precision == "datetime" and when.date() == day:
            return when.astimezone(UTC), "datetime"
    return datetime.combine(day, time(0, 0), tzinfo=UTC), "day"


def _language(head: dict[str, str], extracted: str | None) -> str | None:
    for raw in (head.get("html-lang"), head.get("content-language"), head.get("og:locale"), extracted):
        if raw:
            code = re.split(r"[-_,;\s]", raw.strip(), maxsplit=1)[0].lower()
            if 2 <= len(code) <= 3 and code.isalpha():
                return code
    return None


def _drop_leading_title(lines: list[str], title: str | None) -> list[str]:
    """trafilatura sometimes keeps the headline as the first paragraph; the title has its own field."""
    if not lines or not title:
        return lines
    first = " ".join(_WORD.findall(lines[0].casefold()))
    if first and first == " ".join(_WORD.findall(title.casefold())):
        return lines[1:]
    return lines


def _text_or_none(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


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
    if not page.strip() or "<" not in page:
        return None

    try:
        result = trafilatura.bare_extraction(page, url=url, **_EXTRACTION_OPTIONS)
    except Exception:  # trafilatura and lxml raise many kinds on hostile markup; one bad page must not stop a crawl
        logger.warning("trafilatura failed on %s", url, exc_info=True)
        return None

    head = _head_tags(page)
    not_free = _NOT_FREE.search(page) is not None
    paywall_markup = _PAYWALL_MARKERS.search(page) is not None
    if result is None:
        if not (not_free or paywall_markup):
            return None
        metadata = trafilatura.extract_metadata(page, default_url=url)
        raw_text = ""
    else:
        metadata = result
        raw_text = result.text or ""

    title = _text_or_none(getattr(metadata, "title", None))
    cleaned = clean_lines(raw_text)
    lines = _drop_leading_title(cleaned.lines, title)
    text = "\n".join(lines)
    words = len(_WORD.findall(text))
    paywalled = ((not_free or cleaned.fired["paywall"] > 0) and words < PAYWALL_MAX_WORDS) or (
        paywall_markup and words < PAYWALL_MARKUP_MAX_WORDS
    )
    if not text and not paywalled:
        return None

    canonical = _absolute_http(head.get("canonical"), url) or _absolute_http(head.get("og:url"), url)
    published, precision = _published(head, page, getattr(metadata, "date", None))
    publisher = _text_or_none(getattr(metadata, "sitename", None)) or _host(url) or _host(canonical)
    return Document(
        text=text,
        url=url,
        canonical_url=canonical,
        title=title,
        published=published,
        published_precision=precision,
        publisher=publisher,
        author=_text_or_none(getattr(metadata, "author", None)),
        language=_language(head, getattr(metadata, "language", None)),
        paywalled=paywalled,
    )


def extract_plain_text(text: str, url: str | None = None) -> Document:
    """A plain-text article (a seed file, a paste): cleaned like extracted HTML, no metadata."""
    return Document(text=clean_lines(text).text, url=url)
