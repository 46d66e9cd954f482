"""Fixtures of the alert tests; the delivery targets themselves live in tests/support/sinks.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alerts.config import AlertSettings
from alerts.models import SourceAlertState
from pipeline.store import Store
from tests.support.sinks import (  # noqa: F401  (names the alert tests import from here)
    SMTP_PASSWORD,
    SMTP_USER,
    HttpSink,
    SmtpSink,
    free_port,
)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'factwatch.db'}"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store.open(db_url)
    if SourceAlertState.__tablename__ not in store.table_names():
        # Until pipeline.store.all_models registers alerts.models, the migration lacks this table.
        SourceAlertState.__table__.create(store.engine)  # type: ignore[attr-defined]
    yield store
    store.close()


@pytest.fixture
def fast_settings() -> AlertSettings:
    return AlertSettings(max_attempts=4, backoff_seconds=60, backoff_max_seconds=600, send_timeout_seconds=5)


def fact_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "topic": "demo-topic",
        "fact": "mandate_end",
        "entity": None,
        "old_value": "2025-10-02",
        "new_value": "2026-10-02",
        "evidence": "The council extended the mission until 2 October 2026.",
        "url": "https://news.example.org/world/council-extends-mission",
        "publisher": "Example News",
        "published": "2025-09-30T14:00:00+00:00",
        "independent_sources": 3,
        "history": [
            {
                "value": "2025-10-02",
                "published": "2024-10-01",
                "url": "https://a.example.org/1",
                "publisher": "A",
            },
            {
                "value": "2026-10-02",
                "published": "2025-09-30",
                "url": "https://b.example.org/2",
                "publisher": "B",
            },
        ],
    }
    payload.update(overrides)
    return payload


@pytest.fixture
def make_payload() -> Any:
    return fact_payload
