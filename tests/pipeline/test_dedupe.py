"""Dedup: wire copies cluster, tracking URLs collapse, edits become versions, distinct stories stay apart.

Every store test runs on SQLite and, when a server answers on 127.0.0.1:5432, on PostgreSQL too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from sqlalchemy import text
from sqlmodel import col, select

from config.models import DedupSettings
from pipeline.dedupe import Deduper, Verdict, normalize_text, title_key
from pipeline.dedupe.index import BandIndex
from pipeline.dedupe.sketch import decode, encode
from pipeline.store import Store, StoreError
from pipeline.store.models import Article, Cluster
from pipeline.urls import canonical_url

CASES: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "dedupe_cases.yaml").read_text("utf-8"))
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 3, 15, tzinfo=UTC)
# Sketch of one sentence as first released; changing it would orphan every sketch already stored.
GOLDEN_HASH = "1f265ef6f65103303862ba0ddf5d74ad790ceb3faa0369f0e3d5b76e87651f36"
GOLDEN_VALUES = [1107425198, 529098375, 264101347, 478730099]


# -- fixtures and helpers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    url: str
    publisher: str
    title: str
    published: datetime
    text: str


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def wire_copy(copy: dict[str, Any]) -> Item:
    paragraphs = [" ".join(p.split()) for p in CASES["wire"]["paragraphs"]]
    if copy.get("drop_dateline"):
        paragraphs[0] = paragraphs[0].split("— ", 1)[1]
    if "keep" in copy:
        paragraphs = paragraphs[: copy["keep"]]
    for index, line in sorted(copy.get("insert_after", {}).items(), reverse=True):
        paragraphs.insert(index, line)
    body = "\n".join([*copy.get("before", []), *paragraphs, *copy.get("after", [])])
    for old, new in copy.get("replace", {}).items():
        assert old in body, f"fixture {copy['name']}: {old!r} not in the text"
        body = body.replace(old, new)
    if copy.get("straight_quotes"):
        body = body.replace("“", '"').replace("”", '"')
    return Item(copy["url"], copy["publisher"], copy["title"], _when(copy["published"]), body)


def story(case: dict[str, Any]) -> Item:
    return Item(case["url"], case["publisher"], case["title"], _when(case["published"]), case["text"])


def ingest(store: Store, deduper: Deduper, item: Item, *, fetched_at: datetime | None = None) -> Verdict:
    """The orchestrator's sequence for one page: check, store a row unless unchanged, register, commit."""
    canon = canonical_url(item.url)
    fingerprint = deduper.fingerprint(item.text)
    with store.session() as session:
        verdict = deduper.check(
            session,
            canonical_url=canon,
            publisher=item.publisher,
            title=item.title,
            published=item.published,
            fingerprint=fingerprint,
        )
        if verdict.kind == "unchanged":
            return verdict
        version = 1
        if verdict.kind == "new_version":
            previous = session.get(Article, verdict.match_article_id)
            assert previous is not None
            previous.is_current = False
            version = previous.version + 1
        article = Article(
            url=item.url,
            canonical_url=canon,
            version=version,
            publisher=item.publisher,
            title=item.title,
            published=item.published,
            fetched_at=fetched_at or item.published,
            text=item.text,
            content_hash="",
        )
        session.add(article)
        session.flush()
        deduper.register(session, article, verdict, fingerprint)
        session.commit()
    deduper.commit_pending()
    return verdict


def articles(store: Store) -> list[Article]:
    with store.session() as session:
        return list(session.exec(select(Article).order_by(col(Article.id))).all())


def cluster(store: Store, cluster_id: int | None) -> Cluster:
    assert cluster_id is not None
    with store.session() as session:
        found = session.get(Cluster, cluster_id)
    assert found is not None
    return found


def make_deduper(**overrides: Any) -> Deduper:
    return Deduper(DedupSettings(**overrides), clock=lambda: NOW)


