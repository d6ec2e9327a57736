"""Reads and writes of the store. SQLite (WAL) by default; any SQLAlchemy URL later.

Ingest writes readings, events, engine transitions and each session's status
snapshot in one transaction per batch (`write_batch`); the web reads them and
writes people's actions (`submit_action`), which ingest folds into the session
like any other event. Both may run in one process or apart.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from devices.readings import Reading, SessionEvent

from . import chain, device_data, migrate, retention
from .connection import create_engine, sqlite_url
from .schema import (DEFAULT_SITE, actions, alarms, events, ingest_heartbeat, readings, received_messages,
                     refused_messages, replays, sessions)


class StoreError(RuntimeError):
    """The database could not be opened or written."""


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    chair: str
    patient_label: str
    protocol: str
    dose: str
    started_at: float
    speed: float
    ended_at: float | None
    phase: str
    status: Mapping[str, Any]
    rev: int
    scenario: str | None
    seed: int | None
    clock: str = "wall"
    site: str = DEFAULT_SITE
    patient_identifier: str = ""
    first_treatment: bool | None = None
    concomitant: Mapping[str, bool] | None = None
    lot: str = ""
    course: Mapping[str, Any] | None = None
    rems_revision: str | None = None
    rems_enrolled: bool | None = None

    @property
    def usual_baseline(self) -> tuple[float, float] | None:
        """The patient's usual pre-dose BP kept on the session at its start (reports/course.py), for the engine's
        baseline policy."""
        value = (self.course or {}).get("usual_baseline")
        return (float(value[0]), float(value[1])) if value else None

    @property
    def is_simulated(self) -> bool:
        """A simulated clinic session or a tester's replay: no real patient."""
        return self.scenario is not None or self.clock == "feed"

    def session_now(self, wall: float | None = None) -> float:
        """Session time now (or at `wall`): seconds since the start, at the session's speed.
        A replayed session's time is where its replay has got to."""
        if self.clock == "feed":
            return float((self.status or {}).get("now", 0.0))
        if self.ended_at is not None:
            wall = min(wall or self.ended_at, self.ended_at)
        return ((wall if wall is not None else time.time()) - self.started_at) * self.speed


@dataclass
class Batch:
    """What one ingest pass writes, in one transaction."""

    readings: list[tuple[int, int, Reading]] = field(default_factory=list)  # (session_id, seq, reading)
    events: list[tuple[int, int, SessionEvent]] = field(default_factory=list)
    transitions: list[dict[str, Any]] = field(default_factory=list)  # with session_id
    statuses: dict[int, dict[str, Any]] = field(default_factory=dict)  # session_id -> status
    ended: dict[int, float] = field(default_factory=dict)  # session_id -> ended_at
    applied: dict[int, str | None] = field(default_factory=dict)  # action id -> error (None = applied)
    heartbeat: tuple[str, float, int, bool] | None = None  # (ingest node, now, readings buffered, demo clinic)
    messages: dict[str, float] = field(default_factory=dict)  # a sender's message id -> when it came
    devices: device_data.DeviceWrites = field(default_factory=device_data.DeviceWrites)  # data outside sessions

    def __bool__(self) -> bool:
        return bool(self.readings or self.events or self.transitions or self.statuses or self.ended or self.applied
                    or self.heartbeat or self.messages or self.devices)


def _json_dumps(value: Any) -> str:
    """JSON for the status column, a non-finite number (a NaN reading) written as null: PostgreSQL's json type
    refuses NaN and Infinity, and SQLite's JSON would keep a token no standard reader accepts."""
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


