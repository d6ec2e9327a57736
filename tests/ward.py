"""A ward of real (wall-clocked) sessions in every alarm state, written through the real Ingest before a server
starts: what the board's browser tests measure and the screenshots in docs/screens/ show.

Each chair's state comes from CHAIR_STATES in turn: calm, an unacknowledged severe BP (high), the same
acknowledged by a nurse, a severe BP whose condition cleared (latched), a tachycardia (medium, on HR), a low SpO2
(high, on SpO2) and a severe BP with the chair's audio paused.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from dashboard.engine import load_config
from dashboard.service.ingest import Ingest
from dashboard.store import Store
from devices.readings import Item, Reading, SessionEvent

CHAIR_STATES = ("calm", "high", "acked", "latched", "hr", "spo2", "paused", "calm")
ELAPSED_S = 46 * 60  # each session 46 minutes old: in observation, inside the 40-min BP check window
DOSE_AT = 300.0


def _items(state: str, now_s: float) -> list[Item]:
    """The chair's readings and events up to `now_s` (seconds into its session)."""
    items: list[Item] = [SessionEvent("session_start", "esketamine-84", offset_s=0),
                         Reading("nibp", sbp=126, dbp=80, hr=72, offset_s=60),
                         SessionEvent("dose_start", "84 mg", offset_s=DOSE_AT)]
    hr, spo2 = 76.0, 97.0
    severe_at = now_s - 200
    if state in ("high", "acked", "paused"):
        items.append(Reading("nibp", sbp=186, dbp=114, hr=90, offset_s=severe_at))
        items.append(Reading("nibp", sbp=189, dbp=116, hr=92, offset_s=now_s - 30))  # the current value
    if state == "latched":
        items.append(Reading("nibp", sbp=186, dbp=114, hr=90, offset_s=severe_at))
        items.append(Reading("nibp", sbp=148, dbp=92, hr=84, offset_s=now_s - 60))
    if state == "acked":
        items.append(SessionEvent("acknowledge", "bp.severe", who="nurse1", offset_s=now_s - 15))  # re-alarms in 2 min
    if state == "paused":  # a long pause asked for: the engine allows the clinic's maximum (2 min)
        items.append(SessionEvent("audio_pause", "120", who="nurse1", offset_s=now_s - 5))
    if state == "hr":
        hr = 126.0
    if state == "spo2":
        spo2 = 86.0
    if state in ("calm", "hr", "spo2"):
        items.append(Reading("nibp", sbp=131, dbp=84, hr=74, offset_s=now_s - 120))
    start = int(now_s) - 90
    items += [Reading("oximeter", hr=hr + (t % 3), spo2=spo2, offset_s=float(t)) for t in range(start, int(now_s))]
    return sorted(items, key=lambda item: item.offset_s or 0.0)


def make_ward(db: Path, chairs: int, states: tuple[str, ...] = CHAIR_STATES, elapsed_s: float = ELAPSED_S,
              replays: int = 0) -> dict[str, int]:
    """`chairs` sessions named 'Chair 01'.. in the states in turn, plus `replays` feed-clocked sessions (a tester's
    replay, each with a severe BP); {chair: session id}."""
    store = Store.open(db)
    now = time.time()
    sids = {}
    for n in range(chairs):
        chair = f"Chair {n + 1:02d}"
        sids[chair] = store.create_session(chair=chair, patient_label=f"P-{n + 1:02d}", protocol="esketamine-84",
                                           started_at=now - elapsed_s, dose="84 mg")
    for n in range(replays):
        chair = f"Replay {n + 1}"
        sids[chair] = store.create_session(chair=chair, patient_label="Replay esketamine-severe-peak",
                                           protocol="esketamine-84", started_at=now, clock="feed")
    ingest = Ingest(store, load_config())
    ingest.refresh()
    for n, chair in enumerate(sorted(sids)):
        if chair.startswith("Replay"):
            store.submit_items(sids[chair], _items("high", elapsed_s), "replay", tick=elapsed_s)
        else:
            ingest.submit(chair, _items(states[n % len(states)], elapsed_s - (time.time() - now)))
    ingest.flush()
    while store.pending_actions():
        ingest.step()
    store.close()
    return sids


def keep_live(db: Path, sids: dict[str, int], stop: threading.Event, every_s: float = 1.0) -> None:
    """Each real chair's oximeter keeps reporting (one reading a second through the store's inbox, as the
    server's ingest folds any queued item), so no 'no data' alarm joins the ward's own while a test looks."""
    store = Store.open(db)
    try:
        while not stop.wait(every_s):
            for chair, sid in sids.items():
                if not chair.startswith("Replay"):
                    state = CHAIR_STATES[(int(chair.rsplit(" ", 1)[1]) - 1) % len(CHAIR_STATES)]
                    hr, spo2 = {"hr": (126.0, 97.0), "spo2": (76.0, 86.0)}.get(state, (76.0, 97.0))
                    store.submit_items(sid, [Reading("oximeter", hr=hr, spo2=spo2)], "oximeter")
    finally:
        store.close()
