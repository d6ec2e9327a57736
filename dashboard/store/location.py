"""Where the store is, for every command that opens it: `--database PATH` (SQLite) or `--database-url URL`
(any SQLAlchemy URL, e.g. postgresql://monitor@db.example/monitor), or the MONITOR_DATABASE_URL variable.

Which one: --database-url, else an explicit --database, else MONITOR_DATABASE_URL, else the default file.
A password in a URL is never printed: `describe` and `masked` hide it.

Clinics sharing one database are told apart by their site (`--site NAME` or MONITOR_SITE; default `main`).
"""
from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import sqlalchemy as sa

from .store import DEFAULT_SITE, Store, StoreError, sqlite_url

DATABASE_URL_ENV = "MONITOR_DATABASE_URL"
SITE_ENV = "MONITOR_SITE"
_SITE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")  # fits sessions.site; safe in logs and node names
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


def site_name(text: str) -> str:
    """A site name as given, or ValueError saying what one looks like."""
    if not _SITE_NAME.fullmatch(text):
        raise ValueError(f"site {text!r}: 1-40 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return text


def add_site_option(parser: argparse.ArgumentParser) -> None:
    def parse(text: str) -> str:
        try:
            return site_name(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parser.add_argument("--site", type=parse, default=None, metavar="NAME",
                        help=f"the clinic this process serves when several share a database: its chairs, "
                             f"sessions and ingest (default ${SITE_ENV}, else {DEFAULT_SITE})")


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
