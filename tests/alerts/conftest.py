"""Real delivery targets on loopback: an SMTP server (aiosmtpd) and an HTTP endpoint for apprise json://."""

from __future__ import annotations

import email
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from alerts.config import AlertSettings
from alerts.models import SourceAlertState
from pipeline.store import Store

SMTP_USER = "desk"
SMTP_PASSWORD = "s3cret-Pa55word"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


@dataclass
class HttpSink:
    """Records JSON posts; `fail_next` answers that many requests with HTTP 500 first."""

    port: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    fail_next: int = 0
    failures_served: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    @property
    def messages(self) -> list[str]:
        return [p["message"] for p in self.posts]


@pytest.fixture
def http_sink() -> Iterator[HttpSink]:
    sink = HttpSink()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with sink.lock:
                if sink.fail_next > 0:
                    sink.fail_next -= 1
                    sink.failures_served += 1
                    status = 500
                else:
                    sink.posts.append(json.loads(body))
                    sink.paths.append(self.path)
                    status = 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sink.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield sink
    server.shutdown()
    server.server_close()


@dataclass
class SmtpSink:
    port: int
    user: str = SMTP_USER
    password: str = SMTP_PASSWORD
    raw: list[bytes] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    def url(self, **query: str) -> str:
        params = {"mode": "insecure", "from": "factwatch@example.org", "to": "desk@example.org", **query}
        qs = "&".join(f"{k}={v}" for k, v in params.items())
        return f"mailto://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{self.port}?{qs}"

    @property
    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(raw) for raw in self.raw]


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            sink.raw.append(envelope.original_content or envelope.content)
            return "250 OK"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        sink.logins.append((login, password))
        return AuthResult(success=(login, password) == (SMTP_USER, SMTP_PASSWORD), handled=False)

    controller = Controller(
        Handler(), hostname="127.0.0.1", port=sink.port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    yield sink
    controller.stop()


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
