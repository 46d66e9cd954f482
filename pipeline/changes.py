"""A fact's timeline and what counts as a real change.

A conflict is a source going back to the previous value soon after another source moved it on: that is
reported once instead of flipping the value back and forth. A different, new value is a change.

The state of a fact is a pure function of the *set* of its observations, walked in publication order.
So the order in which articles arrive cannot matter: an older article crawled late lands in its place in
the timeline and cannot overturn a newer value. Events are the difference between the state before and
after new observations, which is why a stale restatement never alerts.

Independent sources are dedup clusters, not articles: twenty copies of one wire story are one source.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class Policy:
    min_sources: int = 1  # independent sources a new value needs before it replaces the current one
    conflict_window: timedelta = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class Entry:
    """One observation as the timeline sees it."""

    observation_id: int
    value: Any
    published: datetime
    cluster: int  # dedup cluster id: the unit of independence
    url: str = ""


@dataclass(frozen=True, slots=True)
class State:
    value: Any = None
    since: datetime | None = None
    established_by: int | None = None  # observation that made `value` current
    sources: frozenset[int] = frozenset()  # clusters stating the current value since it became current
    pending_value: Any = None  # a newer value waiting for enough independent sources
    pending_sources: frozenset[int] = frozenset()
    pending_by: int | None = None
    conflict_value: Any = None  # a contradicting value published close to the current one
    conflict_by: int | None = None

    @property
    def status(self) -> str:
        if self.conflict_value is not None:
            return "conflict"
        if self.pending_value is not None:
            return "reported"
        return "confirmed"


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # initial | change | reported | conflict
    old_value: Any
    new_value: Any
    observation_id: int | None
    independent_sources: int


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _order(entry: Entry) -> tuple[datetime, str, str, int]:
    # Ties in publication time (day-precision dates are common) are broken by content, never by arrival.
    return (entry.published, entry.url, _key(entry.value), entry.cluster)


@dataclass(slots=True)
class _Walk:
    policy: Policy
    value: Any = None
    since: datetime | None = None
    established_by: int | None = None
    sources: set[int] = field(default_factory=set)
    pending: dict[str, tuple[Any, set[int], int]] = field(default_factory=dict)
    conflict: tuple[Any, set[int], int] | None = None
    previous: Any = None  # the value before the current one: returning to it soon after is flapping

    def _adopt(self, entry: Entry, clusters: set[int]) -> None:
        self.previous = self.value
        self.value = entry.value
        self.since = entry.published
        self.established_by = entry.observation_id
        self.sources = set(clusters)
        self.pending.clear()
        self.conflict = None

    def step(self, entry: Entry) -> None:
        key = _key(entry.value)
        if self.since is None:
            # Nothing to protect yet: the first value stands on one source; the threshold guards changes.
            self._adopt(entry, {entry.cluster})
            return
        if key == _key(self.value):
            self.sources.add(entry.cluster)
            # A later restatement by another source settles a contradiction for the current value.
            if self.conflict is not None and len(self.sources) > len(self.conflict[1]):
                self.pending.pop(_key(self.conflict[0]), None)
                self.conflict = None
            return
        _, clusters, _first = self.pending.setdefault(key, (entry.value, set(), entry.observation_id))
        clusters.add(entry.cluster)
        close = entry.published - self.since <= self.policy.conflict_window
        reverts = self.previous is not None and key == _key(self.previous)
        if close and reverts and entry.cluster not in self.sources:
            if len(clusters) > len(self.sources) and len(clusters) >= self.policy.min_sources:
                self._adopt(entry, clusters)
            else:
                self.conflict = (entry.value, clusters, entry.observation_id)
            return
        if len(clusters) >= self.policy.min_sources:
            self._adopt(entry, clusters)

    def state(self) -> State:
        pending_value, pending_sources, pending_by = None, frozenset[int](), None
        if self.pending and self.conflict is None:
            # The best-supported unconfirmed value is the one to report.
            value, clusters, first = max(self.pending.values(), key=lambda p: (len(p[1]), -p[2]))
            pending_value, pending_sources, pending_by = value, frozenset(clusters), first
        return State(
            value=self.value,
            since=self.since,
            established_by=self.established_by,
            sources=frozenset(self.sources),
            pending_value=pending_value,
            pending_sources=pending_sources,
            pending_by=pending_by,
            conflict_value=self.conflict[0] if self.conflict else None,
            conflict_by=self.conflict[2] if self.conflict else None,
        )


def evaluate(entries: Iterable[Entry], policy: Policy | None = None) -> State:
    walk = _Walk(policy or Policy())
    for entry in sorted(entries, key=_order):
        walk.step(entry)
    return walk.state()


def diff(before: State, after: State) -> list[Event]:
    """What changed between two states of one fact, as events worth telling people about."""
    events: list[Event] = []
    if _key(before.value) != _key(after.value) and after.value is not None:
        kind = "initial" if before.value is None else "change"
        events.append(Event(kind, before.value, after.value, after.established_by, len(after.sources)))
    if after.conflict_value is not None and (
        _key(after.conflict_value) != _key(before.conflict_value) or _key(before.value) != _key(after.value)
    ):
        events.append(
            Event("conflict", after.value, after.conflict_value, after.conflict_by, len(after.sources))
        )
    if after.pending_value is not None and _key(after.pending_value) != _key(before.pending_value):
        events.append(
            Event("reported", after.value, after.pending_value, after.pending_by, len(after.pending_sources))
        )
    return events
