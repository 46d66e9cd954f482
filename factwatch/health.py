"""A tiny HTTP health endpoint for container orchestration: `GET /healthz` → JSON, 200 or 503.

It runs on its own thread so it can still answer — with 503 — when the daemon's event loop is stuck, which
is exactly when an orchestrator should restart the container. It binds to loopback by default: the
container's health check runs inside the container, and nothing else needs to reach it.

| setting | flag            | environment            | default                 |
|---------|-----------------|------------------------|-------------------------|
| port    | --health-port N | FACTWATCH_HEALTH_PORT  | off (8787 in compose)   |
| address | --health-host   | FACTWATCH_HEALTH_HOST  | 127.0.0.1               |
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from factwatch.errors import UserError

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
DEFAULT_HEALTH_HOST = "127.0.0.1"
DEFAULT_HEALTH_PORT = 8787
HEALTH_PORT_ENV = "FACTWATCH_HEALTH_PORT"
HEALTH_HOST_ENV = "FACTWATCH_HEALTH_HOST"

HealthCheck = Callable[[], tuple[bool, dict[str, Any]]]


def resolve_health_port(arg: int | None) -> int | None:
    """The port to serve on, None when the endpoint is off; 0 picks a free port."""
    if arg is not None:
        value: int | str = arg
        where = "--health-port"
    else:
        raw = os.environ.get(HEALTH_PORT_ENV, "").strip()
        if not raw or raw.lower() == "off":
            return None
        value, where = raw, HEALTH_PORT_ENV
    try:
        port = int(value)
    except ValueError:
        raise UserError(f"{where}: {value!r} is not a port number") from None
    if port < 0:
        return None
    if port > 65535:
        raise UserError(f"{where}: {port} is not a port number (0-65535)")
    return port


def resolve_health_host(arg: str | None) -> str:
    return arg or os.environ.get(HEALTH_HOST_ENV) or DEFAULT_HEALTH_HOST


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != HEALTH_PATH:
            self._send(404, {"error": f"not found; try {HEALTH_PATH}"})
            return
        try:
            ok, detail = self.server.check()
        except Exception as exc:  # a failing check is an unhealthy daemon, never a crashed endpoint
            logger.warning("health check failed: %s", exc)
            ok, detail = False, {"error": f"{type(exc).__name__}: {exc}"}
        self._send(200 if ok else 503, {"status": "ok" if ok else "unhealthy", **detail})

    def _send(self, status: int, data: dict[str, Any]) -> None:
        body = json.dumps(data, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("health: %s", format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    check: HealthCheck


class HealthServer:
    """Serves `check()` at /healthz from a thread; `start()` raises UserError if the port is taken."""

    def __init__(
        self, check: HealthCheck, *, host: str = DEFAULT_HEALTH_HOST, port: int = DEFAULT_HEALTH_PORT
    ) -> None:
        self.check = check
        self.host = host
        self.requested_port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> HealthServer:
        try:
            server = _Server((self.host, self.requested_port), _Handler)
        except OSError as exc:
            raise UserError(
                f"health endpoint: cannot listen on {self.host}:{self.requested_port} ({exc.strerror}); "
                f"choose another --health-port or {HEALTH_PORT_ENV}"
            ) from None
        server.check = self.check
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="health", daemon=True)
        self._thread.start()
        logger.info("health endpoint on %s", self.url)
        return self

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("health server is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{HEALTH_PATH}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
