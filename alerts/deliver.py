"""Deliver outbox alerts through apprise, per route, exactly once each.

Every (alert, route) pair has an AlertDelivery row. A send is committed as soon as it succeeds, per URL,
so a crash or a restart resumes where it stopped: nothing delivered is sent again (short of a crash in the
instant between a server accepting a message and our commit), nothing pending is forgotten. Failures are
retried with doubling delays; a row is claimed before sending so the daemon and `factwatch alerts flush`
running together never both send it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import apprise
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from alerts.config import AlertSettings, EventKind, RouteConfig
from alerts.errors import AlertConfigError
from alerts.redact import redact_text, redact_url
from alerts.render import Message, render_alert, render_digest, render_title
from pipeline.store import Store
from pipeline.store.models import Alert, AlertDelivery

logger = logging.getLogger(__name__)

NOTIFY_ROUTE = "notify"
_BATCH = 500
_NOTIFY_TYPES = {
    "change": apprise.NotifyType.INFO,
    "initial": apprise.NotifyType.INFO,
    "reported": apprise.NotifyType.INFO,
    "conflict": apprise.NotifyType.WARNING,
    "silent": apprise.NotifyType.WARNING,
    "source_error": apprise.NotifyType.FAILURE,
    "source_recovered": apprise.NotifyType.SUCCESS,
}
_FORMATS = {
    "text": apprise.NotifyFormat.TEXT,
    "markdown": apprise.NotifyFormat.MARKDOWN,
    "html": apprise.NotifyFormat.HTML,
}

# (url, message, notify_type, timeout) -> (ok, error); the seam tests and other transports can replace
Sender = Callable[[str, Message, str, float], tuple[bool, str | None]]


def utcnow() -> datetime:
    return datetime.now(UTC)


def fingerprint(url: str) -> str:
    """Identifies a URL in `AlertDelivery.sent_to` without storing the secret it may carry."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


class _RedactApprise(logging.Filter):
    """Apprise logs through its own logger; scrub the route's secrets from anything it says."""

    def __init__(self, urls: Sequence[str]) -> None:
        super().__init__()
        self.urls = list(urls)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_text(record.getMessage(), self.urls)
        record.args = ()
        return True


@contextmanager
def redacted_apprise_logs(urls: Sequence[str]) -> Iterator[None]:
    apprise_logger = logging.getLogger("apprise")
    flt = _RedactApprise(urls)
    apprise_logger.addFilter(flt)
    try:
        yield
    finally:
        apprise_logger.removeFilter(flt)


def validate_urls(urls: Iterable[str], *, route: str = NOTIFY_ROUTE) -> None:
    """Refuse URLs apprise cannot use, before any alert depends on them."""
    urls = [u for u in urls if u and u.strip()]
    with redacted_apprise_logs(urls):
        for url in urls:
            if "://" not in url:
                raise AlertConfigError(
                    f"route {route!r}: {redact_url(url)} is not a URL (expected scheme://...)"
                )
            if apprise.Apprise.instantiate(url.strip()) is None:
                scheme = url.split("://", 1)[0]
                raise AlertConfigError(
                    f"route {route!r}: {redact_url(url)} is not a usable apprise URL "
                    f"(unknown scheme {scheme!r} or missing parts)"
                )


def apprise_send(url: str, message: Message, notify_type: str, timeout: float) -> tuple[bool, str | None]:
    """One notification to one URL; a fresh Apprise object so its per-plugin throttle never sleeps."""
    with redacted_apprise_logs([url]):
        try:
            apobj = apprise.Apprise()
            if not apobj.add(url):
                return False, f"{redact_url(url)}: not a usable apprise URL"
            result = apobj.notify(
                body=message.body,
                title=message.title,
                body_format=_FORMATS[message.format],
                notify_type=notify_type,
                timeout=timeout,
            )
        except Exception as exc:  # a plugin bug must not stop the other deliveries
            return False, redact_text(f"{type(exc).__name__}: {exc}", [url])
        if result:
            return True, None
        details = [e.message for e in result.logs() if e.level in ("WARNING", "ERROR", "CRITICAL")]
        reason = "; ".join(dict.fromkeys(details)) or "delivery failed"
        return False, redact_text(f"{redact_url(url)}: {reason}", [url])


