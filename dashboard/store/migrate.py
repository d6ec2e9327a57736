"""Schema migrations (Alembic), run from code: `Store()` brings every database it opens to the newest revision.

The revisions live in `migrations/versions/`; `migrations/env.py` is their environment. No alembic.ini:
the configuration is built here. A database at a revision this program does not know was upgraded by a
newer version of the monitor, and is refused rather than touched.

Changing the schema: edit the tables (schema.py, or a module adding tables to its `metadata`), then
`python app.py db revision -m "what changed" --autogenerate --database-url URL` against a database at the
current head, read the file it writes and fix it by hand. tests/store/test_migrations.py fails until the revision
gives exactly the tables in `metadata`.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import sys
import threading
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from .connection import BUSY_TIMEOUT_MS, MIGRATION_WAIT_MS, create_engine
from .schema import metadata

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
log = logging.getLogger(__name__)
PG_LOCK_KEY = 0x6B_65_74_61  # pg_advisory_xact_lock key for "migrating the monitor's schema"


_ONE_AT_A_TIME = threading.Lock()


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer version of the program."""


def full_metadata() -> sa.MetaData:
    """The store's `metadata` with every table registered on it (some modules add theirs when imported)."""
    from . import device_data, security  # noqa: F401  (device data outside sessions; users, audit)

    return metadata


def alembic_config(connection: sa.Connection | None = None, url: str | None = None) -> Config:
    config = Config(stdout=sys.stdout)
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes["url"] = url
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def heads() -> tuple[str, ...]:
    """The newest revision(s) this program knows."""
    return tuple(_scripts().get_heads())


@functools.cache
def known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _scripts().walk_revisions())


def current_revisions(connection: sa.Connection) -> tuple[str, ...]:
    """The database's revision(s); () for an empty database or one made before migrations."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return ()
    version = sa.table(VERSION_TABLE, sa.column("version_num"))
    return tuple(connection.execute(sa.select(version.c.version_num)).scalars())


def upgrade(connection: sa.Connection) -> bool:
    """Bring the database to the newest revision; True if anything ran. Raises SchemaTooNew for a database
    at a revision this program does not know. A database made before migrations (by `create_all`) is
    adopted: the first revision creates only the tables it lacks."""
    current = current_revisions(connection)
    connection.rollback()  # the migration opens its own transaction on this connection
    unknown = [revision for revision in current if revision not in known_revisions()]
    if unknown:
        raise SchemaTooNew(f"the database schema is at revision {', '.join(unknown)}, which this version of the "
                           f"monitor does not know (it knows up to {', '.join(heads())}): the database was "
                           "upgraded by a newer version. Run that version, or upgrade this installation.")
    if set(current) == set(heads()):
        return False
    config = alembic_config(connection=connection)
    with _ONE_AT_A_TIME:  # alembic's `context` and `op` are module globals: one migration per process at a time
        command.upgrade(config, "heads")
    applied = config.attributes.get("applied", [])  # none when another process migrated it while we waited
    if applied:  # one line for the fact; alembic's own, one per step, show with -v
        log.info("database schema %s revision %s (%d migration%s)",
                 f"upgraded from {', '.join(current)} to" if current else "created at", ", ".join(heads()),
                 len(applied), "" if len(applied) == 1 else "s")
    return bool(applied)


@contextlib.contextmanager
def waiting_for_migrators(connection: sa.Connection) -> Iterator[None]:
    """On SQLite, this connection waits up to MIGRATION_WAIT_MS for another node's migration (which holds the
    write lock from its first statement to its commit; on a busy machine, longer than a statement's usual wait)."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={MIGRATION_WAIT_MS}")
    try:
        yield
    finally:
        if sqlite:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def lock_for_migration(connection: sa.Connection) -> None:
    """Called by env.py at the start of the migration's transaction: one migrator at a time."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock now; DDL then commits with the version


def engine_for(url: str) -> sa.Engine:
    """An engine like the store's (SQLite pragmas included), for the command line."""
    return create_engine(url, poolclass=sa.pool.NullPool)
