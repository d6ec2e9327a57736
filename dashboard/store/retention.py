"""Bounded storage for what devices send that is not a session's record (docs/devices.md, "Bounded storage").

Refused frames (a misrouted ADT feed, a monitor's garbage, an oversize message) are kept for review within a byte
budget (`[hl7] refused_keep_mb`) and an age (`refused_keep_days`); readings kept outside sessions (`device_readings`)
for an age (`device_keep_days`). The oldest make room, in the same transaction as the newcomer: a full table never
refuses what comes next, and a valid ORU is never answered AE because the refused frames grew. What was pruned is
counted (sender_counts, sender `STORAGE`) and shown on /admin/devices.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from .device_data import STORAGE_SENDER, device_readings, sender_counts
from .schema import refused_messages

STORAGE = STORAGE_SENDER  # the sender_counts row that counts pruning (not a device)
PRUNED_REFUSED, PRUNED_DEVICE = "pruned:refused", "pruned:device_readings"


@dataclass(frozen=True, slots=True)
class Bounds:
    refused_bytes: int = 50 << 20  # [hl7] refused_keep_mb
    refused_s: float = 30 * 86400.0  # [hl7] refused_keep_days
    device_s: float = 30 * 86400.0  # [hl7] device_keep_days


@dataclass(frozen=True, slots=True)
class StorageUse:
    """What the bounded tables hold, for the admin."""

    refused_frames: int
    refused_bytes: int
    refused_pruned: int
    device_rows: int
    device_pruned: int
    oldest_device_row: float | None


def keep_refused(conn: sa.Connection, bounds: Bounds, source: str, raw: bytes, reason: str, at: float,
                 site: str) -> int:
    """Insert a refused frame (cut to the byte budget if it alone exceeds it), then drop the oldest until the table
    is within its age and byte budget again. Returns how many older frames were dropped."""
    if len(raw) > bounds.refused_bytes:
        reason = f"{reason} (only its first {bounds.refused_bytes} bytes kept: refused_keep_mb)"
        raw = raw[:bounds.refused_bytes]
    conn.execute(refused_messages.insert().values(received_at=at, source=source, reason=reason, raw=raw))
    dropped = conn.execute(refused_messages.delete().where(refused_messages.c.received_at < at - bounds.refused_s)
                           ).rowcount or 0
    dropped += _within_bytes(conn, bounds.refused_bytes)
    if dropped:
        _count(conn, site, PRUNED_REFUSED, dropped, at)
    return dropped


def _within_bytes(conn: sa.Connection, budget: int) -> int:
    """Drop the oldest frames until the kept bytes fit the budget (the newest always stays)."""
    size = sa.func.length(refused_messages.c.raw)
    total = int(conn.scalar(sa.select(sa.func.coalesce(sa.func.sum(size), 0))) or 0)
    if total <= budget:
        return 0
    doomed: list[int] = []
    rows = conn.execute(sa.select(refused_messages.c.id, size).order_by(refused_messages.c.id)).all()
    for row_id, length in rows[:-1]:
        if total <= budget:
            break
        doomed.append(row_id)
        total -= int(length or 0)
    if doomed:
        conn.execute(refused_messages.delete().where(refused_messages.c.id.in_(doomed)))
    return len(doomed)


def prune_device_readings(engine: sa.Engine, site: str, bounds: Bounds, now: float) -> int:
    """Drop this site's readings kept outside sessions older than `device_keep_days` (a session that took them has
    its own copy in its record); returns how many."""
    with engine.begin() as conn:
        dropped = conn.execute(device_readings.delete().where(
            device_readings.c.site == site, device_readings.c.received_time < now - bounds.device_s)).rowcount or 0
        if dropped:
            _count(conn, site, PRUNED_DEVICE, dropped, now)
        return dropped


def storage_use(engine: sa.Engine, site: str) -> StorageUse:
    size = sa.func.coalesce(sa.func.sum(sa.func.length(refused_messages.c.raw)), 0)
    with engine.connect() as conn:
        frames, kept = conn.execute(sa.select(sa.func.count(), size).select_from(refused_messages)).one()
        rows, oldest = conn.execute(sa.select(sa.func.count(), sa.func.min(device_readings.c.received_time))
                                    .where(device_readings.c.site == site)).one()
        pruned = dict(conn.execute(sa.select(sender_counts.c.counter, sender_counts.c.count).where(
            sender_counts.c.site == site, sender_counts.c.sender == STORAGE)).all())
    return StorageUse(int(frames), int(kept or 0), int(pruned.get(PRUNED_REFUSED, 0)), int(rows),
                      int(pruned.get(PRUNED_DEVICE, 0)), oldest)


def _count(conn: sa.Connection, site: str, counter: str, add: int, at: float) -> None:
    key = ((sender_counts.c.site == site) & (sender_counts.c.sender == STORAGE) & (sender_counts.c.peer == "")
           & (sender_counts.c.counter == counter))
    values: dict[str, Any] = {"count": sender_counts.c.count + add, "last_at": at}
    if not conn.execute(sender_counts.update().where(key).values(**values)).rowcount:
        conn.execute(sender_counts.insert().values(site=site, sender=STORAGE, peer="", counter=counter, count=add,
                                                   last_at=at))
