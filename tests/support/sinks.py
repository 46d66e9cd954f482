"""Real delivery targets on loopback, shared by every test that reads what alerts delivered.

`smtp_sink`: an aiosmtpd SMTP server with AUTH LOGIN/PLAIN; `http_sink`: an HTTP endpoint recording the JSON
that apprise's json:// posts, which can be told to fail a number of requests first.
"""

from __future__ import annotations

import email
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_USER = "desk"
SMTP_PASSWORD = "s3cret-Pa55word"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
