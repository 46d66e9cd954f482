"""Tables the daemon keeps about itself: who is running, and what each source's runs did.

Registered with the store's metadata through `pipeline.store.all_models`, so Alembic creates them with the
rest of the schema and they exist on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from pipeline.store.models import utcnow
from pipeline.store.types import UTCDateTime

RUN_RUNNING = "running"
RUN_OK = "ok"
RUN_ERROR = "error"
RUN_CANCELLED = "cancelled"
RUN_INTERRUPTED = "interrupted"
# Runs that count as "this source was crawled" when deciding whether it is overdue after a restart: an
# interrupted or cancelled run did not finish, so the source runs again soon.
COMPLETED_RUN_STATES = (RUN_OK, RUN_ERROR)


class DaemonLease(SQLModel, table=True):
    """One row per lease name: the daemon that may run against this database.

    `expires` lets another host take over from a daemon that vanished; host, boot id, PID and the PID's
    start time let a restart on the same machine take over at once from a holder that is provably dead.
    """

    __tablename__ = "daemon_lease"

    name: str = Field(primary_key=True)
    holder: str = Field(description="random token of the process holding the lease")
    host: str
    boot_id: str = ""
    pid: int
    pid_started: str = Field(default="", description="start time of that PID, to tell a reused PID apart")
    acquired: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    heartbeat: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires: datetime = Field(sa_type=UTCDateTime)
    version: str = ""


class SourceRun(SQLModel, table=True):
    """One crawl of one source by the daemon: the schedule's memory across restarts, and run history."""

    __tablename__ = "source_run"
    __table_args__ = (Index("ix_source_run_source_started", "source", "started"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str
    url: str = ""
    trigger: str = "schedule"  # schedule | startup (overdue at start)
    holder: str | None = None  # lease token of the daemon that ran it
    started: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default=RUN_RUNNING, index=True)
    pages: int = 0
    new_articles: int = 0
    events: int = 0
    errors: int = 0
    message: str | None = None
