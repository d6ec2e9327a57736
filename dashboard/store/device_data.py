"""Device data outside any session: readings kept for a chair with no open session, for a device no chair is known
for, and demo/test data; the nurses' device associations; and per-sender traffic counts for the admin.

Nothing a device sends is refused for lack of a session (docs/placement.md). Ingest keeps such readings here, with the
chair when it is known and always with the device's identity, and keeps each device's latest values in
`device_status` for the board and the association page. When a session opens on a chair, its readings from the
pre-session window join the session (`join_waiting`): they are copied into the session's record at their own session
times (negative before the start) and marked with the session they joined. Demo/test readings never join one.

Ingest is the only writer of these rows (one per site); the web reads them and writes associations.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import sqlalchemy as sa

from devices.readings import Reading, SessionEvent

from .schema import events, metadata, readings, sessions
from . import chain
from .security import audit

UNPLACED = ""  # device_status.chair of a device no chair is known for

device_readings = sa.Table(  # readings and device events that belong to no session (yet), oldest first by id
    "device_readings", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("site", sa.String(40), nullable=False),
    sa.Column("chair", sa.String(40)),  # NULL: no chair known (unassociated device data)
    sa.Column("device_id", sa.String(80), nullable=False, server_default=""),  # what a nurse associates it by
    sa.Column("kind", sa.String(30), nullable=False),  # "reading", or the kind of a device event (nibp_failed...)
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Column("source", sa.String(40), nullable=False, server_default=""),
    sa.Column("device_time", sa.Float),
    sa.Column("received_time", sa.Float, nullable=False),  # epoch seconds: our clock, as for session readings
    sa.Column("sbp", sa.Float), sa.Column("dbp", sa.Float), sa.Column("map", sa.Float),
    sa.Column("hr", sa.Float), sa.Column("spo2", sa.Float),
    sa.Column("demo", sa.Boolean, nullable=False, server_default=sa.false()),  # demo/test data: never patient data
    sa.Column("session_id", sa.ForeignKey("sessions.id")),  # the session it joined; NULL while it waits
    sa.Index("ix_device_readings_chair", "site", "chair", "received_time"),
    sa.Index("ix_device_readings_device", "site", "device_id", "received_time"),
)

device_status = sa.Table(  # each device's latest values kept here: the board's no-session tiles, the association page
    "device_status", metadata,
    sa.Column("site", sa.String(40), primary_key=True),
    sa.Column("chair", sa.String(40), primary_key=True),  # UNPLACED ("") when no chair is known
    sa.Column("device_id", sa.String(80), primary_key=True),  # the device's identity, else its source label
    sa.Column("demo", sa.Boolean, nullable=False),  # its latest reading was demo/test data
    sa.Column("latest", sa.JSON, nullable=False),  # {"bp": {sbp, dbp, map, at}, "hr": {value, at, source}, "spo2": ..}
    sa.Column("first_at", sa.Float, nullable=False),
    sa.Column("last_at", sa.Float, nullable=False),
    sa.Column("readings", sa.Integer, nullable=False),
)

device_associations = sa.Table(  # a nurse's "this device is at that chair", until ended (audited both ways)
    "device_associations", metadata,
    sa.Column("site", sa.String(40), primary_key=True),
    sa.Column("device_id", sa.String(80), primary_key=True),
    sa.Column("chair", sa.String(40), nullable=False),
    sa.Column("who", sa.String(80), nullable=False),
    sa.Column("at", sa.Float, nullable=False),  # epoch seconds
)

sender_counts = sa.Table(  # running counts per sender (HL7: whole MSH-3 with its EUI-64) and peer address
    "sender_counts", metadata,
    sa.Column("site", sa.String(40), primary_key=True),
    sa.Column("sender", sa.String(250), primary_key=True),  # "" when a frame could not be read that far
    sa.Column("peer", sa.String(64), primary_key=True),
    sa.Column("counter", sa.String(120), primary_key=True),  # messages, readings, refused, "discarded:<reason>"
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("last_at", sa.Float, nullable=False),  # epoch seconds this counter last moved
)


@dataclass
class DeviceWrites:
    """What one ingest commit writes here, in the batch's transaction."""

    rows: list[dict[str, Any]] = field(default_factory=list)  # new device_readings rows
    statuses: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (chair, device) -> status row
    counts: dict[tuple[str, str, str], tuple[int, float]] = field(default_factory=dict)  # (sender, peer, counter)
    # -> (add, last_at)

    def __bool__(self) -> bool:
        return bool(self.rows or self.statuses or self.counts)


