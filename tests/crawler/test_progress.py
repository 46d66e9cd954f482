"""Long crawls and replays report progress in the log as they go."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import crawler.context as context_module
from config.models import AppConfig
from crawler.config import SourceConfig
from crawler.context import CrawlContext


def test_progress_is_logged_while_pages_are_processed(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context_module, "PROGRESS_SECONDS", 0.0)
    config = AppConfig.model_validate({"topic": {"name": "demo"}})
    source = SourceConfig(name="loop", url="http://127.0.0.1:9/feed.xml", kind="feed")
    state: Any = object()  # progress needs no crawl state
    context = CrawlContext(config=config, processor=object(), store=object(), sources=[source], state=state)  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="crawler.context"):
        context.record_outcome("loop", "new")
        context.record_outcome("loop", "duplicate")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("progress:")]
    assert lines and lines[-1].startswith("progress: 2 pages")
    assert "duplicate 1, new 1" in lines[-1]