def _pg_admin() -> Store | None:
    try:
        return Store.open(PG_ADMIN, migrate=False)
    except StoreError:
        return None


@pytest.fixture(scope="module")
def pg_store() -> Iterator[Store]:
    admin = _pg_admin()
    if admin is None:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    name = f"factwatch_dedup_test_{uuid.uuid4().hex[:8]}"
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    store = Store.open(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    try:
        yield store
    finally:
        store.close()
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        sqlite = Store.open(f"sqlite:///{tmp_path}/dedup.db")
        yield sqlite
        sqlite.close()
        return
    pg: Store = request.getfixturevalue("pg_store")
    with pg.engine.begin() as conn:
        conn.execute(text("TRUNCATE article, cluster RESTART IDENTITY CASCADE"))
    yield pg


# -- pure parts --------------------------------------------------------------------------------------


def test_normalize_text_folds_typography_case_and_spacing() -> None:
    raw = "  “Stay  indoors,” said\u00a0the PM — again…\n\n\tRivers are RISING  "
    assert normalize_text(raw) == '"stay indoors," said the pm - again...\nrivers are rising'


@pytest.mark.parametrize(
    ("title", "publisher", "expected"),
    [
        ("East coast villages cut off | Island Times", "Island Times", "east coast villages cut off"),
        (
            "East coast villages cut off - islandtimes.example",
            "islandtimes.example",
            "east coast villages cut off",
        ),
        ("Haiti – Kenya talks resume", "Island Times", "haiti kenya talks resume"),
        ("Budget ’26: what’s in it", None, "budget 26 what's in it"),
        ("  ", "Island Times", None),
        (None, None, None),
    ],
)
def test_title_key(title: str | None, publisher: str | None, expected: str | None) -> None:
    assert title_key(title, publisher) == expected


def test_fingerprint_is_stable_across_processes_and_releases() -> None:
    """Stored sketches are compared with new ones after restarts: the sketch of a text must never drift."""
    fingerprint = make_deduper().fingerprint(
        "Tropical Storm Imani cut electricity to most of Dominica on Tuesday."
    )
    assert fingerprint.content_hash == GOLDEN_HASH
    assert fingerprint.words == 11 and fingerprint.shingles == 7
    assert fingerprint.hashvalues[:4].tolist() == GOLDEN_VALUES
    assert len(fingerprint.minhash) == 7 + 4 * 128


def test_sketch_blob_round_trip_and_bad_blobs() -> None:
    values = np.arange(128, dtype=np.uint32)
    count, decoded = decode(encode(values, 321))
    assert count == 321 and decoded.tolist() == values.tolist()
    with pytest.raises(ValueError, match="shorter than its header"):
        decode(b"\x01")
    with pytest.raises(ValueError, match="does not hold 128"):
        decode(encode(values, 1)[:-4])


def test_band_index_finds_removes_and_compacts() -> None:
    index = BandIndex(128)
    rng = np.random.default_rng(7)
    sketches = [rng.integers(0, 2**32, 128, dtype=np.uint64).astype(np.uint32) for _ in range(3000)]
    slots = [index.add(s) for s in sketches]  # enough to force merges into the sorted arrays
    assert index.query(sketches[10]) == {slots[10]}
    near = sketches[2999].copy()
    near[60:] = 0  # shares the first 20 bands only
    assert index.query(near) == {slots[2999]}
    before = index.memory_bytes()
    for slot in slots[:2000]:
        index.remove(slot)
    assert len(index) == 1000
    assert index.memory_bytes() < 0.7 * before, "removed entries are compacted away, not only hidden"
    assert index.query(sketches[10]) == set()
    assert index.query(sketches[2500]) == {slots[2500]}


# -- the layers against a store ----------------------------------------------------------------------


def test_wire_story_republished_by_several_sites_is_one_cluster(store: Store) -> None:
    deduper = make_deduper()
    copies = CASES["wire"]["copies"]
    verdicts = {copy["name"]: ingest(store, deduper, wire_copy(copy)) for copy in copies}
    assert {name: v.kind for name, v in verdicts.items()} == {c["name"]: c["expect"] for c in copies}

    rows = articles(store)
    assert len(rows) == len(copies), "copies are stored, never dropped"
    assert len({r.cluster_id for r in rows}) == 1
    assert len({r.publisher for r in rows}) == len(copies), "each copy keeps its own publisher"
    first = rows[0]
    assert all(r.duplicate_of is not None and r.duplicate_reason for r in rows[1:])
    assert first.duplicate_of is None
    group = cluster(store, first.cluster_id)
    assert group.size == len(copies)
    # Ingested second but published first, the agency's own copy is the cluster's origin.
    assert group.first_publisher == "Caribbean Wire News"
    assert group.first_published == _when("2026-03-10T12:05:00+00:00")
    assert verdicts["observer"].similarity is not None and verdicts["observer"].similarity >= 0.85


def test_different_stories_about_the_same_event_stay_apart(store: Store) -> None:
    deduper = make_deduper()
    for copy in CASES["wire"]["copies"]:
        ingest(store, deduper, wire_copy(copy))
    for case in CASES["different_stories"]:
        verdict = ingest(store, deduper, story(case))
        assert verdict.kind == "new", f"{case['name']}: {verdict.reason}"
    assert len({r.cluster_id for r in articles(store)}) == 3

    # With margin: each shares far less than the containment threshold with the wire story.
    wire = deduper.fingerprint(wire_copy(CASES["wire"]["copies"][1]).text)
    for case in CASES["different_stories"]:
        other = deduper.fingerprint(case["text"])
        _, containment = _similarity(wire, other)
        assert containment < 0.3, case["name"]


def _similarity(a: Any, b: Any) -> tuple[float, float]:
    from pipeline.dedupe.sketch import similarity

    jaccard, containment = similarity(a.hashvalues, a.shingles, b.hashvalues[None, :], np.array([b.shingles]))
    return float(jaccard[0]), float(containment[0])


def test_tracking_parameter_urls_are_the_same_article(store: Store) -> None:
    deduper = make_deduper()
    case = CASES["edited"]
    item = Item(case["url"], case["publisher"], case["title"], _when(case["published"]), case["text"])
    assert ingest(store, deduper, item).kind == "new"
    again = Item(
        case["tracking_url"], item.publisher, item.title, item.published, item.text.replace("  ", " ")
    )
    verdict = ingest(store, deduper, again)
    assert verdict.kind == "unchanged"
    assert verdict.match_article_id == articles(store)[0].id
    assert len(articles(store)) == 1


def test_edited_article_is_a_new_version_in_the_same_cluster(store: Store) -> None:
    deduper = make_deduper()
    case = CASES["edited"]
    original = Item(case["url"], case["publisher"], case["title"], _when(case["published"]), case["text"])
    ingest(store, deduper, original)
    edited_text = original.text
    for old, new in case["edit"]["replace"].items():
        edited_text = edited_text.replace(old, new)
    edited_text = f"{edited_text}\n{case['edit']['append']}"
    edited = Item(original.url, original.publisher, original.title, original.published, edited_text)

    verdict = ingest(store, deduper, edited, fetched_at=original.published + timedelta(hours=5))
    assert verdict.kind == "new_version"
    old, new = articles(store)
    assert verdict.match_article_id == old.id
    assert (old.version, old.is_current) == (1, False)
    assert (new.version, new.is_current) == (2, True)
    assert new.cluster_id == old.cluster_id and new.content_hash != old.content_hash
    assert cluster(store, new.cluster_id).size == 1, "a version is not another copy"
    # Fetching the corrected page again changes nothing.
    assert ingest(store, deduper, edited).kind == "unchanged"


def test_same_publisher_and_title_under_another_url_is_a_republish(store: Store) -> None:
    deduper = make_deduper()
    east_coast = story(CASES["different_stories"][0])
    ingest(store, deduper, east_coast)
    case = CASES["republish"]
    update = Item(
        case["url"],
        case["publisher"],
        case["title"],
        _when(case["published"]),
        f"{east_coast.text}{case['append']}",
    )
    verdict = ingest(store, deduper, update)
    assert verdict.kind == "same_title", verdict.reason
    first, second = articles(store)
    assert second.cluster_id == first.cluster_id and second.duplicate_of == first.id
    assert (
        second.title_key == first.title_key == "east coast villages cut off as imani swells dominica's rivers"
    )

    # Outside title_window_days the headline alone proves nothing; the text still does.
    late = Item(
        update.url + "-late",
        update.publisher,
        update.title,
        update.published + timedelta(days=4),
        f"{update.text}\nRoads elsewhere on the island have reopened.",
    )
    assert ingest(store, deduper, late).kind == "near_duplicate"


def test_recurring_headline_over_unrelated_texts_is_not_a_republish(store: Store) -> None:
    deduper = make_deduper()
    kinds = [ingest(store, deduper, story(case)).kind for case in CASES["generic_title"]]
    assert kinds == ["new", "new"]
    assert len({r.cluster_id for r in articles(store)}) == 2


def test_index_is_rebuilt_from_the_store_after_a_restart(store: Store) -> None:
    first_run = make_deduper()
    copies = CASES["wire"]["copies"]
    ingest(store, first_run, wire_copy(copies[1]))
    ingest(store, first_run, story(CASES["different_stories"][1]))

    restarted = make_deduper()
    with store.session() as session:
        assert restarted.load(session) == 2
    verdict = ingest(store, restarted, wire_copy(copies[2]))  # the trimmed copy, only findable by sketch
    assert verdict.kind == "near_duplicate"
    assert verdict.match_article_id == articles(store)[0].id


def test_restart_loads_only_the_rolling_window(store: Store) -> None:
    deduper = make_deduper(near_window_days=14)
    wire = wire_copy(CASES["wire"]["copies"][1])
    old = Item(wire.url, wire.publisher, wire.title, wire.published - timedelta(days=40), wire.text)
    ingest(store, deduper, old)
    ingest(store, deduper, story(CASES["different_stories"][1]))
    assert len(deduper) == 1, "the 40-day-old sketch left the index once newer articles arrived"

    restarted = make_deduper(near_window_days=14)
    with store.session() as session:
        assert restarted.load(session) == 1
    trimmed = wire_copy(CASES["wire"]["copies"][2])
    assert ingest(store, restarted, trimmed).kind == "new", "a copy 40 days later is outside the window"


def test_rolled_back_registration_leaves_no_trace_in_the_index(store: Store) -> None:
    deduper = make_deduper()
    agency = wire_copy(CASES["wire"]["copies"][1])
    fingerprint = deduper.fingerprint(agency.text)
    with store.session() as session:
        verdict = deduper.check(
            session,
            canonical_url=canonical_url(agency.url),
            publisher=agency.publisher,
            title=agency.title,
            published=agency.published,
            fingerprint=fingerprint,
        )
        article = Article(
            url=agency.url,
            canonical_url=agency.url,
            publisher=agency.publisher,
            published=agency.published,
            text=agency.text,
            content_hash="",
        )
        session.add(article)
        session.flush()
        deduper.register(session, article, verdict, fingerprint)
        assert len(deduper) == 1
        session.rollback()
    deduper.rollback_pending()
    assert len(deduper) == 0 and articles(store) == []
    assert ingest(store, deduper, wire_copy(CASES["wire"]["copies"][2])).kind == "new"


def test_index_entry_without_its_row_is_never_trusted(store: Store) -> None:
    """Even if the caller forgets rollback_pending, a match is confirmed against the database first."""
    deduper = make_deduper()
    agency = wire_copy(CASES["wire"]["copies"][1])
    fingerprint = deduper.fingerprint(agency.text)
    with store.session() as session:
        article = Article(url=agency.url, canonical_url=agency.url, text=agency.text, content_hash="")
        session.add(article)
        session.flush()
        deduper.register(session, article, Verdict("new", None, None), fingerprint)
        session.rollback()
    assert len(deduper) == 1  # stale entry, rollback_pending was not called
    unrelated = story(CASES["different_stories"][1])
    ingest(store, deduper, unrelated)  # takes the rolled-back id on SQLite
    verdict = ingest(store, deduper, wire_copy(CASES["wire"]["copies"][2]))
    assert verdict.kind == "new"
    assert len(deduper) == 2, "the stale entry was dropped, the two real ones stay"


def test_copies_within_one_uncommitted_transaction_find_each_other(store: Store) -> None:
    """Batch importers commit every few hundred articles; copies inside one batch must still cluster."""
    deduper = make_deduper()
    items = [wire_copy(CASES["wire"]["copies"][i]) for i in (1, 2)]
    with store.session() as session:
        verdicts = []
        for item in items:
            fingerprint = deduper.fingerprint(item.text)
            verdict = deduper.check(
                session,
                canonical_url=item.url,
                publisher=item.publisher,
                title=item.title,
                published=item.published,
                fingerprint=fingerprint,
            )
            article = Article(
                url=item.url,
                canonical_url=item.url,
                publisher=item.publisher,
                published=item.published,
                text=item.text,
                content_hash="",
            )
            session.add(article)
            session.flush()
            deduper.register(session, article, verdict, fingerprint)
            verdicts.append(verdict.kind)
        session.commit()
    deduper.commit_pending()
    assert verdicts == ["new", "near_duplicate"]
    assert len({r.cluster_id for r in articles(store)}) == 1


def test_text_without_words_is_never_a_copy(store: Store) -> None:
    deduper = make_deduper()
    blank = [
        Item(f"https://blank.example/{i}", "Blank", f"Empty page {i}", NOW, " \n — \n") for i in range(2)
    ]
    assert [ingest(store, deduper, item).kind for item in blank] == ["new", "new"]
    assert len(deduper) == 0


def test_sketches_made_with_other_settings_are_skipped_not_fatal(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    agency = wire_copy(CASES["wire"]["copies"][1])
    ingest(store, make_deduper(num_perm=128), agency)
    smaller = make_deduper(num_perm=64)
    with store.session() as session:
        assert smaller.load(session) == 0
    assert "1 stored sketches were not loaded" in caplog.text
    mirror = wire_copy(CASES["wire"]["copies"][4])
    assert ingest(store, smaller, mirror).kind == "same_text", "the text hash still finds the copy"


def test_unchanged_pages_cannot_be_registered(store: Store) -> None:
    deduper = make_deduper()
    agency = wire_copy(CASES["wire"]["copies"][1])
    ingest(store, deduper, agency)
    verdict = ingest(store, deduper, agency)
    assert verdict.kind == "unchanged"
    with store.session() as session:
        article = session.get(Article, verdict.match_article_id)
        assert article is not None
        with pytest.raises(ValueError, match="unchanged"):
            deduper.register(session, article, verdict, deduper.fingerprint(agency.text))


def test_edit_of_a_copy_is_still_a_copy_of_the_same_story(store: Store) -> None:
    deduper = make_deduper()
    agency, observer = (wire_copy(CASES["wire"]["copies"][i]) for i in (1, 2))
    ingest(store, deduper, agency)
    ingest(store, deduper, observer)
    corrected = Item(
        observer.url, observer.publisher, observer.title, observer.published, f"{observer.text}\nEdited."
    )
    assert ingest(store, deduper, corrected).kind == "new_version"
    first, copy, copy_v2 = articles(store)
    assert copy_v2.duplicate_of == copy.duplicate_of == first.id
    assert copy_v2.cluster_id == first.cluster_id
    assert cluster(store, first.cluster_id).size == 2
