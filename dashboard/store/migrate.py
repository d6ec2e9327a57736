"""Schema migrations (Alembic), run from code: `Store()` brings every database it opens to the newest revision.

The revisions live in `migrations/versions/`; `migrations/env.py` is their environment. No alembic.ini:
the configuration is built here. A database at a revision this program does not know was upgraded by a
newer version of the monitor, and is refused rather than touched.

Changing the schema: edit the tables (schema.py, or a module adding tables to its `metadata`), then
`python app.py db revision -m "what changed" --autogenerate --database-url URL` against a database at the
current head, read the file it writes and fix it by hand. tests/test_migrations.py fails until the revision
gives exactly the tables in `metadata`.
"""
from __future__ import annotations

import argparse
import functools
import sys
import threading
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from .schema import metadata

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"
PG_LOCK_KEY = 0x6B_65_74_61  # pg_advisory_xact_lock key for "migrating the monitor's schema"


_ONE_AT_A_TIME = threading.Lock()


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer version of the program."""


def full_metadata() -> sa.MetaData:
    """The store's `metadata` with every table registered on it (some modules add theirs when imported)."""
    from . import device_data, security, signoff  # noqa: F401  (device data outside sessions; users, audit; signoffs)

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
    with _ONE_AT_A_TIME:  # alembic's `context` and `op` are module globals: one migration per process at a time
        command.upgrade(alembic_config(connection=connection), "heads")
    return True


def lock_for_migration(connection: sa.Connection) -> None:
    """Called by env.py at the start of the migration's transaction: one migrator at a time."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock now; DDL then commits with the version


def engine_for(url: str) -> sa.Engine:
    """An engine like the store's (SQLite pragmas included), for the command line."""
    from .store import _sqlite_pragmas

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


# ---- python app.py db ... -------------------------------------------------------------------------

def add_parser(sub: argparse._SubParsersAction) -> None:
    from .location import add_database_options

    parser = sub.add_parser("db", help="schema migrations: upgrade, current, history, downgrade, stamp, revision")
    parser.add_argument("action", choices=("upgrade", "current", "history", "downgrade", "stamp", "revision"))
    parser.add_argument("revision", nargs="?", help="upgrade/downgrade/stamp: the target revision "
                        "(upgrade default: the newest)")
    parser.add_argument("-m", "--message", help="revision: what the new revision changes")
    parser.add_argument("--autogenerate", action="store_true",
                        help="revision: write the differences between the database and the tables in the code")
    add_database_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .location import database_url, describe, open_store

    url = database_url(args)
    config = alembic_config(url=url)
    print(f"Database: {describe(url)}", file=sys.stderr)
    if args.action == "upgrade" and args.revision is None:
        store = open_store(args)  # the same path every program takes at start, with its checks
        with store.engine.connect() as conn:
            print(f"At revision {', '.join(current_revisions(conn))} (newest known: {', '.join(heads())})")
        store.close()
    elif args.action in ("upgrade", "downgrade", "stamp"):
        if not args.revision:
            print(f"db {args.action}: give the target revision", file=sys.stderr)
            return 2
        getattr(command, args.action)(config, args.revision)
    elif args.action == "current":
        command.current(config, verbose=True)
    elif args.action == "history":
        command.history(config, verbose=True)
    else:
        if not args.message:
            print("db revision: give -m MESSAGE", file=sys.stderr)
            return 2
        command.revision(config, message=args.message, autogenerate=args.autogenerate,
                         rev_id=f"{len(known_revisions()) + 1:04d}")
    return 0
