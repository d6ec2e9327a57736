"""A copy of a live database, taken while the monitor runs.

SQLite: the online backup API (sqlite3's `backup`), in one step, so the copy is one consistent moment of the
database (in WAL mode ingest and the web keep writing meanwhile, and what they commit after that moment is not
in it). The copy is written aside, checked (`PRAGMA integrity_check`), switched out of WAL mode so that it is
one self-contained file, and only then renamed to its name: a backup that stopped half-way never looks whole.
A backup never overwrites another.

PostgreSQL: `pg_dump --format=custom` (restored with `pg_restore`: docs/deploy.md).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import sqlalchemy as sa

from .store import StoreError


def backup(url: str, target: Path) -> str:
    """Copy the database at `url` to `target`; returns what was written, for a person. StoreError if it cannot."""
    if target.exists():
        raise StoreError(f"{target} exists: a backup never overwrites another, give a new name")
    parsed = sa.engine.make_url(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite(Path(parsed.database or ""), target)
    if parsed.get_backend_name() == "postgresql":
        return _pg_dump(parsed, target)
    raise StoreError(f"no backup for {parsed.get_backend_name()} databases here: use its own tools")


def _sqlite(source: Path, target: Path) -> str:
    if not source.is_file():
        raise StoreError(f"no database {source}")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(source, timeout=30)) as live, closing(sqlite3.connect(partial)) as copy:
            live.backup(copy)  # pages=-1: every page in one step, one consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # one file: no -wal beside it to lose
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise StoreError(f"the copy failed its integrity check: {verdict}")
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        partial.rename(target)
    except sqlite3.Error as exc:
        raise StoreError(f"backup of {source} failed: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return f"{target} ({target.stat().st_size / 1e6:.1f} MB, SQLite, checked)"


def _pg_dump(url: sa.URL, target: Path) -> str:
    program = shutil.which("pg_dump")
    if program is None:
        raise StoreError("pg_dump is not installed here (postgresql-client): see docs/deploy.md, Backups")
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    done = subprocess.run([program, "--format=custom", f"--file={target}", f"--dbname={libpq}"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        why = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        raise StoreError(f"pg_dump failed: {why}")
    return f"{target} ({target.stat().st_size / 1e6:.1f} MB, pg_dump custom format: pg_restore reads it)"

