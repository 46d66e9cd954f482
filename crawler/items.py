"""The item a spider hands to the item pipelines: one fetched page and how we came to fetch it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.types import FetchedPage


@dataclass
class PageItem:
    page: FetchedPage
    source: str | None
    url: str  # the URL as listed (before redirects): the key of its crawl_url row
    depth: int = 1
    revisit: bool = False
    hub: bool = False  # a listing page whose links are followed: not an article, not a bad response
    source_lastmod: datetime | None = None  # what the feed/sitemap said; stored to detect later changes
    etag: str | None = None
    last_modified: str | None = None
    outcome: Any = None  # pipeline.process.PageOutcome, set by ProcessPagePipeline
