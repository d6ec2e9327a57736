"""A live session with a severe BP, written through the real Ingest before a server or process starts."""
from __future__ import annotations

import time
from pathlib import Path

from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import Store
from dashboard.store.schema import ingest_heartbeat
from devices.readings import Reading, SessionEvent


def severe_bp_session(db: Path, chair: str = "Chair 3", elapsed_s: float = 1200, severe_at: float = 1100,
                      severe: tuple[float, float] = (185, 112), oximeter: bool = False) -> int:
    """Esketamine 84 mg, baseline 128/82 at 1 min, dose at 5 min, a severe BP at `severe_at`; the session is
    `elapsed_s` old, so timers up to now run once a server's ingest picks it up."""
    store = Store.open(db)
    sid = store.create_session(chair=chair, patient_label="Demo 03", protocol="esketamine-84",
                               started_at=time.time() - elapsed_s)
    ingest = Ingest(store, load_config())
    ingest.refresh()
    items = [SessionEvent("session_start", "esketamine-84", offset_s=0), Reading("nibp", sbp=128, dbp=82, hr=70, offset_s=60),
             SessionEvent("dose_start", "84 mg", offset_s=300),
             Reading("nibp", sbp=severe[0], dbp=severe[1], hr=88, offset_s=severe_at)]
    if oximeter:
        items += [Reading("oximeter", hr=80, spo2=97, offset_s=float(t)) for t in range(300, int(severe_at) + 90)]
    ingest.submit(chair, sorted(items, key=lambda i: i.offset_s or 0.0))
    ingest.step()
    with store.engine.begin() as conn:  # a builder, not a running ingest: `replay` must not wait for it to fold
        conn.execute(ingest_heartbeat.delete())
    store.close()
    return sid