@dataclass
class Route:
    """A route as the dispatcher uses it: the config plus matching."""

    config: RouteConfig
    urls: list[str]

    @property
    def name(self) -> str:
        return self.config.name

    def matches(self, alert: Alert) -> bool:
        cfg = self.config
        payload = alert.payload if isinstance(alert.payload, dict) else {}
        if alert.event not in cfg.events:
            return False
        if cfg.facts and alert.fact is not None and alert.fact not in cfg.facts:
            return False
        if cfg.topics and payload.get("topic") not in cfg.topics:
            return False
        tags = payload.get("tags") or []
        return not (cfg.tags and not set(cfg.tags) & set(tags))


@dataclass
class DeliveryReport:
    delivered: int = 0  # (alert, route) deliveries confirmed by this run
    failed: int = 0  # attempts that failed and will be retried
    gave_up: int = 0  # deliveries that reached max_attempts
    waiting: int = 0  # not due yet: backoff, digest window, or claimed by another process
    digests: int = 0  # digest messages sent
    unrouted: int = 0  # alerts no route wanted; marked delivered
    errors: list[str] = field(default_factory=list)  # redacted

    def summary(self) -> str:
        text = (
            f"alerts: {self.delivered} delivered, {self.failed} to retry, {self.gave_up} gave up, "
            f"{self.waiting} waiting, {self.digests} digests"
        )
        return text + (f", {self.unrouted} matched no route" if self.unrouted else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            "failed": self.failed,
            "gave_up": self.gave_up,
            "waiting": self.waiting,
            "digests": self.digests,
            "unrouted": self.unrouted,
            "errors": list(self.errors),
        }


def _constant(message: Message) -> Callable[[list[int]], Message]:
    def build(_ids: list[int]) -> Message:
        return message

    return build