def write(conn: sa.Connection, site: str, writes: DeviceWrites) -> None:
    """Insert the rows, replace the statuses, add to the counts (called inside ingest's batch transaction)."""
    if writes.rows:
        conn.execute(device_readings.insert(), [{**row, "site": site} for row in writes.rows])
    for (chair, device), status in writes.statuses.items():
        key = (device_status.c.site == site) & (device_status.c.chair == chair) & (device_status.c.device_id == device)
        if not conn.execute(device_status.update().where(key).values(**status)).rowcount:
            conn.execute(device_status.insert().values(site=site, chair=chair, device_id=device, **status))
    if writes.counts:
        rows = [{"site": site, "sender": sender, "peer": peer, "counter": counter, "count": add, "last_at": at}
                for (sender, peer, counter), (add, at) in writes.counts.items()]
        conn.execute(_add_counts(conn), rows)


def _add_counts(conn: sa.Connection) -> Any:
    """INSERT ... ON CONFLICT add to the count, on SQLite and PostgreSQL alike."""
    from sqlalchemy.dialects import postgresql, sqlite

    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(sender_counts)
    return insert.on_conflict_do_update(
        index_elements=["site", "sender", "peer", "counter"],
        set_={"count": sender_counts.c.count + insert.excluded.count,
              "last_at": sa.case((insert.excluded.last_at > sender_counts.c.last_at, insert.excluded.last_at),
                                 else_=sender_counts.c.last_at)})


# ---- joining a session --------------------------------------------------------------------------------------


def join_waiting(engine: sa.Engine, session_id: int, since: float) -> int:
    """Copy the session's chair's waiting readings and device events received since `since` (epoch seconds) into
    the session's record, at their own session times, and mark them joined; all in one transaction. Demo/test data
    never joins. Returns how many joined."""
    with engine.begin() as conn:
        row = conn.execute(sa.select(sessions.c.chair, sessions.c.site, sessions.c.started_at, sessions.c.speed)
                           .where(sessions.c.id == session_id)).first()
        if row is None:
            return 0
        waiting = conn.execute(
            device_readings.select().where(device_readings.c.site == row.site, device_readings.c.chair == row.chair,
                                           device_readings.c.session_id.is_(None), device_readings.c.demo.is_(False),
                                           device_readings.c.received_time >= since)
            .order_by(device_readings.c.received_time, device_readings.c.id)).mappings().all()
        if not waiting:
            return 0
        seq = _max_seq(conn, session_id)
        new_readings, new_events = [], []
        for number, kept in enumerate(waiting, start=seq + 1):
            common = {"session_id": session_id, "seq": number, "source": kept["source"], "device_id": kept["device_id"],
                      "offset_s": (kept["received_time"] - row.started_at) * row.speed,
                      "device_time": kept["device_time"], "received_time": kept["received_time"]}
            if kept["kind"] == "reading":
                new_readings.append({**common, "provenance": "device", **{k: kept[k] for k in VITALS}})
            else:
                new_events.append({**common, "kind": kept["kind"], "detail": kept["detail"], "who": ""})
        if new_readings:
            conn.execute(readings.insert(), new_readings)
        if new_events:
            conn.execute(events.insert(), new_events)
        conn.execute(device_readings.update().where(device_readings.c.id.in_([kept["id"] for kept in waiting]))
                     .values(session_id=session_id))
        conn.execute(sessions.update().where(sessions.c.id == session_id).values(rev=sessions.c.rev + 1))
        return len(waiting)


VITALS = ("sbp", "dbp", "map", "hr", "spo2")


def item_from(row: Mapping[str, Any]) -> Reading | SessionEvent:
    """A kept row as the reading or device event it was."""
    common = {"source": row["source"], "device_time": row["device_time"], "received_time": row["received_time"],
              "device_id": row["device_id"]}
    if row["kind"] == "reading":
        return Reading(**common, **{k: row.get(k) for k in VITALS})
    return SessionEvent(row["kind"], detail=row.get("detail", ""), **common)


