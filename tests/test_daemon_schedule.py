"""Schedules: triggers from config, and when each source runs first after a (re)start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crawler.config import Schedule, SourceConfig
from factwatch.commands.common import sources_from_urls
from factwatch.daemon.schedule import (
    cron_trigger,
    first_run_time,
    last_completed_runs,
    plan_source,
    plan_sources,
)
from factwatch.errors import UserError
from pipeline.store import Store
from pipeline.store.ops_models import SourceRun

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # a Tuesday


def source(name: str = "s", **schedule: str | None) -> SourceConfig:
    return SourceConfig(name=name, url=f"https://example.org/{name}.xml", schedule=Schedule(**schedule))


def test_interval_plan_caps_jitter_to_a_quarter_of_the_interval() -> None:
    plan = plan_source(source(every="2s", jitter="60s"))
    assert plan.interval == timedelta(seconds=2)
    assert plan.jitter == pytest.approx(0.5)
    assert plan.describe() == "every 2s"
    assert plan_source(source(every="30m")).describe() == "every 30m"


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"every": "soon"}, "schedule.every"),
        ({"every": "0s"}, "longer than zero"),
        ({"every": None}, "give `every`"),
        ({"cron": "61 * * * *"}, "schedule.cron"),
        ({"cron": "* * *"}, "5 fields"),
        ({"every": "5m", "jitter": "lots"}, "schedule.jitter"),
    ],
)
def test_bad_schedules_name_the_source_and_key(schedule: dict[str, str | None], message: str) -> None:
    # The config loader rejects these first (tests/test_config.py); the daemon checks again for sources
    # built in code, so bypass the model's validation here.
    bad = SourceConfig.model_construct(
        name="feed-a", url="https://example.org/a.xml", schedule=Schedule.model_construct(**schedule)
    )
    with pytest.raises(UserError, match=message) as excinfo:
        plan_source(bad)
    assert "feed-a" in str(excinfo.value)


def test_cron_weekdays_follow_crontab_numbering() -> None:
    # crontab: 0 = Sunday (APScheduler 3 alone would read it as Monday).
    sunday, wednesday = datetime(2026, 11, 29, 9, 0, tzinfo=UTC), datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert cron_trigger("0 9 * * 0").get_next_fire_time(None, NOW) == sunday
    assert cron_trigger("0 9 * * 1-5").get_next_fire_time(None, NOW) == wednesday
    plan = plan_source(source(cron="30 6 * * *"))
    assert plan.next_after(NOW) == datetime(2026, 11, 25, 6, 30, tzinfo=UTC)


def test_first_run_after_restart() -> None:
    plan = plan_source(source(every="30m"))
    # Crawled 10 minutes ago: next run 20 minutes from now, not at start.
    due, overdue = first_run_time(plan, NOW - timedelta(minutes=10), NOW, 0)
    assert (due, overdue) == (NOW + timedelta(minutes=20), False)
    # Missed while the daemon was down, or never crawled: soon, staggered by position.
    due, overdue = first_run_time(plan, NOW - timedelta(hours=2), NOW, 3)
    assert overdue and NOW < due <= NOW + timedelta(seconds=10)
    due0, _ = first_run_time(plan, None, NOW, 0)
    due1, _ = first_run_time(plan, None, NOW, 1)
    assert due0 < due1
    hourly = plan_source(source(cron="0 * * * *"))
    later = NOW + timedelta(minutes=10)
    assert first_run_time(hourly, NOW, later, 0) == (NOW + timedelta(hours=1), False)
    assert first_run_time(hourly, NOW - timedelta(minutes=90), later, 0)[1] is True


def test_only_completed_runs_count(db_url: str) -> None:
    store = Store.open(db_url)
    try:
        with store.session() as session:
            session.add(SourceRun(source="a", started=NOW - timedelta(hours=1), status="ok"))
            session.add(SourceRun(source="a", started=NOW - timedelta(minutes=5), status="interrupted"))
            session.add(SourceRun(source="b", started=NOW - timedelta(minutes=3), status="error"))
            session.add(SourceRun(source="c", started=NOW - timedelta(minutes=1), status="running"))
            session.commit()
        assert last_completed_runs(store) == {"a": NOW - timedelta(hours=1), "b": NOW - timedelta(minutes=3)}
    finally:
        store.close()


def test_source_names_unique() -> None:
    with pytest.raises(UserError, match="unique"):
        plan_sources([source("x"), source("x")])
    disabled = source("y").model_copy(update={"enabled": False})
    assert [p.name for p in plan_sources([source("x"), disabled])] == ["x"]
    # --source URLs on one host get names of their own (run and daemon share sources_from_urls).
    urls = ["http://h.example/a.xml", "http://h.example/b.xml", "http://h.example/c.xml"]
    assert [s.name for s in sources_from_urls(urls)] == ["h.example", "h.example-2", "h.example-3"]
