"""Delivery through apprise json:// to a real HTTP endpoint on loopback: once each, retries, restarts."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from alerts.config import AlertSettings, RouteConfig
from alerts.deliver import Dispatcher, build_routes, validate_urls
from alerts.errors import AlertConfigError
from alerts.outbox import enqueue
from pipeline.store import Store
from pipeline.store.models import Alert, AlertDelivery

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def queue(store: Store, payloads: list[dict[str, Any]], event: str = "change") -> list[int]:
    ids = []
    with store.session() as session:
        for i, payload in enumerate(payloads):
            alert = enqueue(
                session, event=event, key=f"{event}-{i}-{payload.get('new_value')}", payload=payload
            )
            assert alert is not None
            ids.append(alert.id)
        session.commit()
    return [i for i in ids if i is not None]


def alerts(store: Store) -> list[Alert]:
    with store.session() as session:
        return list(session.exec(select(Alert).order_by(Alert.id)).all())  # type: ignore[arg-type]


def test_delivers_each_alert_once(
    store: Store, http_sink: Any, make_payload: Any, fast_settings: Any
) -> None:
    queue(store, [make_payload(new_value=v) for v in ("2026-10-02", "2027-01-01", "2027-06-30")])
    route = RouteConfig(name="desk", urls=[http_sink.url()])
    report = Dispatcher(store, [route], fast_settings).deliver_pending(now=NOW)
    assert report.delivered == 3 and report.failed == 0
    assert len(http_sink.posts) == 3
    assert "mandate_end changed to 2027-01-01 (was 2025-10-02)" in [p["title"] for p in http_sink.posts]
    assert all("The council extended the mission" in m for m in http_sink.messages)
    assert all(a.state == "delivered" and a.attempts == 1 and a.delivered for a in alerts(store))
    # a second pass, and a fresh dispatcher (a restart), send nothing again
    Dispatcher(store, [route], fast_settings).deliver_pending(now=NOW + timedelta(days=1), force=True)
    assert len(http_sink.posts) == 3


def test_endpoint_failing_then_recovering(
    store: Store, http_sink: Any, make_payload: Any, fast_settings: AlertSettings
) -> None:
    queue(store, [make_payload(new_value=f"v{i}") for i in range(4)])
    dispatcher = Dispatcher(store, [RouteConfig(name="desk", urls=[http_sink.url()])], fast_settings)
    http_sink.fail_next = 100
    report = dispatcher.deliver_pending(now=NOW)
    assert report.failed == 4 and report.delivered == 0 and http_sink.posts == []
    rows = alerts(store)
    assert all(a.state == "pending" and a.attempts == 1 for a in rows)
    assert all(a.next_attempt == NOW + timedelta(seconds=60) for a in rows)
    assert all("500" in (a.last_error or "") for a in rows)
    # backoff: nothing is tried again before next_attempt
    served = http_sink.failures_served
    dispatcher.deliver_pending(now=NOW + timedelta(seconds=30))
    assert http_sink.failures_served == served
    # second failure doubles the delay
    dispatcher.deliver_pending(now=NOW + timedelta(seconds=61))
    with store.session() as session:
        delivery = session.exec(select(AlertDelivery)).first()
    assert delivery is not None and delivery.attempts == 2 and delivery.next_attempt is not None
    assert delivery.next_attempt == NOW + timedelta(seconds=61 + 120)
    # recovery, with one last hiccup: every alert still arrives exactly once
    http_sink.fail_next = 1
    dispatcher.deliver_pending(now=NOW + timedelta(hours=1))
    dispatcher.deliver_pending(now=NOW + timedelta(hours=2))
    dispatcher.deliver_pending(now=NOW + timedelta(hours=3))
    assert Counter(p["title"] for p in http_sink.posts) == Counter(a.title for a in rows)
    assert len(http_sink.posts) == 4
    assert all(a.state == "delivered" for a in alerts(store))


def test_gives_up_after_max_attempts_and_flush_retries(
    store: Store, http_sink: Any, make_payload: Any
) -> None:
    settings = AlertSettings(max_attempts=2, backoff_seconds=1, send_timeout_seconds=5)
    queue(store, [make_payload()])
    dispatcher = Dispatcher(store, [RouteConfig(name="desk", urls=[http_sink.url()])], settings)
    http_sink.fail_next = 100
    dispatcher.deliver_pending(now=NOW)
    report = dispatcher.deliver_pending(now=NOW + timedelta(minutes=1))
    assert report.gave_up == 1
    [alert] = alerts(store)
    assert (alert.state, alert.attempts) == ("failed", 2)
    assert dispatcher.deliver_pending(now=NOW + timedelta(days=1)).delivered == 0  # failed stays failed
    http_sink.fail_next = 0
    assert dispatcher.deliver_pending(force=True).delivered == 1  # `factwatch alerts flush`
    assert alerts(store)[0].state == "delivered" and len(http_sink.posts) == 1


def test_multi_url_route_resends_only_to_the_url_that_failed(
    store: Store, http_sink: Any, make_payload: Any, fast_settings: AlertSettings
) -> None:
    queue(store, [make_payload()])
    route = RouteConfig(name="both", urls=[http_sink.url("first"), http_sink.url("second")])
    dispatcher = Dispatcher(store, [route], fast_settings)
    http_sink.fail_next = 1  # the first URL's request fails, the second's succeeds
    dispatcher.deliver_pending(now=NOW)
    assert http_sink.paths == ["/second"]
    assert alerts(store)[0].state == "pending"
    dispatcher.deliver_pending(now=NOW + timedelta(hours=1))
    assert sorted(http_sink.paths) == ["/first", "/second"]
    assert alerts(store)[0].state == "delivered"


def test_routes_select_by_event_fact_topic_and_tag(
    store: Store, http_sink: Any, make_payload: Any, fast_settings: AlertSettings
) -> None:
    queue(
        store, [make_payload(fact="mandate_end"), make_payload(fact="displaced", new_value=5, tags=["minor"])]
    )
    queue(store, [make_payload(fact="commander", topic="other-topic")], event="conflict")
    queue(store, [{"source": "wire", "error": "HTTP 503"}], event="source_error")
    routes = [
        RouteConfig(name="mandate", urls=[http_sink.url("mandate")], facts=["mandate_end"]),
        RouteConfig(name="minor", urls=[http_sink.url("minor")], tags=["minor"]),
        RouteConfig(
            name="demo", urls=[http_sink.url("demo")], topics=["demo-topic"], events=["change", "conflict"]
        ),
        RouteConfig(name="ops", urls=[http_sink.url("ops")], events=["source_error"], facts=["mandate_end"]),
    ]
    report = Dispatcher(store, routes, fast_settings).deliver_pending(now=NOW)
    got = Counter(http_sink.paths)
    assert got == Counter({"/mandate": 1, "/minor": 1, "/demo": 2, "/ops": 1})
    assert report.unrouted == 1  # the other topic's conflict: no route wants it
    assert all(a.state == "delivered" for a in alerts(store))


def test_notify_urls_form_a_route_for_every_event(
    store: Store, http_sink: Any, make_payload: Any, fast_settings: AlertSettings
) -> None:
    queue(store, [{"source": "wire", "error": "HTTP 503", "failures": 3}], event="source_error")
    queue(store, [make_payload()], event="reported")
    report = Dispatcher(store, [], fast_settings, [http_sink.url("cli")]).deliver_pending(now=NOW)
    assert report.delivered == 2 and http_sink.paths == ["/cli", "/cli"]
    with store.session() as session:
        assert {d.route for d in session.exec(select(AlertDelivery)).all()} == {"notify"}


def test_alert_no_route_wants_is_settled(store: Store, http_sink: Any, make_payload: Any) -> None:
    queue(store, [make_payload()], event="initial")
    route = RouteConfig(name="desk", urls=[http_sink.url()])  # change + conflict only
    report = Dispatcher(store, [route], AlertSettings()).deliver_pending(now=NOW)
    assert report.unrouted == 1 and http_sink.posts == [] and alerts(store)[0].state == "delivered"


def test_without_routes_alerts_wait(store: Store, make_payload: Any) -> None:
    queue(store, [make_payload()])
    assert Dispatcher(store, [], AlertSettings()).deliver_pending().delivered == 0
    assert alerts(store)[0].state == "pending"


def test_claimed_delivery_is_left_to_its_owner(
    store: Store, http_sink: Any, make_payload: Any, fast_settings: AlertSettings
) -> None:
    [alert_id] = queue(store, [make_payload()])
    route = RouteConfig(name="desk", urls=[http_sink.url()])
    with store.session() as session:
        session.add(
            AlertDelivery(
                alert_id=alert_id, route="desk", claimed_until=datetime.now(UTC) + timedelta(hours=1)
            )
        )
        session.commit()
    report = Dispatcher(store, [route], fast_settings).deliver_pending(now=NOW)
    assert report.waiting == 1 and http_sink.posts == []
    with store.session() as session:
        row = session.exec(select(AlertDelivery)).one()
        row.claimed_until = datetime.now(UTC) - timedelta(seconds=1)  # the owner died; its claim lapsed
        session.add(row)
        session.commit()
    assert Dispatcher(store, [route], fast_settings).deliver_pending(now=NOW).delivered == 1


def test_killed_between_commit_and_delivery(
    db_url: str, store: Store, http_sink: Any, fast_settings: AlertSettings, tmp_path: Path
) -> None:
    """A process commits a change's alert, then dies (SIGKILL) the moment it starts to send it."""
    script = textwrap.dedent(
        f"""
        import os, signal
        from alerts.config import AlertSettings, RouteConfig
        from alerts.deliver import Dispatcher
        from alerts.outbox import enqueue
        from pipeline.store import Store

        store = Store.open({db_url!r})
        with store.session() as session:
            enqueue(session, event="change", key="crash-1",
                    payload={{"fact": "kenya_police_deployed", "old_value": 400, "new_value": 600,
                             "evidence": "About 600 officers are now deployed.", "url": "https://x.example.org/a"}})
            session.commit()

        def die(*args):
            os.kill(os.getpid(), signal.SIGKILL)

        route = RouteConfig(name="desk", urls=[{http_sink.url()!r}])
        Dispatcher(store, [route], AlertSettings(claim_seconds=0.2), sender=die).deliver_pending()
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert http_sink.posts == []
    [alert] = alerts(store)
    assert alert.state == "pending"
    route = RouteConfig(name="desk", urls=[http_sink.url()])
    time.sleep(0.25)  # the dead process's claim on the delivery lapses
    Dispatcher(store, [route], fast_settings).deliver_pending()
    Dispatcher(store, [route], fast_settings).deliver_pending(force=True)
    assert [p["title"] for p in http_sink.posts] == ["kenya_police_deployed changed to 600 (was 400)"]
    assert alerts(store)[0].state == "delivered"


def test_unknown_scheme_is_a_config_error_without_secrets() -> None:
    with pytest.raises(AlertConfigError, match=r"route 'desk'.*nosuch://admin:\*\*\*@") as info:
        validate_urls(["nosuch://admin:topsecretpw@example.org/x"], route="desk")
    assert "topsecretpw" not in str(info.value)
    with pytest.raises(AlertConfigError, match="reserved"):
        build_routes([RouteConfig(name="notify", urls=["json://127.0.0.1/x"])], ["json://h/y"])
    with pytest.raises(AlertConfigError, match="defined twice"):
        build_routes([RouteConfig(name="a", urls=["json://h/x"]), RouteConfig(name="a", urls=["json://h/y"])])


def test_failed_delivery_logs_and_errors_carry_no_secret(
    store: Store,
    http_sink: Any,
    make_payload: Any,
    fast_settings: AlertSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "Qm9SecretHookTok3n"
    queue(store, [make_payload()])
    url = f"json://hookuser:{secret}@127.0.0.1:{http_sink.port}/hook?apikey={secret}"
    http_sink.fail_next = 1
    with caplog.at_level(logging.DEBUG):
        report = Dispatcher(store, [RouteConfig(name="desk", urls=[url])], fast_settings).deliver_pending(
            now=NOW
        )
    assert report.failed == 1 and report.errors
    assert any(r.name == "apprise" for r in caplog.records)  # apprise did log about the failure
    assert secret not in caplog.text
    assert secret not in " ".join(report.errors) + (alerts(store)[0].last_error or "")
