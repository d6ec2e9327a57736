"""Sessions for the review and export tests, written through the real Ingest as the ingest process would."""
from __future__ import annotations

import heapq
from collections import Counter
import time
from pathlib import Path

from devices.feed import read_actions
from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import Store
from devices.feed import read_feed

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
SEVERE_FEED = SAMPLES / "feeds" / "esketamine-severe-peak.csv"
SEVERE_ACTIONS = SAMPLES / "actions" / "esketamine-severe-peak.csv"


def recorded_session(store: Store, feed: Path = SEVERE_FEED, actions: Path | None = SEVERE_ACTIONS,
                     chair: str = "Chair 3", patient: str = "Demo 03", started: float | None = None,
                     dose: str = "84 mg", items: list | None = None, **record) -> int:
    """The feed (and actions) folded by a real Ingest into a session that started long enough ago to be over.
    `items`: these instead of the feed's; `record`: the start form's answers (Store.create_session)."""
    items = read_feed(feed).items if items is None else items
    if actions is not None:
        items = list(heapq.merge(items, read_actions(actions)[0], key=lambda i: i.offset_s or 0.0))
    protocol = read_feed(feed).protocol or "esketamine-84"
    last = max(i.offset_s or 0.0 for i in items)
    started = time.time() - last - 600 if started is None else started
    sid = store.create_session(chair=chair, patient_label=patient, protocol=protocol, started_at=started, dose=dose,
                               **record)
    ingest = Ingest(store, load_config())
    ingest.refresh()
    ingest.submit(chair, items)
    ingest.step()
    return sid


def induction_series(store: Store, n: int, patient: str = "P-40", **record) -> list[int]:
    """n finished IV induction infusions of one patient, three days apart and the last three days ago (the
    sample `iv-induction-<i>` scenarios); `record`: start answers for the last of them."""
    now = time.time()
    return [recorded_session(store, feed=SAMPLES / "scenarios" / f"iv-induction-{i}.csv", actions=None,
                             patient=patient, chair=f"Chair {i}", started=now - (n + 1 - i) * 3 * 86400.0,
                             dose="0.5 mg/kg", **(record if i == n else {})) for i in range(1, n + 1)]


PROTOCOLS = ("iv-ketamine", "esketamine-56", "esketamine-84")
DAY = 86400.0


def many_sessions(store: Store, n: int, start: float = 1.7e9) -> list[dict]:
    """n sessions written straight into the tables (one a day-fraction apart), a deterministic mix of chairs,
    protocols, patients, open/finished and alarms; returns the rows as written, with an `alarms` count."""
    from dashboard.store.schema import alarms, sessions

    rows, alarm_rows = [], []
    for i in range(1, n + 1):
        began = start + i * 3600.0
        peak = 120 + (i * 37) % 80
        row = {"id": i, "chair": f"Chair {i % 24 + 1}", "patient_label": f"P-{i % (n // 8 or 1):05d}",
               "protocol": PROTOCOLS[i % 3], "dose": "", "started_at": began,
               "ended_at": None if i % 50 == 0 else began + 9000, "phase": "observation" if i % 50 == 0 else "discharged",
               "rev": 1, "speed": 1.0, "clock": "wall",
               "status": {"peak": {"sbp": float(peak), "dbp": float(peak // 2 + 20), "offset_s": 2400.0}}}
        count = (i % 7) if i % 3 == 0 else 0
        for k in range(count):
            alarm_rows.append({"session_id": i, "offset_s": 1500.0 + 60 * k, "code": "bp.high", "source": "",
                               "priority": "medium", "state": "raised", "value": "", "message": ""})
            alarm_rows.append({"session_id": i, "offset_s": 1530.0 + 60 * k, "code": "bp.high", "source": "",
                               "priority": "medium", "state": "cleared", "value": "", "message": ""})
        rows.append(row)
    with store.engine.begin() as conn:
        conn.execute(sessions.insert(), rows)
        if alarm_rows:
            conn.execute(alarms.insert(), alarm_rows)
    raised = Counter(a["session_id"] for a in alarm_rows if a["state"] == "raised")
    for row in rows:
        row["alarms"] = raised.get(row["id"], 0)
    return rows
