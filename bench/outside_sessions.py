"""Readings outside a session (docs/placement.md): what keeping them costs ingest, a session's opening, and the board.

1. Ingest rate, the same readings (24 chairs, 1 Hz oximeter and a BP every 5 min) submitted 1,000 per step: into 24
   open sessions (the engine folds each), and for 24 chairs with no session (kept in `device_readings`, each device's
   latest values in `device_status`). Target: >= 5,000 readings/s either way (the ingest target of bench/RESULTS.md).
2. A session opening on a chair that has kept 30 min of readings (the pre-session window: 1,800 oximeter samples and 6
   BPs): the refresh that joins them to the session and folds them, its time.
3. The board's "chairs without a session" part with 24 such chairs: server time of one poll's queries and tile values
   (`waiting.waiting_values`; the markup is built only when they changed), p50/p95 over 300 polls. The live board's
   target is p95 <= 25 ms (docs/placement.md).

    python bench/outside_sessions.py [--minutes 10] [--database-url URL]
"""
from __future__ import annotations

import argparse
import time
from typing import Any

import benchlib as bl

CHAIRS = 24


def readings(minutes: float, start: float) -> list[tuple[str, Any]]:
    """(chair, reading) in arrival order: each chair's 1 Hz oximeter and a BP every 5 min."""
    from devices.readings import Reading

    out = []
    for second in range(int(minutes * 60)):
        for chair in range(CHAIRS):
            at = start + second + chair / CHAIRS
            out.append((f"Chair {chair + 1}", Reading("oximeter", hr=70 + second % 7, spo2=97, received_time=at,
                                                       device_id=f"OX-{chair + 1}")))
            if second % 300 == 0:
                out.append((f"Chair {chair + 1}", Reading("nibp", sbp=124, dbp=80, hr=72, received_time=at,
                                                           device_id=f"NIBP-{chair + 1}")))
    return out


def ingest_rate(dbs: bl.Databases, config: Any, minutes: float, sessions: bool) -> dict[str, Any]:
    from dashboard.service.ingest import Ingest

    store = dbs.fresh("sessions" if sessions else "outside")
    start = float(int(time.time())) - minutes * 60 - 60
    if sessions:
        for chair in range(CHAIRS):
            store.create_session(chair=f"Chair {chair + 1}", patient_label=f"P-{chair}", protocol="esketamine-84",
                                 started_at=start - 1)
    clock = [start]
    ingest = Ingest(store, config, clock=lambda: clock[0])
    ingest.refresh()
    items = readings(minutes, start)
    elapsed = cpu = 0.0
    for first in range(0, len(items), 1000):
        chunk = items[first:first + 1000]
        for chair, reading in chunk:
            ingest.submit(chair, [reading])
        clock[0] = chunk[-1][1].received_time
        for _ in range(2):
            wall, used, _ = bl.timed_cpu(ingest.step)
            elapsed, cpu = elapsed + wall, cpu + used
            clock[0] += 2.5  # a refresh has looked since: kept now, not parked
    import sqlalchemy as sa

    table = "readings" if sessions else "device_readings"
    with store.engine.connect() as conn:
        stored = int(conn.scalar(sa.text(f"SELECT count(*) FROM {table}")) or 0)
    store.close()
    return {"readings": len(items), "stored": stored, "seconds": round(elapsed, 3), "cpu_s": round(cpu, 3),
            "per_s": round(len(items) / elapsed), "per_cpu_s": round(len(items) / cpu)}


def session_opening(dbs: bl.Databases, config: Any) -> dict[str, Any]:
    from dashboard.service.ingest import Ingest

    store = dbs.fresh("opening")
    start = float(int(time.time()))
    clock = [start - 30 * 60]
    ingest = Ingest(store, config, clock=lambda: clock[0])
    ingest.step()
    kept = [(chair, r) for chair, r in readings(30, start - 30 * 60 + 1) if chair == "Chair 1"]
    for chair, reading in kept:
        ingest.submit(chair, [reading])
    clock[0] = start - 1
    ingest.step()
    clock[0] += 2.5
    ingest.step()
    sid = store.create_session(chair="Chair 1", patient_label="P-1", protocol="esketamine-84", started_at=start)
    wall, cpu, _ = bl.timed_cpu(lambda: ingest.refresh(start + 1))
    joined = len(store.session_items(sid))
    store.close()
    return {"kept": len(kept), "joined": joined, "refresh_ms": round(wall * 1000, 1),
            "refresh_cpu_ms": round(cpu * 1000, 1)}


def board_part(dbs: bl.Databases, config: Any) -> dict[str, Any]:
    from dashboard.service.ingest import Ingest
    from dashboard.ui.waiting import waiting_values

    store = dbs.fresh("board")
    start = float(int(time.time())) - 120
    clock = [start]
    ingest = Ingest(store, config, clock=lambda: clock[0])
    for chair, reading in readings(1, start):
        ingest.submit(chair, [reading])
    clock[0] = start + 61
    ingest.step()
    clock[0] += 2.5
    ingest.step()
    window = config.value("baseline.pre_session_window") * 60
    walls, cpus = [], []
    for _ in range(300):
        wall, cpu, (_, tiles) = bl.timed_cpu(lambda: waiting_values(store, window, time.time()))
        walls.append(wall)
        cpus.append(cpu)
    store.close()
    return {"tiles": len(tiles), **bl.stats_ms(walls),
            "cpu_p50_ms": round(bl.percentile(cpus, 50) * 1000, 3),
            "cpu_p95_ms": round(bl.percentile(cpus, 95) * 1000, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="minutes of readings per chair (default 10)")
    parser.add_argument("--database-url", help="a PostgreSQL server to run on instead of SQLite files")
    args = parser.parse_args()
    from dashboard.engine import load_config

    info = bl.machine()
    bl.print_machine(info)
    config = load_config()
    dbs = bl.Databases(bl.scratch_dir("outside-"), args.database_url)
    result = bl.Result("outside_sessions", bl.command_line(), info)
    into = ingest_rate(dbs, config, args.minutes, sessions=True)
    outside = ingest_rate(dbs, config, args.minutes, sessions=False)
    result.figures.update(database=dbs.kind, into_sessions=into, outside_sessions=outside,
                          opening=session_opening(dbs, config), board=board_part(dbs, config))
    for name, figures in result.figures.items():
        print(f"{name}: {figures}")
    # CPU time: this machine's 2 cores are shared, and wall time there measures the neighbours as much as the code
    result.target("ingest into sessions (per CPU second)", into["per_cpu_s"], 5000, "readings/s",
                  higher_is_better=True)
    result.target("ingest kept outside sessions (per CPU second)", outside["per_cpu_s"], 5000, "readings/s",
                  higher_is_better=True)
    result.target("nothing dropped outside sessions", outside["readings"] - outside["stored"], 0, "readings")
    result.target("board part p95 (CPU)", result.figures["board"]["cpu_p95_ms"], 25, "ms")
    result.save()


if __name__ == "__main__":
    main()
