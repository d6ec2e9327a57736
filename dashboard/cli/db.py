"""Schema migrations (Alembic) by hand. Every program already brings the database to the newest revision when it
opens it (one transaction, behind a lock), so `db upgrade` is only needed before starting, e.g. on a new
PostgreSQL database; a program older than the database refuses to start.

    upgrade [REV]         to REV, default the newest (what every start does)
    current               where the database is
    history               the revisions this version knows (no database needed)
    downgrade REV         back to REV, before going back to an older release
    stamp REV             mark the database as at REV without running anything
    revision -m MESSAGE   write a new revision file (developers; --autogenerate compares with the code)
    backup PATH           a copy of the live database: SQLite's online backup API (a consistent moment while the
                          monitor runs, checked, one file), or pg_dump's custom format on PostgreSQL; never
                          overwrites a file (restoring: docs/deploy.md)
"""
from __future__ import annotations

import argparse

from .options import add_database_options

HELP = "schema migrations (upgrade, current, history, downgrade, stamp, revision) and backup PATH"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("upgrade", "current", "history", "downgrade", "stamp", "revision", "backup"),
                        help="what to do (above)")
    parser.add_argument("revision", nargs="?", metavar="REV|PATH",
                        help="upgrade/downgrade/stamp: the target revision (upgrade default: the newest); "
                             "backup: the file to write")
    parser.add_argument("-m", "--message", help="revision: what the new revision changes")
    parser.add_argument("--autogenerate", action="store_true",
                        help="revision: write the differences between the database and the tables in the code")
    add_database_options(parser)


def run(args: argparse.Namespace) -> int:
    import sys

    import sqlalchemy as sa

    try:
        return _run(args)
    except sa.exc.SQLAlchemyError as exc:  # unreachable, refused, wrong password: one line, never a traceback
        why = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"db {args.action}: cannot use the database: {why}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    import sys

    from alembic import command

    from ..store.migrate import alembic_config, current_revisions, heads, known_revisions
    from .location import database_url, describe, open_store

    url = database_url(args)
    config = alembic_config(url=url)
    if args.action != "history":
        print(f"Database: {describe(url)}", file=sys.stderr)
    if args.action == "backup":
        return _backup(url, args.revision)
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


def _backup(url: str, path: str | None) -> int:
    import sys
    from pathlib import Path

    from ..store import StoreError
    from ..store.backup import backup

    if not path:
        print("db backup: give the file to write (db backup PATH)", file=sys.stderr)
        return 2
    try:
        print(f"Backup: {backup(url, Path(path))}")
    except StoreError as exc:
        print(f"db backup: {exc}", file=sys.stderr)
        return 2
    return 0
