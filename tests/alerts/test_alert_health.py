"""Source health alerts, webchanges' policy: once per error, again on a new error, once on recovery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from alerts.config import AlertSettings, RouteConfig
from alerts.deliver import Dispatcher
from alerts.health import record_source_result
from pipeline.store import Store
from pipeline.store.models import Alert

T0 = datetime(2030, 6, 1, tzinfo=UTC)
SETTINGS = AlertSettings(error_after=3, silent_after="2d")


def run(
    store: Store, hour: int, *, ok: bool, error: str | None = None, new: int = 0, source: str = "wire"
) -> str | None:
    with store.session() as session:
        alert = record_source_result(
            session,
            source,
            ok=ok,
            error=error,
            new_items=new,
            now=T0 + timedelta(hours=hour),
            settings=SETTINGS,
        )
        session.commit()
        return None if alert is None else f"{alert.event}: {alert.title}"


def test_error_alerts_once_again_on_change_and_once_on_recovery(store: Store) -> None:
    results = [
        run(store, 0, ok=True, new=4),
        run(store, 1, ok=False, error="HTTP 503 from https://wire.example.org/feed"),
        run(store, 2, ok=False, error="HTTP 503 from https://wire.example.org/feed"),
        run(store, 3, ok=False, error="HTTP 503 from https://wire.example.org/feed"),  # third in a row
        run(store, 4, ok=False, error="HTTP 503  from https://wire.example.org/feed"),  # same error
        run(store, 5, ok=False, error="DNS lookup failed for wire.example.org"),  # a different error
        run(store, 6, ok=False, error="DNS lookup failed for wire.example.org"),
        run(store, 7, ok=True, new=0),
        run(store, 8, ok=True, new=1),
    ]
    assert results == [
        None,
        None,
        None,
        "source_error: Source wire failing: HTTP 503 from https://wire.example.org/feed",
        None,
        "source_error: Source wire failing: DNS lookup failed for wire.example.org",
        None,
        "source_recovered: Source wire recovered",
        None,
    ]
    with store.session() as session:
        rows = session.exec(select(Alert).order_by(Alert.id)).all()  # type: ignore[arg-type]
    assert [r.payload["failures"] for r in rows] == [3, 5, 6]
    assert "after 6 failed runs" in rows[2].body


def test_a_blip_shorter_than_the_threshold_is_quiet(store: Store) -> None:
    assert [run(store, h, ok=h != 1, error="timeout", new=1) for h in range(4)] == [None] * 4


def test_silent_source_alerts_once_and_when_it_speaks_again(store: Store) -> None:
    assert run(store, 0, ok=True, new=3) is None
    assert run(store, 24, ok=True) is None
    assert run(store, 49, ok=True) == "silent: Source wire silent: nothing new for 2d 1h"
    assert run(store, 60, ok=True) is None  # still silent: said once
    assert run(store, 70, ok=True, new=2) == "source_recovered: Source wire recovered"
    assert run(store, 71, ok=True) is None


def test_error_text_is_redacted_and_alerts_are_delivered(store: Store, http_sink: Any) -> None:
    for hour in range(3):
        run(store, hour, ok=False, error="POST json://bot:Sup3rSecretT0ken@hooks.example.org/x failed")
    route = RouteConfig(
        name="ops", urls=[http_sink.url()], events=["source_error", "source_recovered", "silent"]
    )
    Dispatcher(store, [route], SETTINGS).deliver_pending(now=T0 + timedelta(hours=3))
    [post] = http_sink.posts
    assert "Sup3rSecretT0ken" not in post["title"] + post["message"]
    assert "Failed runs in a row: 3" in post["message"]
    assert post["type"] == "failure"
