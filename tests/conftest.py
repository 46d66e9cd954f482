"""Shared fixtures. `db_url`: each store test runs on SQLite and, when a server is reachable, PostgreSQL.

PostgreSQL: FACTWATCH_TEST_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres) names a
server and a maintenance database; the fixture creates one fresh database per test session, empties it
before each test, and drops it at the end. Unreachable server → those tests are skipped, never failed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Page worker processes cost a spawn (about a second) per Processor: the suite runs pages in-process
# unless a test asks for workers (tests/pipeline/test_prepare.py, tests/crawler/test_workers.py).
os.environ.setdefault("FACTWATCH_PROCESS_WORKERS", "0")

# Loopback delivery targets (SMTP, HTTP) for every test that reads what alerts delivered.
pytest_plugins = ["tests.support.sinks"]

PG_ADMIN_URL_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _pg_admin_url() -> str:
    return os.environ.get("FACTWATCH_TEST_PG") or PG_ADMIN_URL_DEFAULT


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """URL of a database created for this test session (skips when no server answers)."""
    try:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import SQLAlchemyError
    except ImportError as exc:  # pragma: no cover
        pytest.skip(f"SQLAlchemy missing: {exc}")
    admin_url = make_url(_pg_admin_url())
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, ImportError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        pytest.skip(f"PostgreSQL not reachable at {admin_url.render_as_string(hide_password=True)}: {reason}")
    name = f"factwatch_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a fresh SQLite file, or the session's PostgreSQL database wiped clean."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'factwatch.db'}"
    url: str = request.getfixturevalue("postgres_database")
    _reset_postgres(url)
    return url


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Tests that call the CLI in-process install factwatch's log handler; put the root logger back after."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