def _max_seq(conn: sa.Connection, session_id: int) -> int:
    top_r = conn.scalar(sa.select(sa.func.max(readings.c.seq)).where(readings.c.session_id == session_id))
    top_e = conn.scalar(sa.select(sa.func.max(events.c.seq)).where(events.c.session_id == session_id))
    return max(int(top_r or 0), int(top_e or 0))


def place_device(engine: sa.Engine, site: str, device: str, chair: str, since: float) -> int:
    """Give a newly associated device's unassociated readings received since `since` its chair; returns how many."""
    with engine.begin() as conn:
        return conn.execute(device_readings.update().where(
            device_readings.c.site == site, device_readings.c.device_id == device, device_readings.c.chair.is_(None),
            device_readings.c.session_id.is_(None), device_readings.c.received_time >= since).values(chair=chair)
        ).rowcount


# ---- associations -------------------------------------------------------------------------------------------


class AssociationError(ValueError):
    """An association that cannot be made; the message says why, for the nurse."""


def associations(engine: sa.Engine, site: str) -> dict[str, dict[str, Any]]:
    """This site's device associations: device id -> {chair, who, at}."""
    query = device_associations.select().where(device_associations.c.site == site)
    with engine.connect() as conn:
        return {row["device_id"]: {"chair": row["chair"], "who": row["who"], "at": row["at"]}
                for row in conn.execute(query).mappings()}


def associate(engine: sa.Engine, site: str, device: str, chair: str, who: str, at: float, role: str = "",
              remote: str = "") -> None:
    """Associate `device` with `chair` (replacing an earlier association), and audit it, in one transaction."""
    device, chair = device.strip(), chair.strip()
    if not device:
        raise AssociationError("Choose a device.")
    if not chair or len(chair) > device_associations.c.chair.type.length:
        raise AssociationError("Enter the chair (up to 40 characters).")
    if not who:
        raise AssociationError("Sign in first.")
    key = (device_associations.c.site == site) & (device_associations.c.device_id == device)
    with engine.begin() as conn:
        before = conn.execute(sa.select(device_associations.c.chair).where(key)).scalar()
        if before == chair:
            raise AssociationError(f"{device} is already associated with {chair}.")
        conn.execute(device_associations.delete().where(key))
        conn.execute(device_associations.insert().values(site=site, device_id=device, chair=chair, who=who, at=at))
        detail = f"{device} -> {chair}" + (f" (was {before})" if before else "")
        chain.append(conn, audit, [dict(at=at, who=who, role=role, action="device_associated", detail=detail,
                                        remote=remote[:64])])


def end_association(engine: sa.Engine, site: str, device: str, who: str, at: float, role: str = "",
                    remote: str = "") -> str:
    """End the device's association (its new readings are unassociated again), audited; returns the chair it had."""
    key = (device_associations.c.site == site) & (device_associations.c.device_id == device)
    with engine.begin() as conn:
        chair = conn.execute(sa.select(device_associations.c.chair).where(key)).scalar()
        if chair is None:
            raise AssociationError(f"{device} is not associated with a chair.")
        conn.execute(device_associations.delete().where(key))
        chain.append(conn, audit, [dict(at=at, who=who, role=role, action="device_dissociated",
                                        detail=f"{device} (was {chair})", remote=remote[:64])])
        return str(chair)


# ---- reads for the pages --------------------------------------------------------------------------------------


def statuses(engine: sa.Engine, site: str, since: float) -> list[dict[str, Any]]:
    """Device status rows of this site heard from since `since`, newest first."""
    query = (device_status.select().where(device_status.c.site == site, device_status.c.last_at >= since)
             .order_by(device_status.c.last_at.desc()))
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def all_statuses(engine: sa.Engine, site: str) -> list[dict[str, Any]]:
    """Every device status row of this site (ingest's cache at start)."""
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(device_status.select().where(device_status.c.site == site))
                .mappings()]


def waiting_rows(engine: sa.Engine, site: str, chair: str | None = None, device: str | None = None,
                 limit: int = 1000) -> list[dict[str, Any]]:
    """Kept rows of a chair (None: any) or a device, newest first."""
    query = device_readings.select().where(device_readings.c.site == site)
    if chair is not None:
        query = query.where(device_readings.c.chair == chair)
    if device is not None:
        query = query.where(device_readings.c.device_id == device)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query.order_by(device_readings.c.id.desc()).limit(limit))
                .mappings()]