class Store:
    """The database, seen from one site (clinic). Several sites may share a database: what is live (open
    sessions, the actions inbox, replays, ingest heartbeats) and what this process creates belong to `site`;
    a session read by its id, and the review queries, see every site."""

    def __init__(self, url: str, site: str = DEFAULT_SITE) -> None:
        self.url = url
        self.site = site
        self.engine: Engine = create_engine(url, json_serializer=_json_dumps)
        try:  # the schema comes from the migrations (migrations/versions), never from create_all
            with self.engine.connect() as conn:
                with migrate.waiting_for_migrators(conn):
                    migrate.upgrade(conn)
        except migrate.SchemaTooNew as exc:
            self.engine.dispose()
            raise StoreError(f"cannot open the database: {exc}") from exc
        except sa.exc.SQLAlchemyError as exc:
            self.engine.dispose()
            raise StoreError(f"cannot open the database: {exc.__class__.__name__}: {exc.orig or exc}") from exc

    @classmethod
    def open(cls, path: Path | str, site: str = DEFAULT_SITE) -> Store:
        """Open (creating if needed) a SQLite store at `path`."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return cls(sqlite_url(path), site)

    def close(self) -> None:
        self.engine.dispose()

    # ---- sessions -----------------------------------------------------------

    def create_session(self, *, chair: str, patient_label: str, protocol: str, started_at: float,
                       dose: str = "", speed: float = 1.0, scenario: str | None = None,
                       seed: int | None = None, clock: str = "wall", **record: Any) -> int:
        """`record`: the start form's answers (patient_identifier, first_treatment, concomitant, lot, course,
        rems_revision, rems_enrolled)."""
        with self.engine.begin() as conn:
            result = conn.execute(sessions.insert().values(
                chair=chair, patient_label=patient_label, protocol=protocol, dose=dose, started_at=started_at,
                speed=speed, scenario=scenario, seed=seed, status={}, phase="pre-dose", rev=0, clock=clock,
                site=self.site, **record))
            return int(result.inserted_primary_key[0])

    def session(self, session_id: int) -> SessionRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(sessions.select().where(sessions.c.id == session_id)).mappings().first()
        return SessionRow(**row) if row else None

    def open_sessions(self) -> list[SessionRow]:
        """This site's sessions not yet ended, by chair."""
        query = (sessions.select().where(sessions.c.site == self.site, sessions.c.ended_at.is_(None))
                 .order_by(sessions.c.chair, sessions.c.id))
        with self.engine.connect() as conn:
            return [SessionRow(**row) for row in conn.execute(query).mappings()]

    def last_session_on(self, chair: str) -> SessionRow | None:
        """The newest session on one of this site's chairs."""
        query = (sessions.select().where(sessions.c.site == self.site, sessions.c.chair == chair)
                 .order_by(sessions.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return SessionRow(**row) if row else None

    def list_sessions(self, *, limit: int = 100, offset: int = 0) -> list[SessionRow]:
        """All sessions, newest first."""
        query = sessions.select().order_by(sessions.c.started_at.desc(), sessions.c.id.desc())
        with self.engine.connect() as conn:
            return [SessionRow(**row) for row in conn.execute(query.limit(limit).offset(offset)).mappings()]

    def simulated_count(self, session_id: int) -> int:
        """Device readings plus simulator events stored: where a simulated stream resumes."""
        with self.engine.connect() as conn:
            n_readings = conn.scalar(sa.select(sa.func.count()).where(
                readings.c.session_id == session_id, readings.c.provenance == "device"))
            n_events = conn.scalar(sa.select(sa.func.count()).where(
                events.c.session_id == session_id, events.c.who == "simulator"))
        return int(n_readings or 0) + int(n_events or 0)

    def max_seq(self, session_id: int) -> int:
        """The highest arrival number used in the session (0 if none)."""
        with self.engine.connect() as conn:
            top_r = conn.scalar(sa.select(sa.func.max(readings.c.seq)).where(readings.c.session_id == session_id))
            top_e = conn.scalar(sa.select(sa.func.max(events.c.seq)).where(events.c.session_id == session_id))
        return max(int(top_r or 0), int(top_e or 0))

    # ---- ingest writes ------------------------------------------------------

    def write_batch(self, batch: Batch) -> None:
        """Write everything in `batch` in one transaction, or nothing."""
        if not batch:
            return
        with self.engine.begin() as conn:
            if batch.readings:
                conn.execute(readings.insert(), [_fit(readings, _reading_row(sid, seq, r))
                                                 for sid, seq, r in batch.readings])
            if batch.events:
                conn.execute(events.insert(), [_fit(events, _event_row(sid, seq, e)) for sid, seq, e in batch.events])
            if batch.transitions:
                conn.execute(alarms.insert(), [_fit(alarms, dict(t)) for t in batch.transitions])
            touched = set(batch.statuses) | set(batch.ended) | {sid for sid, _, _ in batch.readings} \
                | {sid for sid, _, _ in batch.events}
            for sid in touched:
                values: dict[str, Any] = {"rev": sessions.c.rev + 1}
                if sid in batch.statuses:
                    values["status"] = batch.statuses[sid]
                    values["phase"] = batch.statuses[sid].get("phase", "pre-dose")
                if sid in batch.ended:
                    values["ended_at"] = batch.ended[sid]
                conn.execute(sessions.update().where(sessions.c.id == sid).values(**values))
            if batch.heartbeat is not None:
                node, at, buffered, demo = batch.heartbeat
                updated = conn.execute(ingest_heartbeat.update().where(ingest_heartbeat.c.node == node)
                                       .values(at=at, buffered=buffered, demo=demo)).rowcount
                if not updated:
                    conn.execute(ingest_heartbeat.insert().values(node=node, at=at, buffered=buffered, demo=demo))
            if batch.devices:
                device_data.write(conn, self.site, batch.devices)
            if batch.messages:
                conn.execute(_insert_new(conn, received_messages), [
                    {"site": self.site, "message": message, "at": at} for message, at in batch.messages.items()])
            if batch.applied:  # one statement for all: a replay's step marks thousands, inside the write lock
                now = time.time()
                conn.execute(actions.update().where(actions.c.id == sa.bindparam("action_id"))
                             .values(applied_at=now, error=sa.bindparam("why")),
                             [{"action_id": action_id, "why": error} for action_id, error in batch.applied.items()])

    def received_since(self, since: float) -> dict[str, float]:
        """This site's stored message ids (HL7 resend keys) newer than `since`, oldest first, with when they came."""
        query = (sa.select(received_messages.c.message, received_messages.c.at)
                 .where(received_messages.c.site == self.site, received_messages.c.at >= since)
                 .order_by(received_messages.c.at))
        with self.engine.connect() as conn:
            return {message: at for message, at in conn.execute(query)}

    def forget_received(self, before: float) -> None:
        """Drop this site's message ids older than `before`: a resend comes within minutes, not hours."""
        with self.engine.begin() as conn:
            conn.execute(received_messages.delete().where(received_messages.c.site == self.site,
                                                          received_messages.c.at < before))

    # ---- reads for engines and pages -----------------------------------------

    def session_items(self, session_id: int) -> list[Reading | SessionEvent]:
        """Every stored reading and event of the session, in the order ingest received them."""
        with self.engine.connect() as conn:
            rows_r = conn.execute(readings.select().where(readings.c.session_id == session_id)).mappings().all()
            rows_e = conn.execute(events.select().where(events.c.session_id == session_id)).mappings().all()
        items = [(r["seq"], _reading_from(r)) for r in rows_r] + [(e["seq"], _event_from(e)) for e in rows_e]
        items.sort(key=lambda entry: entry[0])
        return [item for _, item in items]

    def readings_after(self, session_id: int, after_id: int = 0, bp_only: bool = False) -> list[dict[str, Any]]:
        """Readings of the session stored after row `after_id`, in session-time order, each with its `id`."""
        query = (sa.select(readings.c.id, readings.c.offset_s, readings.c.source, readings.c.provenance,
                           readings.c.sbp, readings.c.dbp, readings.c.map, readings.c.hr, readings.c.spo2)
                 .where(readings.c.session_id == session_id, readings.c.id > after_id))
        if bp_only:
            query = query.where(readings.c.sbp.is_not(None))
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query.order_by(readings.c.offset_s, readings.c.id)).mappings()]

    def spot_checks(self, session_id: int) -> list[dict[str, Any]]:
        """A nurse's manual SpO2 checks (manual readings without a BP), as readings_after gives them: the log lists
        them beside the BPs."""
        query = (sa.select(readings.c.id, readings.c.offset_s, readings.c.source, readings.c.provenance,
                           readings.c.sbp, readings.c.dbp, readings.c.map, readings.c.hr, readings.c.spo2)
                 .where(readings.c.session_id == session_id, readings.c.provenance == "manual",
                        readings.c.sbp.is_(None), readings.c.spo2.is_not(None)))
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query.order_by(readings.c.offset_s, readings.c.id)).mappings()]

    def reading_summary(self, session_id: int) -> dict[str, Any]:
        """Count and ranges of the continuous (non-BP) readings: the log's one-line summary of them."""
        query = sa.select(sa.func.count().label("count"), sa.func.min(readings.c.hr).label("hr_min"),
                          sa.func.max(readings.c.hr).label("hr_max"), sa.func.min(readings.c.spo2).label("spo2_min"),
                          sa.func.max(readings.c.spo2).label("spo2_max")).where(
            readings.c.session_id == session_id, readings.c.sbp.is_(None))
        with self.engine.connect() as conn:
            return dict(conn.execute(query).mappings().one())

    def events_of(self, session_id: int) -> list[dict[str, Any]]:
        query = events.select().where(events.c.session_id == session_id).order_by(events.c.offset_s, events.c.id)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def alarms_of(self, session_id: int) -> list[dict[str, Any]]:
        query = alarms.select().where(alarms.c.session_id == session_id).order_by(alarms.c.offset_s, alarms.c.id)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def signal_delays(self, limit: int = 1000) -> list[float]:
        """Seconds from the triggering input reaching ingest to the alarm being stored, for the newest `limit`
        alarms an input raised (timers' are left out: nothing arrived to delay)."""
        query = (sa.select(alarms.c.stored_at - alarms.c.received_at)
                 .where(alarms.c.state == "raised", alarms.c.received_at.is_not(None), alarms.c.stored_at.is_not(None))
                 .order_by(alarms.c.id.desc()).limit(limit))
        with self.engine.connect() as conn:
            return [float(delay) for delay in conn.scalars(query)]

    def heartbeats(self) -> list[dict[str, Any]]:
        """When this site's ingest last committed: the web warns when it has not written lately."""
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(
                ingest_heartbeat.select().where(ingest_heartbeat.c.node == self.site)).mappings()]

    # ---- people's actions ----------------------------------------------------

    # The web sets this: it writes the audit row of a person's action in the transaction that queues it.
    on_action: Callable[[sa.Connection, int, str, str], None] | None = None

    def submit_action(self, session_id: int, kind: str, who: str, detail: str = "", at: float | None = None,
                      sbp: float | None = None, dbp: float | None = None, hr: float | None = None,
                      spo2: float | None = None) -> int:
        """Queue a person's action for ingest to fold into the session (and audit it); returns its id."""
        with self.engine.begin() as conn:
            result = chain.append(conn, actions, [_fit(actions, dict(
                session_id=session_id, kind=kind, detail=detail, who=who, at=time.time() if at is None else at,
                sbp=sbp, dbp=dbp, hr=hr, spo2=spo2))])
            assert result is not None
            if self.on_action is not None:
                self.on_action(conn, session_id, kind, detail)
            return int(result.inserted_primary_key[0])

    def submit_items(self, session_id: int, items: Sequence[Reading | SessionEvent], who: str,
                     tick: float | None = None, final: bool = False) -> None:
        """Queue a replay's readings and events with their own session times, and optionally a clock tick
        (timers run up to `tick`, and at it too when `final`), in one transaction."""
        now = time.time()
        rows = [_fit(actions, _inbox_row(session_id, item, who, now)) for item in items]
        if tick is not None:
            rows.append({**_INBOX_BLANK, "session_id": session_id, "kind": "tick", "who": who, "at": now,
                         "offset_s": tick, "detail": "end" if final else ""})
        if rows:
            with self.engine.begin() as conn:
                chain.append(conn, actions, rows)

    def pending_actions(self) -> list[dict[str, Any]]:
        """Actions on this site's sessions not yet folded, oldest first: each site's ingest folds its own."""
        query = (actions.select().where(actions.c.applied_at.is_(None), actions.c.session_id.in_(self._site_ids()))
                 .order_by(actions.c.id))
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def actions_of(self, session_id: int, kind: str) -> list[dict[str, Any]]:
        """A session's actions of one kind, folded or still queued, oldest first; never one ingest refused. What
        a person has just done counts at once (the pre-dose checklist gates the dose before ingest folds it)."""
        query = (actions.select().where(actions.c.session_id == session_id, actions.c.kind == kind,
                                        actions.c.error.is_(None)).order_by(actions.c.id))
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def action(self, action_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(actions.select().where(actions.c.id == action_id)).mappings().first()
        return dict(row) if row else None

    # ---- testers' replays ----------------------------------------------------

    def create_replay(self, session_id: int, feed: str, speed: float | None, who: str) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(replays.insert().values(session_id=session_id, feed=feed, speed=speed,
                                                          state="running", who=who))
            return int(result.inserted_primary_key[0])

    def replays(self, states: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Replays onto this site's chairs, newest first: each site's ingest drives its own."""
        query = replays.select().where(replays.c.session_id.in_(self._site_ids())).order_by(replays.c.id.desc())
        if states:
            query = query.where(replays.c.state.in_(list(states)))
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def update_replay(self, replay_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(replays.update().where(replays.c.id == replay_id).values(**values))

    def abandon_replay(self, session_id: int, why: str, at: float | None = None) -> bool:
        """End a replay's session that no ingest will fold (its replay failed), its queued items marked with `why`
        and never folded: a failed replay leaves no open session. False when it was not open (nothing changed)."""
        at = time.time() if at is None else at
        with self.engine.begin() as conn:
            ended = conn.execute(sessions.update().where(sessions.c.id == session_id, sessions.c.ended_at.is_(None),
                                                         sessions.c.clock == "feed")
                                 .values(ended_at=at, rev=sessions.c.rev + 1)).rowcount
            if ended:
                conn.execute(actions.update().where(actions.c.session_id == session_id, actions.c.applied_at.is_(None))
                             .values(applied_at=at, error=why[:200]))
            return bool(ended)

    def _site_ids(self) -> sa.Select:
        return sa.select(sessions.c.id).where(sessions.c.site == self.site)

    # ---- refused device input -------------------------------------------------

    def keep_refused(self, source: str, raw: bytes, reason: str, at: float | None = None,
                     bounds: retention.Bounds = retention.Bounds()) -> int:
        """Keep a message or frame that could not be used, with why, within `bounds` (the oldest make room:
        retention.py); returns how many older frames were dropped for it."""
        with self.engine.begin() as conn:
            return retention.keep_refused(conn, bounds, source, raw, reason, time.time() if at is None else at,
                                          self.site)

    def refused(self, limit: int = 100) -> list[dict[str, Any]]:
        """The most recent refused messages, newest first."""
        query = refused_messages.select().order_by(refused_messages.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]


_LIMITS = {table.name: {column.name: column.type.length for column in table.columns
                         if isinstance(column.type, sa.String) and column.type.length}
           for table in (readings, events, alarms, actions)}


def message_key(message: str) -> str:
    """A sender's message id as stored: itself, or a digest of it when longer than the column (no two ids merge)."""
    limit = received_messages.c.message.type.length
    if len(message) <= limit:
        return message
    return "sha256:" + hashlib.sha256(message.encode()).hexdigest()


def _insert_new(conn: sa.Connection, table: sa.Table) -> Any:
    """INSERT that skips rows whose key is there already, on SQLite and PostgreSQL alike."""
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(conn.dialect.name)
    return insert(table).on_conflict_do_nothing() if insert else table.insert()


def _fit(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    """Clip text longer than its column, in place. PostgreSQL refuses it (SQLite keeps it whole), and one
    over-long device label or feed source would otherwise fail every retry of ingest's batch."""
    for name, limit in _LIMITS[table.name].items():
        value = row.get(name)
        if isinstance(value, str) and len(value) > limit:
            row[name] = value[:limit]
    return row


_INBOX_BLANK: dict[str, Any] = {"detail": "", "source": "", "offset_s": None, "sbp": None, "dbp": None,
                                "map": None, "hr": None, "spo2": None}


def _inbox_row(session_id: int, item: Reading | SessionEvent, who: str, at: float) -> dict[str, Any]:
    row = {**_INBOX_BLANK, "session_id": session_id, "who": item.who if isinstance(item, SessionEvent) and item.who
           else who, "at": at, "offset_s": item.offset_s, "source": item.source}
    if isinstance(item, Reading):
        row.update(kind="reading", sbp=item.sbp, dbp=item.dbp, map=item.map, hr=item.hr, spo2=item.spo2)
    else:
        row.update(kind=item.kind, detail=item.detail)
    return row


def _reading_row(session_id: int, seq: int, r: Reading) -> dict[str, Any]:
    return {"session_id": session_id, "seq": seq, "offset_s": r.offset_s, "source": r.source, "provenance": r.provenance,
            "device_time": r.device_time, "received_time": r.received_time, "sbp": r.sbp, "dbp": r.dbp,
            "map": r.map, "hr": r.hr, "spo2": r.spo2, "device_id": r.device_id, "artifact": r.artifact}


def _event_row(session_id: int, seq: int, e: SessionEvent) -> dict[str, Any]:
    return {"session_id": session_id, "seq": seq, "offset_s": e.offset_s, "kind": e.kind, "detail": e.detail,
            "source": e.source, "who": e.who, "device_time": e.device_time, "received_time": e.received_time,
            "device_id": e.device_id}


def _reading_from(row: Mapping[str, Any]) -> Reading:
    return Reading(source=row["source"], sbp=row["sbp"], dbp=row["dbp"], map=row["map"], hr=row["hr"],
                   spo2=row["spo2"], offset_s=row["offset_s"], device_time=row["device_time"],
                   received_time=row["received_time"], provenance=row["provenance"], device_id=row["device_id"],
                   artifact=bool(row["artifact"]))


def _event_from(row: Mapping[str, Any]) -> SessionEvent:
    return SessionEvent(kind=row["kind"], detail=row["detail"], source=row["source"], offset_s=row["offset_s"],
                        device_time=row["device_time"], received_time=row["received_time"], who=row["who"],
                        device_id=row["device_id"])

