"""The one path every page takes, end to end over a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from config.loader import load_config
from pipeline.process import Processor
from pipeline.store import Store
from pipeline.store.models import Alert, Article, FactChange, FactState
from pipeline.types import Document, FetchedPage

FILLER = (
    "Residents of Port-au-Prince said the streets near the airport were calmer than a month ago, though "
    "markets still closed early and several schools had not reopened after the holidays.\n"
    "Aid groups warned that funding for the mission's trust fund remained far below what planners had hoped, "
    "and that shortages of armoured vehicles limited patrols outside the capital.\n"
)


def doc(
    url: str, when: str, body: str, *, publisher: str = "The Port Ledger", title: str | None = None
) -> Document:
    return Document(
        text=body + "\n" + FILLER,
        url=url,
        title=title or f"Haiti mission update {url.rsplit('/', 1)[-1]}",
        published=datetime.fromisoformat(when).replace(tzinfo=UTC),
        publisher=publisher,
    )


@pytest.fixture
def processor(db_url: str) -> Iterator[Processor]:
    """A processor over a fresh store: SQLite, and PostgreSQL when a server answers (tests/conftest.py)."""
    store = Store.open(db_url)
    yield Processor(store, load_config(None))
    store.close()


def states(p: Processor) -> dict[tuple[str, str], object]:
    with p.store.session() as s:
        return {(r.fact, r.entity_key): r.value for r in s.exec(select(FactState)).all()}


def alerts(p: Processor) -> list[Alert]:
    with p.store.session() as s:
        return list(s.exec(select(Alert).order_by(col(Alert.id))).all())


def test_new_article_then_unchanged_then_a_change(processor: Processor) -> None:
    first = doc(
        "https://portledger.example/haiti/a1",
        "2024-07-20",
        "Kenya now has 400 police officers deployed in Haiti, the mission said on Friday.",
    )
    out = processor.process_document(first)
    assert out.status == "new"
    assert states(processor)[("kenya_police_deployed", "")] == 400
    assert alerts(processor) == []  # a first value is recorded, not alerted (alert_initial: false)

    again = processor.process_document(first)
    assert again.status == "unchanged"

    later = doc(
        "https://portledger.example/haiti/a2",
        "2025-02-10",
        "About 600 Kenyan police officers are now deployed in Haiti, according to the mission.",
    )
    out = processor.process_document(later)
    assert out.status == "new"
    assert out.events >= 1
    assert states(processor)[("kenya_police_deployed", "")] == 600
    [alert] = alerts(processor)
    assert alert.event == "change"
    assert alert.fact == "kenya_police_deployed"
    assert alert.payload["old_value"] == 400 and alert.payload["new_value"] == 600
    assert "600" in alert.payload["evidence"]
    assert alert.payload["url"] == "https://portledger.example/haiti/a2"
    assert {"kenya_police_deployed", "haiti-mss"} <= set(alert.payload["tags"])  # routes select by tag
    assert alert.state == "pending"


def test_older_article_processed_late_does_not_alert(processor: Processor) -> None:
    processor.process_document(
        doc("https://a.example/1", "2024-07-20", "Kenya now has 400 police officers deployed in Haiti.")
    )
    processor.process_document(
        doc(
            "https://a.example/3",
            "2025-03-01",
            "Some 750 Kenyan police officers are currently deployed in Haiti.",
        )
    )
    processor.process_document(
        doc(
            "https://a.example/2",
            "2024-11-01",
            "Kenya now has 600 police officers deployed in Haiti, officials said.",
        )
    )
    assert states(processor)[("kenya_police_deployed", "")] == 750
    assert [a.payload["new_value"] for a in alerts(processor)] == [750]


def test_edited_article_is_a_new_version_and_its_change_alerts(processor: Processor) -> None:
    url = "https://portledger.example/haiti/edited"
    v1 = processor.process_document(
        doc(url, "2024-08-01", "Kenya now has 400 police officers deployed in Haiti.")
    )
    v2 = processor.process_document(
        doc(url, "2024-08-01", "Kenya now has 430 police officers deployed in Haiti.")
    )
    assert (v1.status, v2.status) == ("new", "version")
    with processor.store.session() as s:
        rows = s.exec(
            select(Article).where(Article.canonical_url == url).order_by(col(Article.version))
        ).all()
        assert [(r.version, r.is_current) for r in rows] == [(1, False), (2, True)]
        changes = s.exec(select(FactChange).where(FactChange.kind == "change")).all()
    assert [(c.old_value, c.new_value) for c in changes] == [(400, 430)]


def test_irrelevant_and_rejected_pages_are_not_stored(processor: Processor) -> None:
    sports = Document(
        text="The national football team won two nil on Saturday.\n" * 3,
        url="https://a.example/s",
        title="Football",
    )
    assert processor.process_document(sports).status == "irrelevant"
    pdf = FetchedPage(
        url="https://a.example/f.pdf",
        status=200,
        body=b"%PDF-1.4",
        headers={"Content-Type": "application/pdf"},
    )
    assert processor.process_page(pdf).status == "rejected"
    missing = FetchedPage(url="https://a.example/404", status=404, body=b"gone")
    assert processor.process_page(missing).reason == "HTTP status 404"
    with processor.store.session() as s:
        assert s.exec(select(Article)).all() == []


def test_known_urls_matches_tracking_variants(processor: Processor) -> None:
    processor.process_document(
        doc("https://a.example/story", "2024-07-20", "Kenya now has 400 police officers deployed in Haiti.")
    )
    known = processor.known_urls(["https://a.example/story?utm_source=x", "https://a.example/other"])
    assert known == {"https://a.example/story?utm_source=x"}
