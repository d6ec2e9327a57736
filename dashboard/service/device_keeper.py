"""What ingest keeps outside a session: readings for a chair with no open session, for a device no chair is known
for, and demo/test data (never patient data); the nurses' device associations it places readings by; and the
per-sender counts an admin reads. The rows go into ingest's batch (store/device_data.py), so they are committed, and
the sender's ticket resolved, like any other reading.
"""
from __future__ import annotations

import threading
from typing import Any, Mapping

from devices.readings import Item, Reading, SessionEvent

from ..engine import rate_source
from ..store import Store, device_data
from ..store.device_data import UNPLACED, DeviceWrites

CONNECTION_EVENTS = frozenset({"device_disconnect", "device_reconnect"})  # our adapters' view of a link, not data
MAX_SENDER = device_data.sender_counts.c.sender.type.length
MAX_COUNTER = device_data.sender_counts.c.counter.type.length


def is_demo(item: Item) -> bool:
    """Demo or test data (HL7 OBX-8 DEMO/TEST, MSH-11 T/D): kept apart, never a patient's reading."""
    return isinstance(item, Reading) and item.provenance == "demo"


def device_key(item: Item) -> str:
    """The identity a kept item is filed under: its device id (EUI-64, serial number), else its source label."""
    return item.device_id or item.source


class DeviceKeeper:
    """Ingest's side of store/device_data: associations, kept rows and device statuses, sender counts."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.associations: dict[str, dict[str, Any]] = {}  # device id -> {chair, who, at}
        self._statuses: dict[tuple[str, str], dict[str, Any]] | None = None  # (chair, device) -> status row
        self._counts: list[tuple[str, str, str, int, float]] = []  # from adapter threads, taken at each step
        self._lock = threading.Lock()

    def chair_of(self, device: str) -> str | None:
        """The chair a nurse associated the device with, or None."""
        association = self.associations.get(device)
        return None if association is None else association["chair"]

    def load_associations(self) -> dict[str, str]:
        """Read the associations again; returns those new or changed since the last read (device -> chair)."""
        current = device_data.associations(self.store.engine, self.store.site)
        changed = {device: a["chair"] for device, a in current.items()
                   if self.associations.get(device, {}).get("chair") != a["chair"]}
        self.associations = current
        return changed

    # ---- keeping items --------------------------------------------------------------------------------------

    def keep(self, writes: DeviceWrites, chair: str | None, item: Item, received: float, device: str = "",
             demo: bool = False) -> None:
        """Add the item to the commit's rows, filed under its chair (None: not known) and its device (`device`, the
        identity a chair-less submission is associated by; else the item's own); `demo`: test data whatever the
        item says (the simulated clinic's)."""
        device = device or device_key(item)
        demo = demo or is_demo(item)
        row: dict[str, Any] = {"chair": chair, "device_id": device, "source": item.source, "kind": "reading",
                               "detail": "", "device_time": item.device_time, "received_time": received,
                               "demo": demo, "sbp": None, "dbp": None, "map": None, "hr": None, "spo2": None}
        if isinstance(item, Reading):
            row.update(sbp=item.sbp, dbp=item.dbp, map=item.map, hr=item.hr, spo2=item.spo2)
        else:
            row.update(kind=item.kind, detail=item.detail)
        writes.rows.append(_fit(row))
        self._update_status(writes, (row["chair"] or UNPLACED, row["device_id"]), item, received, demo)

    def _update_status(self, writes: DeviceWrites, key: tuple[str, str], item: Item, received: float,
                       demo: bool) -> None:
        statuses = self._loaded()
        before = statuses.get(key)
        latest = dict(before["latest"]) if before else {}
        if isinstance(item, Reading):
            if item.sbp is not None or item.dbp is not None:
                latest["bp"] = {"sbp": item.sbp, "dbp": item.dbp, "map": item.map, "at": received}
            if item.hr is not None:
                latest["hr"] = {"value": item.hr, "at": received, "source": rate_source(item)}
            if item.spo2 is not None:
                latest["spo2"] = {"value": item.spo2, "at": received}
        else:
            latest["event"] = {"kind": item.kind, "detail": item.detail, "at": received}
        status = {"demo": demo, "latest": latest, "first_at": before["first_at"] if before else received,
                  "last_at": max(received, before["last_at"]) if before else received,
                  "readings": (before["readings"] if before else 0) + isinstance(item, Reading)}
        statuses[key] = writes.statuses[key] = status

    def place(self, writes: DeviceWrites, device: str, chair: str) -> None:
        """A device was just associated with `chair`: its latest values show on that chair from now on."""
        before = self._loaded().get((UNPLACED, device))
        if before is not None and (chair, device) not in self._loaded():
            self._loaded()[(chair, device)] = writes.statuses[(chair, device)] = dict(before)

    def load(self) -> None:
        """Read the device statuses once (ingest calls it before taking anything from its queue)."""
        self._loaded()

    def _loaded(self) -> dict[tuple[str, str], dict[str, Any]]:
        if self._statuses is None:
            self._statuses = {(row["chair"], row["device_id"]): {k: row[k] for k in (
                "demo", "latest", "first_at", "last_at", "readings")}
                for row in device_data.all_statuses(self.store.engine, self.store.site)}
        return self._statuses

    # ---- sender counts ----------------------------------------------------------------------------------------

    def tally(self, sender: str, peer: str, counts: Mapping[str, int], at: float) -> None:
        """Add to a sender's counts (any thread); written with the next commit."""
        entries = [(sender[:MAX_SENDER], peer[:64], counter[:MAX_COUNTER], int(n), at)
                   for counter, n in counts.items() if n]
        with self._lock:
            self._counts.extend(entries)

    def take_counts(self, writes: DeviceWrites) -> None:
        """Move the counts tallied since the last step into the commit."""
        with self._lock:
            entries, self._counts = self._counts, []
        for sender, peer, counter, add, at in entries:
            before = writes.counts.get((sender, peer, counter), (0, at))
            writes.counts[(sender, peer, counter)] = (before[0] + add, max(before[1], at))


def _fit(row: dict[str, Any]) -> dict[str, Any]:
    """Clip text to its column (PostgreSQL refuses longer text, and one long label would fail every retry)."""
    for name in ("chair", "device_id", "kind", "source"):
        value = row.get(name)
        limit = device_data.device_readings.c[name].type.length
        if isinstance(value, str) and len(value) > limit:
            row[name] = value[:limit]
    return row


def is_connection_event(item: Item) -> bool:
    return isinstance(item, SessionEvent) and item.kind in CONNECTION_EVENTS
