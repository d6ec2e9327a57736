"""Review benchmarks (issue 5): the sessions list at 10,000 sessions, and a 4-hour 1 Hz session's chart.

    .venv/bin/python bench/bench_review.py [--sessions 10000] [--repeat 20]

Compares, in the same run, against the obvious implementations: the list read
whole and filtered in Python; the chart drawn with every sample (the live page's
`session_figure`). Prints a Markdown table for bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import plotly.io as pio
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.engine import load_config  # noqa: E402
from dashboard.service.ingest import Ingest  # noqa: E402
from dashboard.reports.alarm_table import alarm_episodes  # noqa: E402
from dashboard.store import Store  # noqa: E402
from dashboard.store.review_queries import SessionFilter, continuous_between, list_sessions  # noqa: E402
from dashboard.store.schema import alarms, sessions  # noqa: E402
from dashboard.reports.charts import review as review_chart  # noqa: E402
from dashboard.reports.charts.figures import session_figure  # noqa: E402
from devices.readings import Reading, SessionEvent  # noqa: E402

PROTOCOLS = ("iv-ketamine", "esketamine-56", "esketamine-84")


def many_sessions(store: Store, n: int, seed: int = 5) -> None:
    """n finished sessions over two years, 24 chairs, n/8 patients; about a third with 1-4 alarms."""
    rng = random.Random(seed)
    start = time.time() - 2 * 365 * 86400
    rows, alarm_rows = [], []
    for i in range(1, n + 1):
        began = start + i * (2 * 365 * 86400 / n)
        peak = rng.randint(120, 200)
        rows.append({"id": i, "chair": f"Chair {rng.randint(1, 24)}", "patient_label": f"P-{rng.randint(1, n // 8):05d}",
                     "protocol": rng.choice(PROTOCOLS), "dose": "84 mg", "started_at": began, "ended_at": began + 9000,
                     "phase": "discharged", "rev": 1, "speed": 1.0, "clock": "wall",
                     "status": {"peak": {"sbp": peak, "dbp": peak * 0.6, "offset_s": 2400}, "dose_at": 600}})
        if rng.random() < 0.33:
            for k in range(rng.randint(1, 4)):
                alarm_rows.append({"session_id": i, "offset_s": 1500 + 300 * k, "code": "bp.high", "source": "",
                                   "priority": "medium", "state": "raised", "value": f"{peak}/100", "message": ""})
    with store.engine.begin() as conn:
        conn.execute(sessions.insert(), rows)
        conn.execute(alarms.insert(), alarm_rows)


def obvious_list(store: Store, f: SessionFilter) -> tuple[list[dict[str, Any]], int]:
    """Everything read, then filtered, sorted and paged in Python."""
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(sessions.select()).mappings()]
        counts = dict(conn.execute(sa.select(alarms.c.session_id, sa.func.count()).where(alarms.c.state == "raised")
                                   .group_by(alarms.c.session_id)).all())
    keep = [r for r in rows if (not f.patient or f.patient.lower() in r["patient_label"].lower())
            and (f.had_alarms is None or (counts.get(r["id"], 0) > 0) == f.had_alarms)
            and (not f.chair or r["chair"] == f.chair)]
    keep.sort(key=lambda r: (r["started_at"], r["id"]), reverse=f.descending)
    return keep[f.page * f.page_size:(f.page + 1) * f.page_size], len(keep)


def timed(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def four_hour_session(store: Store) -> int:
    """A 4-hour esketamine session at 1 Hz (HR and SpO2 each second, NIBP every 5 min) through the real Ingest."""
    rng = random.Random(3)
    duration = 4 * 3600
    sid = store.create_session(chair="Chair 1", patient_label="Bench 01", protocol="esketamine-84",
                               started_at=time.time() - duration - 60, dose="84 mg")
    items: list[Any] = [SessionEvent("session_start", "esketamine-84", offset_s=0)]
    for t in range(1, duration):
        if t == 600:
            items.append(SessionEvent("dose_start", "84 mg", offset_s=600))
        if t % 300 == 0:
            rise = 45 * max(0.0, 1 - abs(t - 3000) / 2400) if t > 600 else 0
            items.append(Reading("nibp", sbp=128 + rise + rng.randint(-3, 3), dbp=80 + rise * 0.5, hr=78,
                                 offset_s=float(t)))
        dip = 8 if 5000 <= t < 5030 else 0  # a 30-s desaturation the reduced chart must still show
        items.append(Reading("oximeter", hr=78 + rng.randint(-4, 4) + (40 if t == 7000 else 0),
                             spo2=97 + rng.randint(-1, 1) - dip, offset_s=float(t)))
    ingest = Ingest(store, load_config())
    ingest.refresh()
    ingest.submit("Chair 1", items)
    ingest.step()
    return sid


def bench_list(store: Store, repeat: int) -> list[tuple[str, float, float]]:
    cases = {
        "newest first, page 1": SessionFilter(),
        "patient contains '0042'": SessionFilter(patient="0042"),
        "had alarms, finished, by peak": SessionFilter(had_alarms=True, state="finished", sort="peak"),
        "sorted by number of alarms": SessionFilter(sort="alarms"),
        "last page (offset 9,950)": SessionFilter(page=199),
    }
    out = []
    for name, f in cases.items():
        ours = timed(lambda: list_sessions(store, f), repeat)
        obvious = timed(lambda: obvious_list(store, f), max(repeat // 4, 3)) if f.sort == "started" else float("nan")
        out.append((name, ours, obvious))
    return out


def bench_chart(store: Store, sid: int, repeat: int) -> dict[str, float]:
    row = store.session(sid)

    def ours() -> str:
        transitions, events = store.alarms_of(sid), store.events_of(sid)
        bp = store.readings_after(sid, bp_only=True)
        fig = review_chart.figure(row, bp, continuous_between(store, sid), transitions, events,
                                  alarm_episodes(transitions), row.status["now"])
        return pio.to_json(fig)

    def zoom() -> str:
        return str(review_chart.zoom_patch(store, sid, {"xaxis.range[0]": 80, "xaxis.range[1]": 90}).to_plotly_json())

    def obvious() -> str:
        fig = session_figure(store.readings_after(sid), store.alarms_of(sid), store.events_of(sid), row.status,
                             row.status["now"])
        return pio.to_json(fig)

    return {"ours_ms": timed(ours, repeat), "ours_bytes": len(ours()), "zoom_ms": timed(zoom, repeat),
            "zoom_bytes": len(zoom()), "obvious_ms": timed(obvious, max(repeat // 4, 3)), "obvious_bytes": len(obvious())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "bench.db")
        many_sessions(store, args.sessions)
        print(f"## Sessions list, {args.sessions:,} sessions (median of {args.repeat}; SQLite)\n")
        print("| query | ours (SQL filter/sort/page) ms | obvious (read all, Python) ms |\n|---|---|---|")
        for name, ours, obvious in bench_list(store, args.repeat):
            print(f"| {name} | {ours:.1f} | {'–' if obvious != obvious else f'{obvious:.1f}'} |")
        store.close()
        store = Store.open(Path(folder) / "chart.db")
        sid = four_hour_session(store)
        c = bench_chart(store, sid, args.repeat)
        print(f"\n## Review chart of a 4-hour 1 Hz session (median of {args.repeat})\n")
        print("| | build + JSON ms | JSON bytes |\n|---|---|---|")
        print(f"| review figure (min/max reduced, NIBP exact) | {c['ours_ms']:.0f} | {c['ours_bytes']:,} |")
        print(f"| zoom to 10 min (relayout patch, full detail) | {c['zoom_ms']:.0f} | {c['zoom_bytes']:,} |")
        print(f"| obvious: every sample (`session_figure`) | {c['obvious_ms']:.0f} | {c['obvious_bytes']:,} |")
        store.close()


if __name__ == "__main__":
    main()
