"""What a feed, sitemap or listing page says about one article, before the article is fetched."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Entry:
    url: str
    title: str | None = None
    published: datetime | None = None
    lastmod: datetime | None = None  # "updated" / <lastmod>: the source's claim that the page changed

    @property
    def changed_at(self) -> datetime | None:
        """The latest date the source gives for the page, used to decide whether to fetch it again."""
        dates = [d for d in (self.published, self.lastmod) if d is not None]
        return max(dates) if dates else None


def host_allowed(url: str, domains: Iterable[str]) -> bool:
    """True when the URL's host is one of the domains or a subdomain of one; no domains allows all."""
    allowed = [d.lower().lstrip(".") for d in domains]
    if not allowed:
        return True
    host = (urlsplit(url).hostname or "").lower()
    return any(host == domain or host.endswith("." + domain) for domain in allowed)


def parse_date(text: str | None) -> datetime | None:
    """RFC 822 (RSS) or ISO 8601 (Atom, sitemaps) as an aware UTC datetime; None when unreadable."""
    if not text:
        return None
    value = text.strip()
    if not value:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            logger.debug("unreadable date %r", value)
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
