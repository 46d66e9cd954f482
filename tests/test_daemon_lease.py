"""The single-instance lease, on SQLite and PostgreSQL: refuse a live holder, take over from a dead one."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from factwatch.daemon.lease import Lease, LeaseHeld, LeaseLost, boot_id, process_start_time, read_lease
from pipeline.store import Store
from pipeline.store.ops_models import DaemonLease


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store.open(db_url)
    yield store
    store.close()


def _plant(
    store: Store, *, pid: int, host: str | None = None, expires_in: float = 300.0, started: str = ""
) -> None:
    now = datetime.now(UTC)
    with store.session() as session:
        session.add(
            DaemonLease(
                name="daemon",
                holder="someone-else",
                host=host or socket.gethostname(),
                boot_id=boot_id(),
                pid=pid,
                pid_started=started or process_start_time(pid),
                acquired=now - timedelta(minutes=5),
                heartbeat=now - timedelta(seconds=2),
                expires=now + timedelta(seconds=expires_in),
            )
        )
        session.commit()


def test_acquire_renew_release(store: Store) -> None:
    lease = Lease(store, ttl=30)
    lease.acquire()
    info = read_lease(store)
    assert info is not None and info.holder == lease.token and info.pid == lease.pid
    first_expiry = info.expires
    lease.renew()
    renewed = read_lease(store)
    assert renewed is not None and renewed.expires >= first_expiry
    lease.release()
    assert read_lease(store) is None


def test_live_holder_on_this_host_is_refused_with_a_clear_message(store: Store) -> None:
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _plant(store, pid=holder.pid)
        with pytest.raises(LeaseHeld) as excinfo:
            Lease(store).acquire()
        message = str(excinfo.value)
        assert "already running" in message and f"pid {holder.pid}" in message
        assert read_lease(store).holder == "someone-else"  # type: ignore[union-attr]
    finally:
        holder.kill()
        holder.wait()


def test_dead_holder_on_this_host_is_taken_over_at_once(store: Store) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    started = process_start_time(gone.pid) or "1"
    gone.wait()
    _plant(store, pid=gone.pid, started=started)
    lease = Lease(store)
    lease.acquire()
    assert read_lease(store).holder == lease.token  # type: ignore[union-attr]


def test_reused_pid_is_not_mistaken_for_the_holder(store: Store) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _plant(store, pid=other.pid, started="12345")  # the PID now belongs to a process started later
        lease = Lease(store)
        lease.acquire()
        assert read_lease(store).holder == lease.token  # type: ignore[union-attr]
    finally:
        other.kill()
        other.wait()


def test_other_host_must_wait_for_expiry(store: Store) -> None:
    _plant(store, pid=1, host="elsewhere.example", expires_in=60)
    with pytest.raises(LeaseHeld, match=r"elsewhere\.example"):
        Lease(store).acquire()
    with store.session() as session:
        row = session.get(DaemonLease, "daemon")
        assert row is not None
        row.expires = datetime.now(UTC) - timedelta(seconds=1)
        session.add(row)
        session.commit()
    lease = Lease(store)
    lease.acquire()
    assert read_lease(store).holder == lease.token  # type: ignore[union-attr]


def test_renew_after_takeover_reports_the_loss(store: Store) -> None:
    first = Lease(store, ttl=30)
    first.acquire()
    with store.session() as session:
        row = session.get(DaemonLease, "daemon")
        assert row is not None
        row.holder, row.host = "thief", "elsewhere.example"
        session.add(row)
        session.commit()
    with pytest.raises(LeaseLost):
        first.renew()
    assert not first.held
