"""The outbox: alerts are rows written in the same transaction as the event that causes them.

If the change commits, its alert exists; if it rolls back, so does the alert. Delivery happens later
(alerts.deliver), from the rows alone, so a crash between the two loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from alerts.render import render_alert
from pipeline.store.models import Alert

logger = logging.getLogger(__name__)


def _jsonable(value: Any) -> Any:
    """Payloads are stored as JSON: dates become ISO strings, tuples lists, anything else its str()."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)


def find_alert(session: Session, key: str) -> Alert | None:
    return session.exec(select(Alert).where(Alert.key == key)).first()


def enqueue(
    session: Session,
    *,
    event: str,
    key: str,
    payload: dict[str, Any],
    change_id: int | None = None,
    history_url: str | None = None,
    created: datetime | None = None,
) -> Alert | None:
    """Add an alert to the caller's transaction; None (and nothing added) when `key` already exists.

    The stored title and body are the default text rendering, for `factwatch alerts` and for routes
    without their own templates; each route renders its own format from `payload` at delivery time.
    Does not commit.
    """
    if find_alert(session, key) is not None:
        logger.debug("alert %s already queued; not adding it again", key)
        return None
    data = _jsonable(payload)
    message = render_alert(event, data, history_url=history_url)
    alert = Alert(
        event=event,
        key=key,
        fact=data.get("fact"),
        entity=data.get("entity"),
        title=message.title,
        body=message.body,
        payload=data,
        change_id=change_id,
        state="pending",
    )
    if created is not None:
        alert.created = created
    if session.get_bind().dialect.name == "sqlite":
        # SQLite serialises writers, and pysqlite's savepoints are unreliable; the lookup above suffices.
        session.add(alert)
        session.flush()
        return alert
    try:
        with session.begin_nested():  # another process may insert the same key between lookup and insert
            session.add(alert)
    except IntegrityError:
        logger.debug("alert %s was queued concurrently; not adding it again", key)
        return None
    return alert
