"""The alarm forwarder's rows: the transitions it has still to send, its cursor, and its health for every screen.

One row per site in `alarm_forwarding` (migration 0013). The cursor is the last `alarms.id` the forwarder is done
with (acknowledged by the manager, test data passed over, or given up after repeated refusals); it moves in the
same statement that records the send, so a restart neither sends an acknowledged transition again nor skips one.
Within a site one ingest writes the alarm history, in order, so the ids are the order the transitions happened.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .schema import alarm_forwarding, alarms, sessions
from .store import Store
from .test_data import is_real

_COLUMNS = (alarms.c.id, alarms.c.session_id, alarms.c.offset_s, alarms.c.code, alarms.c.source, alarms.c.priority,
            alarms.c.state, alarms.c.value, alarms.c.message, sessions.c.chair, sessions.c.started_at,
            sessions.c.speed, sessions.c.patient_label, sessions.c.patient_identifier,
            is_real().label("real"))


@dataclass(frozen=True, slots=True)
class Health:
    """What the screens read: is forwarding failing, since when, and how much waits."""

    failing_since: float | None
    waiting: int
    last_error: str
    running: bool
    at: float
    sent: int = 0
    rejected: int = 0
    cursor: int = 0


def start_cursor(store: Store, now: float) -> int:
    """The site's cursor; at the very first start the newest alarm stored, so that configuring forwarding does not
    page the ward with the whole history."""
    with store.engine.begin() as conn:
        cursor = conn.scalar(sa.select(alarm_forwarding.c.cursor).where(alarm_forwarding.c.site == store.site))
        if cursor is not None:
            return int(cursor)
        newest = int(conn.scalar(sa.select(sa.func.max(alarms.c.id))) or 0)
        conn.execute(alarm_forwarding.insert().values(site=store.site, cursor=newest, running=True, at=now))
        return newest


def after(store: Store, cursor: int, limit: int = 100) -> list[dict[str, Any]]:
    """This site's alarm transitions after `cursor`, oldest first, each with its session's chair and patient."""
    query = (sa.select(*_COLUMNS).join(sessions, sessions.c.id == alarms.c.session_id)
             .where(alarms.c.id > cursor, sessions.c.site == store.site).order_by(alarms.c.id).limit(limit))
    with store.engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def newest_id(store: Store) -> int:
    """The newest alarm transition stored (any site): the cheap look that says whether there is anything new."""
    with store.engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.max(alarms.c.id))) or 0)


def waiting(store: Store, cursor: int) -> int:
    """Transitions of this site's real sessions after `cursor`: what the forwarder still owes the manager."""
    query = (sa.select(sa.func.count()).select_from(alarms).join(sessions, sessions.c.id == alarms.c.session_id)
             .where(alarms.c.id > cursor, sessions.c.site == store.site, is_real()))
    with store.engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def key_history(store: Store, session_id: int, code: str, source: str) -> list[dict[str, Any]]:
    """Every transition of one alarm (session, code, source), in order: where an update sits in its alarm's life."""
    query = (sa.select(alarms.c.id, alarms.c.offset_s, alarms.c.state, alarms.c.value)
             .where(alarms.c.session_id == session_id, alarms.c.code == code, alarms.c.source == source)
             .order_by(alarms.c.id))
    with store.engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def advance(store: Store, cursor: int, now: float, *, sent: int = 0, rejected: int = 0) -> None:
    """Done with everything up to `cursor` (after the manager's ACK, or passing over what is not sent)."""
    values: dict[str, Any] = {"cursor": cursor, "at": now, "running": True}
    if sent:
        values["sent"] = alarm_forwarding.c.sent + sent
    if rejected:
        values["rejected"] = alarm_forwarding.c.rejected + rejected
    with store.engine.begin() as conn:
        conn.execute(alarm_forwarding.update().where(alarm_forwarding.c.site == store.site).values(**values))


def publish(store: Store, *, failing_since: float | None, waiting: int, last_error: str, running: bool,
            now: float) -> None:
    with store.engine.begin() as conn:
        conn.execute(alarm_forwarding.update().where(alarm_forwarding.c.site == store.site).values(
            failing_since=failing_since, waiting=waiting, last_error=last_error[:500], running=running, at=now))


def retire(store: Store, now: float) -> None:
    """Forwarding is no longer configured here: a row left by a forwarder that died must not warn for ever."""
    with store.engine.begin() as conn:
        conn.execute(alarm_forwarding.update().where(alarm_forwarding.c.site == store.site,
                                                     alarm_forwarding.c.running.is_(True))
                     .values(running=False, failing_since=None, waiting=0, at=now))


def health(store: Store) -> Health | None:
    """This site's forwarding health; None where forwarding was never configured."""
    with store.engine.connect() as conn:
        row = conn.execute(alarm_forwarding.select().where(alarm_forwarding.c.site == store.site)).mappings().first()
    if row is None:
        return None
    return Health(failing_since=row["failing_since"], waiting=row["waiting"], last_error=row["last_error"],
                  running=bool(row["running"]), at=row["at"], sent=row["sent"], rejected=row["rejected"],
                  cursor=row["cursor"])
