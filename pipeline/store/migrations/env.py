"""Alembic environment: uses the connection handed over by pipeline.store.migrate."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import pipeline.store.all_models  # noqa: F401  (every table registers itself)

target_metadata = SQLModel.metadata
config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        url = config.get_main_option("sqlalchemy.url") or "sqlite:///factwatch.db"
        with create_engine(url).begin() as conn:
            _configure(conn)
        return
    _configure(connection)


def _configure(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
