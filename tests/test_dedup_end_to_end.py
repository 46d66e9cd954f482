"""Issue 5 through the whole path: wire copies replayed from WARC cluster as one source, tracking URLs are one
article, distinct stories stay apart, and an edit becomes a version whose changed fact alerts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlmodel import col, select

from config.loader import load_config
from crawler.replay import replay_blocking
from pipeline.process import Processor
from pipeline.store import Store
from pipeline.store.models import Alert, Article

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
DUPES = yaml.safe_load((FIXTURES / "expected.yaml").read_text(encoding="utf-8"))["duplicates"]


@pytest.mark.slow
def test_wire_copies_cluster_and_the_edit_alerts(tmp_path: Path) -> None:
    # replay_blocking runs the Twisted reactor once per process, so both snapshots go in one call.
    config = load_config(None)
    store = Store.open(f"sqlite:///{tmp_path / 'fw.db'}")
    processor = Processor(store, config)
    report = replay_blocking(
        [FIXTURES / "wire-copies.warc.gz", FIXTURES / "edited-v2.warc.gz"],
        config=config,
        processor=processor,
        store=store,
    )
    assert not report.missing
    with store.session() as session:
        current = session.exec(select(Article).where(col(Article.is_current))).all()
        by_url = {a.canonical_url: a for a in current}
        alerts = session.exec(select(Alert)).all()
        all_versions = session.exec(select(Article)).all()
    store.close()

    assert len(by_url) == DUPES["articles_after_wire_copies"]
    assert len({a.cluster_id for a in current}) == DUPES["stories_after_wire_copies"]
    wire = next(c for c in DUPES["clusters"] if c["kind"] == "wire copy")
    assert len({by_url[url].cluster_id for url in wire["members"]}) == 1
    tracking = next(c for c in DUPES["clusters"] if c["kind"] == "same article")
    assert tracking["canonical"] in by_url
    assert sum(1 for a in current if a.canonical_url == tracking["canonical"]) == 1
    assert len({by_url[url].cluster_id for url in DUPES["distinct"]}) == len(DUPES["distinct"])

    edited = DUPES["versions"][0]
    versions = sorted((a.version, a.is_current) for a in all_versions if a.canonical_url == edited["url"])
    assert versions == [(1, False), (2, True)]
    change = edited["changes"][0]
    hits = [a for a in alerts if a.fact == change["fact"] and a.payload["new_value"] == change["new"]]
    assert len(hits) == 1
    assert hits[0].payload["old_value"] == change["old"]
    assert hits[0].payload["evidence"] == change["sentence"]
    assert hits[0].event == "change", [(a.event, a.title) for a in alerts]
