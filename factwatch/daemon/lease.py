"""Single-instance lease: one row in the store says which daemon may run against this database.

Why a row and not a lock file: the database is the thing two daemons must not share, and with PostgreSQL
the daemons may sit on different machines. Every step is a compare-and-swap on the holder token, so two
daemons racing for the lease cannot both win, on SQLite or PostgreSQL.

Taking over from a daemon that died:
- on the same machine (same host name and kernel boot id) the lease is free as soon as the recorded PID
  is gone or now belongs to another process (its start time differs) — so a restart after SIGKILL, an OOM
  kill or a container restart succeeds at once;
- from anywhere else, only after `expires` (last heartbeat + ttl) has passed.
Clocks of different machines are assumed to agree within a few seconds (NTP); the ttl is far larger.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from factwatch import __version__
from factwatch.errors import UserError
from pipeline.store import Store, redact_url
from pipeline.store.ops_models import DaemonLease

logger = logging.getLogger(__name__)

DAEMON_LEASE = "daemon"
DEFAULT_TTL_SECONDS = 30.0


class LeaseHeld(UserError):
    """Another live daemon holds the lease; the message says which and how to proceed."""


class LeaseLost(RuntimeError):
    """Our lease was taken over (we stalled past its expiry); this daemon must stop."""


def _now() -> datetime:
    return datetime.now(UTC)


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def process_start_time(pid: int) -> str:
    """Start time of a process in clock ticks since boot (Linux), "" when unknown or gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    fields = raw.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


@dataclass(frozen=True)
class LeaseInfo:
    """A snapshot of the lease row, for messages and `factwatch status`."""

    holder: str
    host: str
    pid: int
    acquired: datetime
    heartbeat: datetime
    expires: datetime
    version: str

    @classmethod
    def from_row(cls, row: DaemonLease) -> LeaseInfo:
        return cls(row.holder, row.host, row.pid, row.acquired, row.heartbeat, row.expires, row.version)

    def describe(self, now: datetime | None = None) -> str:
        now = now or _now()
        age = (now - self.heartbeat).total_seconds()
        since = self.acquired.isoformat(timespec="seconds")
        return f"pid {self.pid} on host {self.host}, running since {since}, last heartbeat {age:.0f}s ago"


def read_lease(store: Store, name: str = DAEMON_LEASE) -> LeaseInfo | None:
    with store.session() as session:
        row = session.get(DaemonLease, name)
        return LeaseInfo.from_row(row) if row is not None else None


class Lease:
    """The daemon's claim on a store. `acquire()` or raise LeaseHeld; `renew()` on a timer; `release()`."""

    def __init__(self, store: Store, *, name: str = DAEMON_LEASE, ttl: float = DEFAULT_TTL_SECONDS) -> None:
        self.store = store
        self.name = name
        self.ttl = timedelta(seconds=ttl)
        self.token = secrets.token_hex(12)
        self.host = socket.gethostname()
        self.boot_id = boot_id()
        self.pid = os.getpid()
        self.pid_started = process_start_time(self.pid)
        self.held = False

    # -- taking and keeping it ----------------------------------------------------------------------------

    def acquire(self) -> None:
        now = _now()
        if self._insert(now):
            self.held = True
            logger.info("daemon lease taken (new) by pid %s on %s", self.pid, self.host)
            return
        with self.store.session() as session:
            row = session.get(DaemonLease, self.name)
        if row is None:  # released between our insert and read: try once more
            if self._insert(now):
                self.held = True
                return
            raise LeaseHeld(f"another daemon took the lease on {redact_url(self.store.url)} just now")
        reason = self._takeover_reason(row, now)
        if reason is None:
            info = LeaseInfo.from_row(row)
            left = max(0.0, (info.expires - now).total_seconds())
            raise LeaseHeld(
                f"another factwatch daemon is already running on {redact_url(self.store.url)} "
                f"({info.describe(now)}); stop it first, or if it is gone, its lease expires in {left:.0f}s"
            )
        swapped = self._swap(row.holder, now)
        if not swapped:
            raise LeaseHeld(f"another daemon took the lease on {redact_url(self.store.url)} just now")
        self.held = True
        logger.warning("daemon lease taken over from pid %s on %s: %s", row.pid, row.host, reason)

    def renew(self) -> None:
        """Push the expiry forward; LeaseLost if someone else holds the row now."""
        now = _now()
        with self.store.engine.begin() as conn:
            result = conn.execute(
                update(DaemonLease)
                .where(DaemonLease.name == self.name, DaemonLease.holder == self.token)  # type: ignore[arg-type]
                .values(heartbeat=now, expires=now + self.ttl)
            )
        if result.rowcount != 1:
            self.held = False
            raise LeaseLost("the daemon lease was taken over by another process")

    def release(self) -> None:
        if not self.held:
            return
        try:
            with self.store.engine.begin() as conn:
                conn.execute(
                    delete(DaemonLease).where(
                        DaemonLease.name == self.name,  # type: ignore[arg-type]
                        DaemonLease.holder == self.token,  # type: ignore[arg-type]
                    )
                )
        except Exception as exc:  # the lease simply expires if the database is gone
            logger.warning("could not release the daemon lease: %s", exc)
        self.held = False

    # -- internals ----------------------------------------------------------------------------------------

    def _values(self, now: datetime) -> dict[str, object]:
        return {
            "holder": self.token,
            "host": self.host,
            "boot_id": self.boot_id,
            "pid": self.pid,
            "pid_started": self.pid_started,
            "acquired": now,
            "heartbeat": now,
            "expires": now + self.ttl,
            "version": __version__,
        }

    def _insert(self, now: datetime) -> bool:
        try:
            with self.store.engine.begin() as conn:
                conn.execute(DaemonLease.__table__.insert().values(name=self.name, **self._values(now)))  # type: ignore[attr-defined]
        except IntegrityError:
            return False
        return True

    def _swap(self, old_holder: str, now: datetime) -> bool:
        with self.store.engine.begin() as conn:
            result = conn.execute(
                update(DaemonLease)
                .where(DaemonLease.name == self.name, DaemonLease.holder == old_holder)  # type: ignore[arg-type]
                .values(**self._values(now))
            )
        return result.rowcount == 1

    def _takeover_reason(self, row: DaemonLease, now: datetime) -> str | None:
        """Why the current holder is certainly gone, or None while it may still be alive."""
        if row.holder == self.token:
            return "already ours"
        if row.expires <= now:
            return f"its lease expired at {row.expires.isoformat(timespec='seconds')}"
        if row.host == self.host and self.boot_id and row.boot_id:
            if row.boot_id != self.boot_id:
                return "this machine rebooted since"
            if row.pid == self.pid:
                return "its PID is now this process (restarted container)"
            if not pid_alive(row.pid):
                return f"pid {row.pid} is no longer running"
            started = process_start_time(row.pid)
            if row.pid_started and started and started != row.pid_started:
                return f"pid {row.pid} now belongs to another process"
        return None