def window_start(now: datetime, every: timedelta, offset: timedelta) -> datetime:
    """Start of the digest window containing `now`; windows are aligned to the epoch, shifted by offset."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC) + offset
    periods = (now - epoch) // every
    return epoch + periods * every


def build_routes(routes: Sequence[RouteConfig], extra_urls: Sequence[str] = ()) -> list[Route]:
    """Validated, enabled routes with URLs; `extra_urls` (--notify) become the route `notify`, all events."""
    configured = list(routes)
    extra = [u.strip() for u in extra_urls if u and u.strip()]
    if extra:
        if any(r.name == NOTIFY_ROUTE for r in configured):
            raise AlertConfigError(f"route name {NOTIFY_ROUTE!r} is reserved for --notify / FACTWATCH_NOTIFY")
        all_events: list[EventKind] = list(get_args(EventKind))
        configured.append(RouteConfig(name=NOTIFY_ROUTE, urls=extra, events=all_events))
    names: set[str] = set()
    built: list[Route] = []
    for cfg in configured:
        if cfg.name in names:
            raise AlertConfigError(f"route {cfg.name!r} is defined twice")
        names.add(cfg.name)
        urls = [u.strip() for u in cfg.urls if u and u.strip()]
        validate_urls(urls, route=cfg.name)
        if not cfg.enabled:
            continue
        if not urls:
            logger.info("route %s has no URLs (an unset environment variable?); skipping it", cfg.name)
            continue
        built.append(Route(cfg, urls))
    return built


def send_test(
    route: Route, message: Message, settings: AlertSettings, sender: Sender | None = None
) -> list[tuple[str, bool, str | None]]:
    """Send a sample through every URL of a route; (redacted URL, ok, error) each. Nothing is stored."""
    send = sender or apprise_send
    results = []
    for url in route.urls:
        ok, error = send(url, message, apprise.NotifyType.INFO, settings.send_timeout_seconds)
        results.append((redact_url(url), ok, error))
    return results


class Dispatcher:
    """Sends pending alerts; safe to run from several processes and to kill at any point."""

    def __init__(
        self,
        store: Store,
        routes: list[RouteConfig],
        settings: AlertSettings,
        extra_urls: Sequence[str] = (),
        *,
        sender: Sender | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.send = sender or apprise_send
        self.routes = build_routes(routes, extra_urls)

    # ---- public -------------------------------------------------------------------------------------

    def deliver_pending(self, *, now: datetime | None = None, force: bool = False) -> DeliveryReport:
        """Send what is due. `force` ignores backoff and digest windows and retries failed alerts."""
        now = now or utcnow()
        report = DeliveryReport()
        if not self.routes:
            logger.debug("no alert routes configured; alerts stay pending")
            return report
        self._plan(now, force, report)
        for route in self.routes:
            if route.config.digest is None:
                self._deliver_single(route, now, force, report)
            else:
                self._deliver_digest(route, now, force, report)
        if report.delivered or report.failed or report.gave_up:
            logger.info(
                "alerts: %s delivered, %s failed, %s gave up, %s waiting",
                report.delivered,
                report.failed,
                report.gave_up,
                report.waiting,
            )
        return report

    def route(self, name: str) -> Route | None:
        return next((r for r in self.routes if r.name == name), None)

    def send_test(self, route: Route, message: Message) -> list[tuple[str, bool, str | None]]:
        return send_test(route, message, self.settings, self.send)

    # ---- planning: one delivery row per (alert, matching route) ---------------------------------------

    def _open_states(self, force: bool) -> list[str]:
        return ["pending", "failed"] if force else ["pending"]

    def _plan(self, now: datetime, force: bool, report: DeliveryReport) -> None:
        names = [r.name for r in self.routes]
        last_id = 0
        while True:
            with self.store.session() as session:
                alerts = session.exec(
                    select(Alert)
                    .where(col(Alert.state).in_(self._open_states(force)), col(Alert.id) > last_id)
                    .order_by(col(Alert.id))
                    .limit(_BATCH)
                ).all()
                if not alerts:
                    return
                last_id = alerts[-1].id or last_id
                ids = [a.id for a in alerts]
                existing = {
                    (d.alert_id, d.route)
                    for d in session.exec(
                        select(AlertDelivery).where(
                            col(AlertDelivery.alert_id).in_(ids), col(AlertDelivery.route).in_(names)
                        )
                    ).all()
                }
                for alert in alerts:
                    assert alert.id is not None
                    wanted = [r for r in self.routes if r.matches(alert)]
                    if not wanted:
                        alert.state, alert.delivered, alert.next_attempt = "delivered", utcnow(), None
                        report.unrouted += 1
                        session.add(alert)
                        continue
                    for route in wanted:
                        if (alert.id, route.name) not in existing:
                            session.add(AlertDelivery(alert_id=alert.id, route=route.name))
                    if force and alert.state == "failed":
                        # `flush` gives failed alerts one more try each time it is run
                        alert.state = "pending"
                        session.add(alert)
                        for row in session.exec(
                            select(AlertDelivery).where(
                                AlertDelivery.alert_id == alert.id, AlertDelivery.state == "failed"
                            )
                        ).all():
                            row.state = "pending"
                            session.add(row)
                session.commit()

    # ---- sending --------------------------------------------------------------------------------------

    def _due(
        self, route: Route, now: datetime, force: bool, limit: int, after: int
    ) -> list[tuple[AlertDelivery, Alert]]:
        """Due deliveries of a route with ids above `after`, oldest first (a cursor, so each run ends)."""
        with self.store.session() as session:
            query = (
                select(AlertDelivery, Alert)
                .join(Alert, col(Alert.id) == col(AlertDelivery.alert_id))
                .where(AlertDelivery.route == route.name, AlertDelivery.state == "pending")
                .where(col(Alert.state) == "pending", col(AlertDelivery.id) > after)
                .order_by(col(AlertDelivery.id))
            )
            if not force:
                query = query.where(
                    or_(col(AlertDelivery.next_attempt).is_(None), col(AlertDelivery.next_attempt) <= now)
                )
            if route.config.digest is not None and not force:
                digest = route.config.digest
                query = query.where(col(Alert.created) < window_start(now, digest.interval, digest.shift))
            rows = session.exec(query.limit(limit)).all()
            return [(d, a) for d, a in rows]

    def _claim(self, delivery_ids: list[int]) -> list[int]:
        """Reserve rows for this process; the conditional UPDATE is what makes concurrent runs safe."""
        wall = utcnow()
        until = wall + timedelta(seconds=self.settings.claim_seconds)
        claimed = []
        with self.store.session() as session:
            for delivery_id in delivery_ids:
                result = session.execute(
                    update(AlertDelivery)
                    .where(
                        col(AlertDelivery.id) == delivery_id,
                        col(AlertDelivery.state) == "pending",
                        or_(
                            col(AlertDelivery.claimed_until).is_(None),
                            col(AlertDelivery.claimed_until) < wall,
                        ),
                    )
                    .values(claimed_until=until)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(delivery_id)
            session.commit()
        return claimed

    def _deliver_single(self, route: Route, now: datetime, force: bool, report: DeliveryReport) -> None:
        after = 0
        while True:
            rows = self._due(route, now, force, _BATCH, after)
            if not rows:
                return
            for delivery, alert in rows:
                assert delivery.id is not None
                after = delivery.id
                if not self._claim([delivery.id]):
                    report.waiting += 1
                    continue
                message = render_alert(
                    alert.event,
                    alert.payload or {},
                    fmt=route.config.format,
                    title_template=route.config.title_template,
                    body_template=route.config.body_template,
                    history_url=self.settings.history_url,
                )
                self._send_batch(
                    route, [delivery.id], _constant(message), _NOTIFY_TYPES[alert.event], now, report
                )

    def _deliver_digest(self, route: Route, now: datetime, force: bool, report: DeliveryReport) -> None:
        digest = route.config.digest
        assert digest is not None
        start = window_start(now, digest.interval, digest.shift)
        label = f"until {start:%Y-%m-%d %H:%M} UTC" if not force else f"until {now:%Y-%m-%d %H:%M} UTC"
        after = 0
        while True:
            rows = self._due(route, now, force, digest.max_items + 1, after)
            if not rows:
                return
            batch, more = rows[: digest.max_items], max(len(rows) - digest.max_items, 0)
            batch.sort(key=lambda row: (row[1].created, row[1].id or 0))
            ids = [d.id for d, _ in batch if d.id is not None]
            after = max(ids)
            claimed = set(self._claim(ids))
            report.waiting += len(ids) - len(claimed)
            if not claimed:
                continue
            alerts = {d.id: a for d, a in batch}

            def build(
                member_ids: list[int], alerts: dict[int | None, Alert] = alerts, more: int = more
            ) -> Message:
                items = [
                    (
                        alerts[i].event,
                        alerts[i].payload or {},
                        render_title(
                            alerts[i].event,
                            alerts[i].payload or {},
                            template=route.config.title_template,
                            history_url=self.settings.history_url,
                        ),
                    )
                    for i in member_ids
                ]
                return render_digest(
                    items, fmt=route.config.format, route=route.name, window=label, more=more
                )

            members = [i for i in ids if i in claimed]
            if self._send_batch(route, members, build, apprise.NotifyType.INFO, now, report):
                report.digests += 1

    def _send_batch(
        self,
        route: Route,
        delivery_ids: list[int],
        build: Callable[[list[int]], Message],
        notify_type: str,
        now: datetime,
        report: DeliveryReport,
    ) -> bool:
        """Send claimed deliveries through each URL of the route that has not had them yet; record."""
        errors: list[str] = []
        sent_any = False
        for url in route.urls:
            fp = fingerprint(url)
            with self.store.session() as session:
                rows = [session.get(AlertDelivery, i) for i in delivery_ids]
                members = [r for r in rows if r is not None and fp not in (r.sent_to or [])]
            if not members:
                continue
            member_ids = [m.id for m in members if m.id is not None]
            ok, error = self.send(url, build(member_ids), notify_type, self.settings.send_timeout_seconds)
            if not ok:
                errors.append(error or f"{redact_url(url)}: delivery failed")
                logger.warning("route %s: delivery failed: %s", route.name, errors[-1])
                continue
            sent_any = True
            with self.store.session() as session:  # commit at once: this URL must never get these again
                for i in member_ids:
                    row = session.get(AlertDelivery, i)
                    if row is not None:
                        row.sent_to = sorted({*(row.sent_to or []), fp})
                        session.add(row)
                session.commit()
        self._record(route, delivery_ids, errors, now, report)
        return sent_any

    def _record(
        self, route: Route, delivery_ids: list[int], errors: list[str], now: datetime, report: DeliveryReport
    ) -> None:
        """Settle claimed deliveries; `now` schedules retries, the wall clock stamps what was delivered."""
        wall = utcnow()
        wanted = {fingerprint(u) for u in route.urls}
        with self.store.session() as session:
            touched: set[int] = set()
            for i in delivery_ids:
                row = session.get(AlertDelivery, i)
                if row is None:
                    continue
                row.claimed_until = None
                if wanted <= set(row.sent_to or []):
                    row.state, row.delivered, row.next_attempt, row.last_error = "delivered", wall, None, None
                    row.attempts += 1
                    report.delivered += 1
                else:
                    row.attempts += 1
                    row.last_error = "; ".join(errors)[:2000] or "delivery failed"
                    if row.attempts >= self.settings.max_attempts:
                        row.state, row.next_attempt = "failed", None
                        report.gave_up += 1
                    else:
                        row.next_attempt = now + self.settings.backoff(row.attempts)
                        report.failed += 1
                    report.errors.append(f"{route.name}: {row.last_error}")
                session.add(row)
                touched.add(row.alert_id)
            session.flush()
            for alert_id in touched:
                self._update_alert(session, alert_id)
            session.commit()

    def _update_alert(self, session: Session, alert_id: int) -> None:
        """The alert's state summarises its deliveries over the routes configured now."""
        alert = session.get(Alert, alert_id)
        if alert is None:
            return
        names = [r.name for r in self.routes if r.matches(alert)]
        rows = session.exec(
            select(AlertDelivery).where(
                AlertDelivery.alert_id == alert_id, col(AlertDelivery.route).in_(names)
            )
        ).all()
        if not rows:
            return
        alert.attempts = sum(r.attempts for r in rows)
        errors = [f"{r.route}: {r.last_error}" for r in rows if r.last_error and r.state != "delivered"]
        alert.last_error = "; ".join(errors)[:2000] or None
        pending = [r for r in rows if r.state == "pending"]
        if all(r.state == "delivered" for r in rows) and len(rows) == len(names):
            alert.state = "delivered"
            alert.delivered = max(r.delivered for r in rows if r.delivered is not None)
            alert.next_attempt = None
        elif pending or len(rows) < len(names):
            alert.state = "pending"
            times = [r.next_attempt for r in pending if r.next_attempt is not None]
            alert.next_attempt = min(times) if times else None
        else:
            alert.state, alert.next_attempt = "failed", None
        session.add(alert)
