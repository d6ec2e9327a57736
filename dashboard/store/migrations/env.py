"""Alembic environment of the store; run by `dashboard.store.migrate` (no alembic.ini).

`Store()` passes its open connection in `config.attributes["connection"]`; the command line
(`python app.py db ...`) passes a URL in `config.attributes["url"]`. The whole upgrade runs in one
transaction behind a lock, so several ingest nodes and web workers starting at once against one
database migrate it exactly once: PostgreSQL takes an advisory lock, SQLite its write lock.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from alembic.runtime.migration import MigrationInfo

from dashboard.store.migrate import engine_for, full_metadata, lock_for_migration

config = context.config


def run(connection: sa.Connection) -> None:
    with connection.begin():  # DDL and the version row commit together, or not at all
        lock_for_migration(connection)
        context.configure(connection=connection, target_metadata=full_metadata(), compare_type=True,
                          render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying
                          on_version_apply=_note_step)
        context.run_migrations()


def _note_step(*, step: MigrationInfo, **_: object) -> None:
    """The steps that ran, for migrate.upgrade's one log line (a list in config.attributes["applied"])."""
    config.attributes.setdefault("applied", []).append(step.up_revision_id)


if config.attributes.get("connection") is not None:
    run(config.attributes["connection"])
else:
    engine = engine_for(config.attributes["url"])
    try:
        with engine.connect() as conn:
            run(conn)
    finally:
        engine.dispose()
