"""The audit log and people's actions, tamper-evident: each row carries a keyed hash (HMAC-SHA256) of its
contents and of the row before it in its table, written in the transaction that writes the row.

Triggers refuse UPDATE and DELETE of the audit log, but anyone with write access to the database file can drop
them, or `INSERT OR REPLACE` a row. The chain makes that visible: a row changed, replaced, removed or written
without the key no longer follows from the one before, and `python app.py audit verify` names the first such
row. The key is a server secret kept outside the database (MONITOR_AUDIT_KEY, or the file MONITOR_AUDIT_KEY_FILE,
else var/audit_key, made on first use, readable by its owner only): someone who can edit the database but not
read the key cannot forge a link.

`chain_heads` holds each chain's row count and last link. Every append updates it first: that write takes the
database's write lock (SQLite) or the head row's lock (PostgreSQL), so two writers never chain onto the same row.
Removing rows from the end is seen as a head that names more rows than there are; a head rewritten to match is
not (no chain sees its own tail cut without a copy of its head elsewhere: `audit verify` prints it, the
journal keeps it).

An action row is updated once, by ingest (`applied_at`, `error`: whether it could be folded in); the link covers
every other column, what the person did. Rows written before the chain (migration 0014) have no link: they are
counted, and may only come before the first linked row.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import sqlalchemy as sa

from .keyfile import read_or_make
from .schema import actions
from .security import audit, chain_heads

KEY_ENV, KEY_FILE_ENV = "MONITOR_AUDIT_KEY", "MONITOR_AUDIT_KEY_FILE"
DEFAULT_KEY_FILE = Path("var/audit_key")
# The columns each link covers, in order (never an action's applied_at or error: ingest sets them later).
LINKED: dict[str, tuple[str, ...]] = {
    "audit": ("at", "who", "role", "action", "detail", "remote", "session_id"),
    "actions": ("session_id", "kind", "detail", "who", "at", "offset_s", "source", "sbp", "dbp", "map", "hr", "spo2"),
}
TABLES = {"audit": audit, "actions": actions}


def key_file() -> Path:
    return Path(os.environ.get(KEY_FILE_ENV) or DEFAULT_KEY_FILE)


def key() -> bytes:
    """The chain's key: MONITOR_AUDIT_KEY, else the key file (made on first use)."""
    return os.environ.get(KEY_ENV, "").encode() or _file_key(key_file().resolve())


@functools.cache
def _file_key(path: Path) -> bytes:  # a key file never changes while a process runs
    return read_or_make(path)


def append(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> sa.CursorResult[Any] | None:
    """Insert `rows` into `table` (audit or actions), each linked to the one before; returns the insert's result
    (its inserted_primary_key for a single row)."""
    if not rows:
        return None
    name = table.name
    head = chain_heads.c.name == name
    locked = conn.execute(chain_heads.update().where(head).values(rows=chain_heads.c.rows + len(rows))).rowcount
    if not locked:  # a database whose head row went missing: the verification reports it
        conn.execute(chain_heads.insert().values(name=name, rows=len(rows), last=""))
    last = conn.scalar(sa.select(chain_heads.c.last).where(head)) or ""
    secret = key()
    filled = []
    for row in rows:
        values = {**_blank(table), **row}
        last = values["chain"] = link(secret, name, last, values)
        filled.append(values)
    conn.execute(chain_heads.update().where(head).values(last=last))
    if len(filled) == 1:
        return conn.execute(table.insert().values(**filled[0]))
    return conn.execute(table.insert(), filled)


def link(secret: bytes, name: str, before: str, row: dict[str, Any]) -> str:
    """The row's link: HMAC-SHA256 over its table, the link before it and the columns it covers."""
    return _digest(secret, name, before, [row.get(column) for column in LINKED[name]], _floats(name))


def _digest(secret: bytes, name: str, before: str, values: Sequence[Any], floats: Sequence[bool]) -> str:
    # A REAL column gives back 5.0 for 5: the link covers the value as the database will give it back.
    canonical = [None if v is None else float(v) if is_float else v for v, is_float in zip(values, floats)]
    payload = json.dumps([name, before, canonical], separators=(",", ":"), ensure_ascii=False)
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


@functools.cache
def _floats(name: str) -> tuple[bool, ...]:
    return tuple(isinstance(TABLES[name].c[column].type, sa.Float) for column in LINKED[name])


@functools.cache
def _blank(table: sa.Table) -> dict[str, Any]:
    """What the database would fill in for a linked column left out: the link must cover what is stored."""
    blank: dict[str, Any] = {}
    for column in LINKED[table.name]:
        default = table.c[column].server_default
        blank[column] = getattr(default, "arg", None) if default is not None else None
    return blank


@dataclass(frozen=True, slots=True)
class Verdict:
    """One chain's verification: how many rows it covers, and the first broken link if any."""

    table: str
    linked: int  # rows with a link that checked out
    unlinked: int  # rows from before the chain (migration 0014)
    broken: str | None  # what is wrong, naming the row; None when intact
    last: str  # the last link (compare it with one noted earlier to see the end was not cut)

    @property
    def intact(self) -> bool:
        return self.broken is None

    def describe(self) -> str:
        older = f" ({self.unlinked} older rows from before the chain)" if self.unlinked else ""
        if self.broken:
            return f"{self.table}: BROKEN at {self.broken}"
        return f"{self.table}: intact, {self.linked} rows{older}; last link {self.last[:16]}"


def verify(engine: sa.Engine, name: str, secret: bytes | None = None) -> Verdict:
    """Walk the chain of `name` in row order and stop at the first row that does not follow from the one before."""
    secret = key() if secret is None else secret
    table = TABLES[name]
    last, linked, unlinked = "", 0, 0
    floats = _floats(name)
    with engine.connect() as conn:
        head = conn.execute(sa.select(chain_heads.c.rows, chain_heads.c.last).where(chain_heads.c.name == name)).first()
        for row_id, stored, *values in _rows(conn, table):  # tuples, not mappings: a million rows in seconds
            if stored is None:
                if linked:
                    return Verdict(name, linked, unlinked, f"{name} row {row_id}: its link is missing", last)
                unlinked += 1
                continue
            if not hmac.compare_digest(_digest(secret, name, last, values, floats), stored):
                why = ("its contents or the row before it were changed, or a row before it removed" if linked else
                       "its contents were changed, or the key is not the one it was written with")
                return Verdict(name, linked, unlinked, f"{name} row {row_id}: {why}", last)
            last, linked = stored, linked + 1
    if head is None:
        return Verdict(name, linked, unlinked, f"{name}: its chain head is missing", last)
    if head.rows != linked or head.last != last:
        return Verdict(name, linked, unlinked, f"{name}: the head names {head.rows} rows, the table holds {linked}: "
                                               "rows were removed from the end", last)
    return Verdict(name, linked, unlinked, None, last)


def verify_all(engine: sa.Engine) -> list[Verdict]:
    secret = key()
    return [verify(engine, name, secret) for name in TABLES]


def _rows(conn: sa.Connection, table: sa.Table) -> Iterator[sa.Row[Any]]:
    columns = [table.c.id, table.c.chain, *(table.c[column] for column in LINKED[table.name])]
    yield from conn.execution_options(yield_per=5000).execute(sa.select(*columns).order_by(table.c.id))
