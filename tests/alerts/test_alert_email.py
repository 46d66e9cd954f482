"""Real SMTP delivery on loopback: apprise mailto:// with login to an aiosmtpd server."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alerts.config import AlertSettings, RouteConfig
from alerts.deliver import Dispatcher
from alerts.outbox import enqueue
from pipeline.store import Store


def parts(message: Any) -> dict[str, str]:
    found = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            found[part.get_content_subtype()] = part.get_payload(decode=True).decode(
                part.get_content_charset()
            )
    return found


def test_html_route_sends_text_and_html_parts(store: Store, smtp_sink: Any, make_payload: Any) -> None:
    hostile = "Officials said <script>alert(1)</script> the {{ 7*7 }} mandate runs to 2 October 2026."
    with store.session() as session:
        enqueue(session, event="change", key="mail-1", payload=make_payload(evidence=hostile, entity="Kenya"))
        session.commit()
    route = RouteConfig(name="email", urls=[smtp_sink.url()], format="html")
    report = Dispatcher(store, [route], AlertSettings(send_timeout_seconds=10)).deliver_pending(
        now=datetime.now(UTC)
    )
    assert report.delivered == 1, report.errors
    assert smtp_sink.logins == [(smtp_sink.user, smtp_sink.password)]
    [message] = smtp_sink.messages
    assert message["Subject"] == "mandate_end (Kenya) changed to 2026-10-02 (was 2025-10-02)"
    assert message["To"] == "desk@example.org"
    body = parts(message)
    assert set(body) == {"plain", "html"}
    html, text = body["html"], body["plain"]
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "{{ 7*7 }}" in html and "49" not in html
    assert 'href="https://news.example.org/world/council-extends-mission"' in html
    for needed in ("2025-10-02", "2026-10-02", "Example News", "2025-09-30", "Independent sources"):
        assert needed in html and needed in text
    assert "<td>" not in text  # the plain part is text, not markup


def test_text_route_sends_plain_mail_and_wrong_password_fails_cleanly(
    store: Store, smtp_sink: Any, make_payload: Any
) -> None:
    with store.session() as session:
        enqueue(session, event="reported", key="mail-2", payload=make_payload())
        session.commit()
    bad = smtp_sink.url().replace(smtp_sink.password, "wrong-Passw0rd")
    settings = AlertSettings(send_timeout_seconds=10)
    report = Dispatcher(
        store, [RouteConfig(name="email", urls=[bad], events=["reported"])], settings
    ).deliver_pending()
    assert report.failed == 1 and smtp_sink.raw == []
    assert all("wrong-Passw0rd" not in e for e in report.errors)
    good = RouteConfig(name="email", urls=[smtp_sink.url()], events=["reported"])
    assert Dispatcher(store, [good], settings).deliver_pending(force=True).delivered == 1
    [message] = smtp_sink.messages
    assert message.get_content_type() == "text/plain"
    assert 'Evidence:  "The council extended the mission until 2 October 2026."' in parts(message)["plain"]
