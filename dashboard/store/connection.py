"""Connecting to the database: one engine setup for the store and the migrations (SQLite's pragmas included)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path).resolve()}"


BUSY_TIMEOUT_MS = 5000  # how long a statement waits for another connection's write lock
MIGRATION_WAIT_MS = 120_000  # how long opening the store waits for another node's migration (SQLite)


def create_engine(url: str, **options: Any) -> sa.Engine:
    """An engine for `url`; on SQLite every connection gets the store's pragmas."""
    engine = sa.create_engine(url, **options)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # first: switching to WAL may wait for a writer too
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the ingest writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
