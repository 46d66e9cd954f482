"""Tables owned by alerts/: what the source error/recovery/silence policy remembers between runs.

Separate from the crawler's `source_health` (which reports on sources): this one records which alerts were
already sent, so the policy holds across restarts. Registered through `pipeline.store.all_models`.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from pipeline.store.models import utcnow
from pipeline.store.types import UTCDateTime


class SourceAlertState(SQLModel, table=True):
    """What the error policy must remember between runs of one source."""

    __tablename__ = "alert_source_state"

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(unique=True)
    failures: int = 0  # failed runs in a row
    last_error: str | None = None
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error_alerted: str | None = None  # the error last alerted; None when no error alert is outstanding
    last_ok: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_new: datetime | None = Field(default=None, sa_type=UTCDateTime)  # last run that found new items
    silent_alerted: bool = False
    alerts_sent: int = 0  # numbers health alerts so their idempotency keys never collide
    first_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