@dataclass(frozen=True, slots=True)
class SenderTraffic:
    """One sender's counts, as the admin page shows them."""

    sender: str
    peer: str
    messages: int
    readings: int
    refused: int
    discarded: Mapping[str, int]  # reason -> values
    last_seen: float
    unknown: Mapping[str, int] = field(default_factory=dict)  # OBX-3 code^text we do not read -> times sent
    alarms: int = 0  # the monitor's own alarms (ORU^R40) kept


DISCARDED, UNKNOWN = "discarded:", "unknown:"
STORAGE_SENDER = "(storage)"  # retention.py counts its pruning under this sender: not a device


def sender_traffic(engine: sa.Engine, site: str) -> list[SenderTraffic]:
    """Every sender's counts on this site, the most recently heard first."""
    query = sender_counts.select().where(sender_counts.c.site == site, sender_counts.c.sender != STORAGE_SENDER)
    by_sender: dict[tuple[str, str], dict[str, Any]] = {}
    with engine.connect() as conn:
        for row in conn.execute(query).mappings():
            entry = by_sender.setdefault((row["sender"], row["peer"]), {"discarded": {}, "unknown": {},
                                                                        "last_seen": 0.0})
            if row["counter"].startswith(DISCARDED):
                entry["discarded"][row["counter"].removeprefix(DISCARDED)] = row["count"]
            elif row["counter"].startswith(UNKNOWN):
                entry["unknown"][row["counter"].removeprefix(UNKNOWN)] = row["count"]
            else:
                entry[row["counter"]] = row["count"]
            entry["last_seen"] = max(entry["last_seen"], row["last_at"])
    out = [SenderTraffic(sender, peer, entry.get("messages", 0), entry.get("readings", 0), entry.get("refused", 0),
                         dict(sorted(entry["discarded"].items())), entry["last_seen"],
                         dict(sorted(entry["unknown"].items(), key=lambda item: -item[1])), entry.get("alarms", 0))
           for (sender, peer), entry in by_sender.items()]
    return sorted(out, key=lambda traffic: -traffic.last_seen)


# ---- real data on a chair (test data stays off such a chair) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class RealData:
    """The latest real (not demo/test) device data a chair received: which device sent what, when."""

    chair: str
    device_id: str
    source: str
    kind: str  # "reading", or a device event's kind
    received_time: float  # epoch seconds
    sbp: float | None = None
    dbp: float | None = None
    hr: float | None = None
    spo2: float | None = None


def latest_real_data(engine: sa.Engine, site: str, chair: str, since: float) -> RealData | None:
    """The newest real device data received on `chair` since `since` (epoch seconds): kept for the chair with no
    session, or stored in one of its real sessions. Demo/test data, replays and simulated sessions do not count."""
    kept = (sa.select(device_readings.c.device_id, device_readings.c.source, device_readings.c.kind,
                      device_readings.c.received_time, device_readings.c.sbp, device_readings.c.dbp,
                      device_readings.c.hr, device_readings.c.spo2)
            .where(device_readings.c.site == site, device_readings.c.chair == chair,
                   device_readings.c.demo.is_(False), device_readings.c.received_time >= since)
            .order_by(device_readings.c.received_time.desc()).limit(1))
    in_session = (sa.select(readings.c.device_id, readings.c.source, sa.literal("reading").label("kind"),
                            readings.c.received_time, readings.c.sbp, readings.c.dbp, readings.c.hr, readings.c.spo2)
                  .join(sessions, sessions.c.id == readings.c.session_id)
                  .where(sessions.c.site == site, sessions.c.chair == chair, sessions.c.scenario.is_(None),
                         sessions.c.clock != "feed", readings.c.provenance == "device",
                         sa.or_(sessions.c.ended_at.is_(None), sessions.c.ended_at >= since),  # a chair's years of
                         readings.c.received_time >= since)  # sessions: only those open in the window are read
                  .order_by(readings.c.received_time.desc()).limit(1))
    with engine.connect() as conn:
        found = [row for query in (kept, in_session) if (row := conn.execute(query).mappings().first()) is not None]
    if not found:
        return None
    row = max(found, key=lambda r: r["received_time"])
    return RealData(chair, row["device_id"] or "", row["source"] or "", row["kind"], float(row["received_time"]),
                    row["sbp"], row["dbp"], row["hr"], row["spo2"])
