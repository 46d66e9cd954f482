"""Turn each source's `schedule` into an APScheduler trigger, and decide when it runs first.

The schedule survives restarts without a persistent APScheduler job store: the store's `source_run` table
remembers when each source last completed a crawl, and on start a source runs at `last + every` — or
soon, if that moment has passed (or its last crawl was interrupted). Keeping the schedule as data we own
avoids pickled job state that breaks when code changes between versions.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func
from sqlmodel import col, select

from crawler.config import SourceConfig, parse_duration
from factwatch.errors import UserError
from pipeline.store import Store
from pipeline.store.ops_models import COMPLETED_RUN_STATES, SourceRun

logger = logging.getLogger(__name__)

# Overdue sources start this far apart after a restart, so a restart does not fire every crawl at once.
STARTUP_DELAY = timedelta(seconds=1)
STARTUP_STAGGER = timedelta(seconds=2)
CRON_MISFIRE_GRACE = 900
# Jitter spreads sources sharing one interval; more than a quarter of the interval would blur the interval.
MAX_JITTER_SHARE = 0.25


@dataclass(frozen=True)
class SourcePlan:
    """One source's job: what to crawl and when."""

    source: SourceConfig
    job_id: str
    trigger: BaseTrigger
    interval: timedelta | None  # None for cron schedules
    cron: str | None
    jitter: float
    misfire_grace: int

    @property
    def name(self) -> str:
        return self.source.name

    def describe(self) -> str:
        if self.cron:
            return f"cron {self.cron}"
        assert self.interval is not None
        return f"every {_short(self.interval)}"

    def next_after(self, moment: datetime) -> datetime | None:
        """The first scheduled time strictly after `moment` (without jitter)."""
        if self.interval is not None:
            return moment + self.interval
        assert self.cron is not None
        exact = cron_trigger(self.cron)  # the job's own trigger adds jitter to every answer
        fire: datetime | None = exact.get_next_fire_time(None, moment + timedelta(microseconds=1))
        return fire


def _short(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _cron_weekdays(field: str) -> str:
    """Crontab day-of-week (0 or 7 = Sunday) as APScheduler names.

    APScheduler 3 numbers weekdays from Monday = 0, unlike crontab, so numbers are expanded here into
    day names and "0" keeps meaning Sunday as every crontab user expects.
    """
    if field == "*":
        return field
    days: set[int] = set()
    for item in field.lower().split(","):
        body, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"bad step in day of week {item!r}")
        if body == "*":
            first, last = 0, 6
        else:
            low, _, high = body.partition("-")
            first = _cron_day(low)
            last = _cron_day(high) if high else (6 if step_text else first)
            if last < first:
                raise ValueError(f"day-of-week range {body!r} runs backwards")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_CRON_DAYS[d] for d in sorted(days))


def _cron_day(token: str) -> int:
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)
    if token[:3] in _CRON_DAYS:
        return _CRON_DAYS.index(token[:3])
    raise ValueError(f"{token!r} is not a day of the week (0-7 or sun-sat)")


def cron_trigger(expr: str, *, jitter: int | None = None) -> CronTrigger:
    """A UTC CronTrigger from a 5-field crontab expression with crontab's weekday numbering."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_cron_weekdays(weekday),
        timezone=UTC,
        jitter=jitter,
    )


def _duration(value: str, where: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise UserError(f"{where}: {exc}") from None


def plan_source(source: SourceConfig, job_id: str | None = None) -> SourcePlan:
    """Build the trigger for one source; a bad schedule is a UserError naming the source and key."""
    where = f"source {source.name!r}: schedule"
    schedule = source.schedule
    jitter = _duration(schedule.jitter, f"{where}.jitter").total_seconds() if schedule.jitter else 0.0
    job = job_id or f"crawl:{source.name}"
    if schedule.cron:
        # Cron times are meant to be exact; keep jitter small.
        jitter = min(jitter, 60.0)
        try:
            trigger: BaseTrigger = cron_trigger(schedule.cron, jitter=int(jitter) or None)
        except ValueError as exc:
            raise UserError(f"{where}.cron: {schedule.cron!r} is not a crontab expression ({exc})") from None
        return SourcePlan(source, job, trigger, None, schedule.cron, jitter, CRON_MISFIRE_GRACE)
    if not schedule.every:
        raise UserError(f"{where}: give `every` (e.g. 30m) or `cron`")
    interval = _duration(schedule.every, f"{where}.every")
    if interval.total_seconds() <= 0:
        raise UserError(f"{where}.every: must be longer than zero")
    jitter = min(jitter, interval.total_seconds() * MAX_JITTER_SHARE)
    trigger = IntervalTrigger(seconds=interval.total_seconds(), timezone=UTC, jitter=jitter or None)
    # A run more than one interval late is dropped: the next one is due anyway.
    grace = max(1, int(interval.total_seconds()))
    return SourcePlan(source, job, trigger, interval, None, jitter, grace)


def plan_sources(sources: Sequence[SourceConfig]) -> list[SourcePlan]:
    """Plans for the enabled sources; names must be unique because run history is kept by name."""
    seen: set[str] = set()
    plans = []
    for source in sources:
        if not source.enabled:
            continue
        if source.name in seen:
            raise UserError(f"source names must be unique: {source.name!r} appears twice")
        seen.add(source.name)
        plans.append(plan_source(source))
    return plans


def last_completed_runs(store: Store) -> dict[str, datetime]:
    """When each source last started a crawl that completed (ok or error)."""
    with store.session() as session:
        rows = session.exec(
            select(SourceRun.source, func.max(SourceRun.started))
            .where(col(SourceRun.status).in_(COMPLETED_RUN_STATES))
            .group_by(col(SourceRun.source))
        ).all()
    out: dict[str, datetime] = {}
    for name, started in rows:
        if started is not None:
            out[name] = started if started.tzinfo else started.replace(tzinfo=UTC)
    return out


def first_run_time(
    plan: SourcePlan, last: datetime | None, now: datetime, position: int, *, delay: timedelta = STARTUP_DELAY
) -> tuple[datetime, bool]:
    """When the source's first run after start is due, and whether it is overdue (runs soon).

    A source never crawled, or whose next time passed while the daemon was down, runs soon, staggered by
    its position so a restart does not fire every overdue crawl in the same second.
    """
    due = plan.next_after(last) if last is not None else None
    if due is None or due <= now:
        return now + delay + STARTUP_STAGGER * position, True
    return due, False
