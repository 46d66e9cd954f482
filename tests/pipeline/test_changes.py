"""Timelines: order of arrival never matters, stale restatements never alert, copies count once."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from pipeline.changes import Entry, Policy, State, diff, evaluate


def day(n: int, hour: int = 12) -> datetime:
    return datetime(2025, 1, 1, hour, tzinfo=UTC) + timedelta(days=n)


def e(oid: int, value: object, when: datetime, cluster: int | None = None) -> Entry:
    return Entry(
        observation_id=oid,
        value=value,
        published=when,
        cluster=cluster if cluster is not None else oid,
        url=f"https://news.example/{oid}",
    )


def replay(entries: list[Entry], policy: Policy | None = None) -> tuple[State, list[str]]:
    """Feed entries one at a time, as a crawl would, collecting events."""
    seen: list[Entry] = []
    state = evaluate([], policy)
    kinds: list[str] = []
    for entry in entries:
        seen.append(entry)
        after = evaluate(seen, policy)
        kinds += [f"{ev.kind}:{ev.old_value}->{ev.new_value}" for ev in diff(state, after)]
        state = after
    return state, kinds


def test_first_value_then_a_change() -> None:
    state, kinds = replay([e(1, 400, day(0)), e(2, 400, day(5)), e(3, 600, day(40))])
    assert state.value == 600
    assert state.since == day(40)
    assert kinds == ["initial:None->400", "change:400->600"]


def test_every_arrival_order_ends_in_the_same_state() -> None:
    entries = [e(1, 400, day(0)), e(2, 500, day(10)), e(3, 600, day(20)), e(4, 600, day(21), cluster=3)]
    finals = {evaluate(list(order)) for order in itertools.permutations(entries)}
    assert len(finals) == 1
    assert next(iter(finals)).value == 600


def test_older_article_processed_late_never_overturns_or_alerts() -> None:
    _, kinds = replay([e(1, 400, day(0)), e(3, 600, day(30)), e(2, 500, day(15))])
    assert kinds == ["initial:None->400", "change:400->600"]


def test_stale_restatement_is_silent() -> None:
    _, kinds = replay([e(1, "2025-10-02", day(0)), e(2, "2025-10-02", day(20)), e(3, "2025-10-02", day(3))])
    assert kinds == ["initial:None->2025-10-02"]


def test_corroboration_counts_clusters_not_copies() -> None:
    copies = [e(10 + i, 700, day(50), cluster=7) for i in range(5)]
    state = evaluate([e(1, 400, day(0)), *copies])
    assert state.value == 700
    assert len(state.sources) == 1
    state = evaluate([e(1, 400, day(0)), *copies, e(20, 700, day(51), cluster=8)])
    assert len(state.sources) == 2


def test_threshold_holds_a_single_source_as_reported() -> None:
    policy = Policy(min_sources=2)
    state, kinds = replay([e(1, 400, day(0)), e(2, 400, day(1)), e(3, 600, day(30))], policy)
    assert state.value == 400
    assert state.status == "reported"
    assert state.pending_value == 600
    assert kinds == ["initial:None->400", "reported:400->600"]
    # A wire copy of the same story does not confirm it...
    state, kinds = replay(
        [e(1, 400, day(0)), e(2, 400, day(1)), e(3, 600, day(30)), e(4, 600, day(30), cluster=3)], policy
    )
    assert state.value == 400
    # ...an independent outlet does.
    state, kinds = replay(
        [e(1, 400, day(0)), e(2, 400, day(1)), e(3, 600, day(30)), e(5, 600, day(31))], policy
    )
    assert state.value == 600
    assert state.status == "confirmed"
    assert kinds[-1] == "change:400->600"


def test_close_contradiction_is_a_conflict_not_a_flap() -> None:
    old = e(1, "2024-10-02", day(0))
    new = e(2, "2025-10-02", day(30, 9))
    contra = e(3, "2024-10-02", day(30, 15))  # published six hours later, restating the old date
    state, kinds = replay([old, new, contra])
    assert state.value == "2025-10-02"
    assert state.status == "conflict"
    assert kinds == [
        "initial:None->2024-10-02",
        "change:2024-10-02->2025-10-02",
        "conflict:2025-10-02->2024-10-02",
    ]
    # Another independent source restating the new value settles it without another change.
    state, kinds2 = replay([old, new, contra, e(4, "2025-10-02", day(31))])
    assert state.value == "2025-10-02"
    assert state.status == "confirmed"
    assert kinds2 == kinds


def test_contradiction_outside_the_window_is_a_change() -> None:
    state, kinds = replay([e(1, 400, day(0)), e(2, 600, day(10)), e(3, 650, day(20))])
    assert state.value == 650
    assert kinds[-1] == "change:600->650"


def test_a_newer_third_value_soon_after_a_change_is_a_change_not_a_conflict() -> None:
    state, kinds = replay([e(1, 200, day(0)), e(2, 400, day(10)), e(3, 430, day(11))])
    assert state.value == 430
    assert state.status == "confirmed"
    assert kinds[-1] == "change:400->430"
