"""The health endpoint: 200 while the check passes, 503 with the reason when not, loopback by default."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any

import pytest

from factwatch.errors import UserError
from factwatch.health import (
    DEFAULT_HEALTH_HOST,
    HEALTH_PATH,
    HEALTH_PORT_ENV,
    HealthServer,
    resolve_health_port,
)


def fetch(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_status_follows_the_check() -> None:
    state = {"ok": True}
    server = HealthServer(lambda: (state["ok"], {"scheduler": state["ok"]}), port=0).start()
    try:
        assert server.host == DEFAULT_HEALTH_HOST
        assert fetch(server.url) == (200, {"status": "ok", "scheduler": True})
        state["ok"] = False
        assert fetch(server.url) == (503, {"status": "unhealthy", "scheduler": False})
        assert fetch(server.url.replace(HEALTH_PATH, "/other"))[0] == 404
    finally:
        server.stop()


def test_a_crashing_check_is_unhealthy_not_a_dead_endpoint() -> None:
    def broken() -> tuple[bool, dict[str, Any]]:
        raise RuntimeError("store gone")

    server = HealthServer(broken, port=0).start()
    try:
        status, body = fetch(server.url)
        assert status == 503 and "store gone" in body["error"]
    finally:
        server.stop()


def test_port_in_use_is_a_user_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UserError, match=str(port)):
            HealthServer(lambda: (True, {}), port=port).start()


def test_port_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HEALTH_PORT_ENV, raising=False)
    assert resolve_health_port(None) is None  # off unless asked for
    assert resolve_health_port(9000) == 9000
    monkeypatch.setenv(HEALTH_PORT_ENV, "8787")
    assert resolve_health_port(None) == 8787
    monkeypatch.setenv(HEALTH_PORT_ENV, "off")
    assert resolve_health_port(None) is None
    monkeypatch.setenv(HEALTH_PORT_ENV, "http")
    with pytest.raises(UserError, match=HEALTH_PORT_ENV):
        resolve_health_port(None)
