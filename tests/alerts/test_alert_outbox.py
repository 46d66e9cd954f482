"""The outbox: idempotent, transactional, and rendered with the contract's title and body."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from alerts.outbox import enqueue
from pipeline.store import Store
from pipeline.store.models import Alert


def test_enqueue_is_idempotent_by_key(store: Store, make_payload: Any) -> None:
    with store.session() as session:
        first = enqueue(session, event="change", key="k1", payload=make_payload())
        again = enqueue(session, event="change", key="k1", payload=make_payload(new_value="other"))
        session.commit()
    assert first is not None and again is None
    with store.session() as session:
        again_later = enqueue(session, event="change", key="k1", payload=make_payload())
        session.commit()
        rows = session.exec(select(Alert)).all()
    assert again_later is None
    assert len(rows) == 1
    alert = rows[0]
    assert (alert.event, alert.fact, alert.state, alert.attempts) == ("change", "mandate_end", "pending", 0)
    assert alert.title == "mandate_end changed to 2026-10-02 (was 2025-10-02)"
    assert "The council extended the mission until 2 October 2026." in alert.body
    assert alert.payload["independent_sources"] == 3


def test_alert_rolls_back_with_the_change(store: Store, make_payload: Any) -> None:
    with store.session() as session:
        enqueue(session, event="change", key="k-rollback", payload=make_payload())
        session.rollback()
    with store.session() as session:
        assert session.exec(select(Alert)).all() == []


def test_payload_values_become_json(store: Store, make_payload: Any) -> None:
    from datetime import UTC, date, datetime

    payload = make_payload(published=datetime(2025, 9, 30, 14, tzinfo=UTC), new_value=date(2026, 10, 2))
    with store.session() as session:
        alert = enqueue(session, event="change", key="k-json", payload=payload)
        session.commit()
    assert alert is not None
    with store.session() as session:
        stored = session.exec(select(Alert)).one()
    assert stored.payload["published"] == "2025-09-30T14:00:00+00:00"
    assert stored.payload["new_value"] == "2026-10-02"
