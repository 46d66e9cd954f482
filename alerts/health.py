"""Alerts about the monitor itself: a source that fails, recovers, or goes quiet.

The policy is webchanges': a source failing `error_after` runs in a row alerts once; it alerts again only
if the error changes; it alerts once more when it recovers. A source whose fetches succeed but bring
nothing new for longer than `silent_after` alerts as silent, once per silence. Alerts go through the same
outbox as fact alerts, in the caller's transaction.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from alerts.config import AlertSettings
from alerts.models import SourceAlertState
from alerts.outbox import enqueue
from alerts.redact import redact_text
from pipeline.store.models import Alert

logger = logging.getLogger(__name__)

_SPACES = re.compile(r"\s+")


def _same_error(a: str | None, b: str | None) -> bool:
    """Errors compare by text with whitespace collapsed (a reworded message is a different error)."""
    return _SPACES.sub(" ", a or "").strip() == _SPACES.sub(" ", b or "").strip()


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 86400:
        return (
            f"{seconds // 86400}d {seconds % 86400 // 3600}h"
            if seconds % 86400 >= 3600
            else f"{seconds // 86400}d"
        )
    if seconds >= 3600:
        return (
            f"{seconds // 3600}h {seconds % 3600 // 60}m" if seconds % 3600 >= 60 else f"{seconds // 3600}h"
        )
    return f"{max(seconds // 60, 0)}m"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def get_health(session: Session, source: str) -> SourceAlertState | None:
    return session.exec(select(SourceAlertState).where(SourceAlertState.source == source)).first()


def record_source_result(
    session: Session,
    source: str,
    *,
    ok: bool,
    error: str | None = None,
    new_items: int = 0,
    now: datetime | None = None,
    settings: AlertSettings | None = None,
    url: str | None = None,
    error_after: int | None = None,
    silent_after: timedelta | None = None,
    topic: str | None = None,
) -> Alert | None:
    """Record one run of a source and queue the health alert it calls for, if any.

    `ok` is whether the run succeeded as a whole; `error` its message when not (redacted before storing:
    it may carry a URL with credentials); `new_items` how many new articles it found. `error_after` and
    `silent_after` override the settings for this source. Does not commit; the caller commits with the
    rest of the run's rows.
    """
    settings = settings or AlertSettings()
    now = now or datetime.now(UTC)
    threshold = error_after or settings.error_after
    quiet = silent_after if silent_after is not None else settings.silent_delta
    health = get_health(session, source)
    if health is None:
        health = SourceAlertState(source=source, first_seen=now)
    health.updated = now
    base = {"source": source, "url": url, "topic": topic}

    def emit(event: str, **fields: object) -> Alert | None:
        health.alerts_sent += 1
        key = f"health:{source}:{health.alerts_sent}"
        return enqueue(session, event=event, key=key, payload={**base, **fields}, created=now)

    alert: Alert | None = None
    if not ok:
        message = redact_text((error or "unknown error").strip()) or "unknown error"
        if health.failures == 0:
            health.failing_since = now
        health.failures += 1
        health.last_error = message[:2000]
        if health.failures >= threshold and (
            health.error_alerted is None or not _same_error(health.error_alerted, message)
        ):
            alert = emit(
                "source_error",
                error=message,
                failures=health.failures,
                since=_iso(health.failing_since),
                previous_error=health.error_alerted,
            )
            health.error_alerted = message
            logger.info("source %s: error alert after %s failed runs", source, health.failures)
    else:
        if health.error_alerted is not None:
            alert = emit(
                "source_recovered",
                reason="error",
                error=health.error_alerted,
                failures=health.failures,
                since=_iso(health.failing_since),
            )
            logger.info("source %s recovered after %s failed runs", source, health.failures)
        health.failures, health.error_alerted, health.failing_since = 0, None, None
        health.last_ok = now
        if new_items > 0:
            if health.silent_alerted and alert is None:
                alert = emit(
                    "source_recovered", reason="silence", since=_iso(health.last_new or health.first_seen)
                )
            health.silent_alerted = False
            health.last_new = now
        elif quiet is not None and not health.silent_alerted:
            since = health.last_new or health.first_seen
            if now - since >= quiet:
                alert = emit("silent", since=_iso(since), silent_for=_human(now - since))
                health.silent_alerted = True
                logger.info("source %s silent since %s", source, since)
    session.add(health)
    session.flush()
    return alert
