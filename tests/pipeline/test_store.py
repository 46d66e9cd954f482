"""The store: Alembic migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

import pipeline.store.all_models  # noqa: F401
from pipeline.store import Store, StoreError, redact_url

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _pg_reachable() -> bool:
    try:
        store = Store.open(PG_ADMIN, migrate=False)
    except StoreError:
        return False
    store.close()
    return True


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not _pg_reachable():
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    name = f"fw_store_{uuid.uuid4().hex[:10]}"
    admin = Store.open(PG_ADMIN, migrate=False)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.close()


def _assert_schema_matches_models(store: Store) -> None:
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diffs == [], "models changed without a migration: run scripts/regen-initial-migration"


def test_sqlite_migrates_to_the_models_schema(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/fw.db")
    assert {"article", "fact_observation", "fact_change", "alert", "alert_delivery"} <= set(
        store.table_names()
    )
    _assert_schema_matches_models(store)
    store.close()
    # Opening again is a no-op upgrade, and keeps the data.
    again = Store.open(f"sqlite:///{tmp_path}/fw.db")
    with again.engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() is not None
    again.close()


@pytest.mark.postgres
def test_postgresql_migrates_to_the_models_schema(pg_url: str) -> None:
    store = Store.open(pg_url)
    _assert_schema_matches_models(store)
    store.close()


def test_bad_urls_are_store_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a valid SQLAlchemy URL"):
        Store.open("::::")
    with pytest.raises(StoreError, match="does not exist"):
        Store.open(f"sqlite:///{tmp_path}/missing/dir/fw.db")
    with pytest.raises(StoreError, match="unsupported driver"):
        Store.open("nosuchdb://host/db")


def test_redact_url_hides_password() -> None:
    assert "s3cret" not in redact_url("postgresql+psycopg://user:s3cret@db.example/fw")
