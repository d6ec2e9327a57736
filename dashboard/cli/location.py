"""Where the store is, for every command that opens it: `--database PATH` (SQLite) or `--database-url URL`
(any SQLAlchemy URL, e.g. postgresql://monitor@db.example/monitor), or the MONITOR_DATABASE_URL variable.

Which one: --database-url, else an explicit --database, else MONITOR_DATABASE_URL, else the default file.
A password in a URL is never printed: `describe` and `masked` hide it.

Clinics sharing one database are told apart by their site (`--site NAME` or MONITOR_SITE; default `main`).
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import sqlalchemy as sa

from ..sites import SITE_ENV, site_name
from ..store.store import DEFAULT_SITE, Store, StoreError, sqlite_url
from .options import DATABASE_URL_ENV, DEFAULT_DB, add_database_options, add_site_option

__all__ = ["DATABASE_URL_ENV", "DEFAULT_DB", "SITE_ENV", "add_database_options", "add_site_option", "database_url",
           "describe", "masked", "missing_database", "open_store", "site_from_env", "site_name", "site_of"]


def site_of(args: argparse.Namespace) -> str:
    """--site, else MONITOR_SITE, else the default site."""
    return getattr(args, "site", None) or site_from_env()


def site_from_env() -> str:
    """MONITOR_SITE, else the default site; StoreError (a refusal to start) for a malformed one."""
    try:
        return site_name(os.environ.get(SITE_ENV) or DEFAULT_SITE)
    except ValueError as exc:
        raise StoreError(f"{SITE_ENV}: {exc}") from None


def database_url(args: argparse.Namespace) -> str:
    """The URL the options name. An empty one (`--database-url ""`, or MONITOR_DATABASE_URL set to nothing, as
    a unit file with a missing value leaves it) is refused (StoreError), never read as "the default file"."""
    url = getattr(args, "database_url", None)
    if url is not None:
        if not url.strip():
            raise StoreError("--database-url is empty: give the database's URL, or --database PATH")
        return url
    from_env = os.environ.get(DATABASE_URL_ENV)
    if not getattr(args, "database_given", False) and from_env is not None:
        if not from_env.strip():
            raise StoreError(f"{DATABASE_URL_ENV} is set but empty: give the database's URL, or unset it for the "
                             "SQLite file")
        return from_env
    return sqlite_url(args.database)


def missing_database(args: argparse.Namespace) -> str | None:
    """Why a command that only reads cannot run ('no database PATH'), or None. Only a file can be missing here."""
    url = sa.engine.make_url(database_url(args))
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return f"no database {url.database}"
    return None


def open_store(args: argparse.Namespace) -> Store:
    """The store the options name, seen from their site (a SQLite file's folder is made if needed); raises
    StoreError."""
    url, site = database_url(args), site_of(args)
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return Store.open(parsed.database, site)
    return Store(url, site)


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
