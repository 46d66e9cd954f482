"""Digest routes: alerts wait for their window to close, then go out as one message, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select

from alerts.config import AlertSettings, DigestConfig, RouteConfig
from alerts.deliver import Dispatcher, window_start
from alerts.outbox import enqueue
from pipeline.store import Store
from pipeline.store.models import Alert

DAY = datetime(2030, 3, 5, tzinfo=UTC)


def queue_at(store: Store, when: datetime, key: str, payload: dict[str, Any]) -> None:
    with store.session() as session:
        assert enqueue(session, event="change", key=key, payload=payload, created=when) is not None
        session.commit()


def test_window_start_is_aligned_and_shifted() -> None:
    every, eight = timedelta(days=1), timedelta(hours=8)
    assert window_start(DAY + timedelta(hours=13), every, timedelta(0)) == DAY
    assert window_start(DAY + timedelta(hours=13), every, eight) == DAY + eight
    assert window_start(DAY + timedelta(hours=7), every, eight) == DAY - timedelta(days=1) + eight


def test_daily_digest_batches_and_never_repeats(store: Store, http_sink: Any, make_payload: Any) -> None:
    for hour, (fact, value) in enumerate(
        [("displaced", 700000), ("displaced", 710000), ("contingents", 150)]
    ):
        queue_at(store, DAY + timedelta(hours=9 + hour), f"d{hour}", make_payload(fact=fact, new_value=value))
    digest = RouteConfig(name="daily", urls=[http_sink.url("daily")], digest=DigestConfig(every="1d"))
    instant = RouteConfig(name="now", urls=[http_sink.url("now")], facts=["contingents"])
    settings = AlertSettings(backoff_seconds=60)

    # the same day: the instant route delivers, the digest waits
    report = Dispatcher(store, [digest, instant], settings).deliver_pending(now=DAY + timedelta(hours=20))
    assert http_sink.paths == ["/now"] and report.digests == 0
    with store.session() as session:
        assert {a.state for a in session.exec(select(Alert)).all()} == {"pending"}

    # after midnight (a fresh dispatcher: a restart loses nothing), one message with all three
    http_sink.fail_next = 1  # and the first try fails
    Dispatcher(store, [digest, instant], settings).deliver_pending(now=DAY + timedelta(days=1, minutes=5))
    assert http_sink.paths == ["/now"]
    report = Dispatcher(store, [digest, instant], settings).deliver_pending(
        now=DAY + timedelta(days=1, hours=1)
    )
    assert report.digests == 1 and report.delivered == 3
    assert http_sink.paths == ["/now", "/daily"]
    post = http_sink.posts[-1]
    assert "3 alerts" in post["title"]
    assert post["message"].index("displaced changed to 700000") < post["message"].index(
        "displaced changed to 710000"
    )
    assert "contingents changed to 150" in post["message"]
    with store.session() as session:
        assert {a.state for a in session.exec(select(Alert)).all()} == {"delivered"}

    # later runs send nothing again
    Dispatcher(store, [digest, instant], settings).deliver_pending(now=DAY + timedelta(days=3), force=True)
    assert len(http_sink.posts) == 2


def test_digest_splits_past_max_items(store: Store, http_sink: Any, make_payload: Any) -> None:
    for i in range(5):
        queue_at(store, DAY + timedelta(minutes=i), f"m{i}", make_payload(new_value=i))
    route = RouteConfig(name="d", urls=[http_sink.url()], digest=DigestConfig(every="1h", max_items=2))
    report = Dispatcher(store, [route], AlertSettings()).deliver_pending(now=DAY + timedelta(hours=2))
    assert report.digests == 3 and report.delivered == 5
    assert ["More alerts follow" in m for m in http_sink.messages] == [True, True, False]
