"""Where the store is, for every command that opens it: `--database PATH` (SQLite) or `--database-url URL`
(any SQLAlchemy URL, e.g. postgresql://monitor@db.example/monitor), or the MONITOR_DATABASE_URL variable.

Which one: --database-url, else an explicit --database, else MONITOR_DATABASE_URL, else the default file.
A password in a URL is never printed: `describe` and `masked` hide it.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import sqlalchemy as sa

from .store import Store, sqlite_url

DATABASE_URL_ENV = "MONITOR_DATABASE_URL"
DEFAULT_DB = Path("var/clinic.db")


class _PathGiven(argparse.Action):
    """--database PATH, remembering that it was given (so it beats MONITOR_DATABASE_URL)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # type: ignore[no-untyped-def]
        setattr(namespace, self.dest, Path(values))
        namespace.database_given = True


def add_database_options(parser: argparse.ArgumentParser, default: Path = DEFAULT_DB) -> None:
    parser.add_argument("--database", type=Path, default=default, action=_PathGiven, metavar="PATH",
                        help=f"SQLite file (default {default})")
    parser.add_argument("--database-url", metavar="URL",
                        help="SQLAlchemy URL of the database instead, e.g. postgresql://monitor@dbhost/monitor "
                             f"(wins over --database; default ${DATABASE_URL_ENV} when --database is not given)")


def database_url(args: argparse.Namespace) -> str:
    url = getattr(args, "database_url", None)
    if url:
        return url
    if not getattr(args, "database_given", False) and os.environ.get(DATABASE_URL_ENV):
        return os.environ[DATABASE_URL_ENV]
    return sqlite_url(args.database)


def missing_database(args: argparse.Namespace) -> str | None:
    """Why a command that only reads cannot run ('no database PATH'), or None. Only a file can be missing here."""
    url = sa.engine.make_url(database_url(args))
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return f"no database {url.database}"
    return None


def open_store(args: argparse.Namespace) -> Store:
    """The store the options name (a SQLite file's folder is made if needed); raises StoreError."""
    url = database_url(args)
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return Store.open(parsed.database)
    return Store(url)


def masked(url: str) -> str:
    """The URL with any password replaced by ***."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(not a database URL)"


def describe(url: str) -> str:
    """For the 'Database:' line: a SQLite file's path, or the masked URL, and what it is."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"{parsed.database} (SQLite, WAL)"
    name = {"postgresql": "PostgreSQL"}.get(parsed.get_backend_name(), parsed.get_backend_name())
    return f"{masked(url)} ({name})"
