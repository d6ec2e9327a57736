"""Target 4: ingest >= 5,000 readings/s sustained into SQLite with the engine running, nothing dropped.

24 chairs run simulated sessions from their start (mixed scenarios: 1 Hz oximeter, NIBP cycles, events).
Every device report is its own `Ingest.submit` (as the adapters do); ingest folds each through the chair's
engine and commits readings, events, alarm transitions and status snapshots in one transaction per step.

1. Batched: the readings one 0.2 s tick brings at a given rate are submitted, then one `step()`; the
   virtual clock follows the data (so timers fire as live). Sizes: 24 (one clinic second per commit: the
   live 1x load), 1,000 (5,000/s in 0.2 s ticks) and 5,000.
2. Sustained, threaded: `Ingest.run` in its own thread on the real clock and TICK_S, one producer thread
   offering `--rate` readings/s (paced every 10 ms) for `--seconds`, then twice that rate for half as long
   (headroom); reports what was stored per second, step times and the largest backlog, and whether ingest
   kept up (everything committed within 1 s of the producer stopping). Sessions run at rate/24 x so their
   clocks follow the data.
3. The obvious way, in the same run: one commit per reading (submit one, step, repeat).
4. Start-up catch-up as `Clinic.catch_up` does it (each chair's 5..100 min of history in chunks of 500, one
   `flush()`): its rate, and whether every reading keeps its own session time.

Every variant counts what the store holds afterwards against what was submitted. `--database-url` runs it
all on a PostgreSQL server instead (a fresh schema per variant, dropped after): the test server of
`make postgres` is in var/test-postgres.url.

    python bench/ingest_rate.py [--minutes 40] [--rate 5000] [--seconds 20] [--database-url URL]
"""
from __future__ import annotations

import argparse
import threading
import time
from typing import Any

import benchlib as bl


def feeds_from_start(store: Any, config: Any, chairs: int, wall: float, minutes: float, speed: float = 1.0):
    """`chairs` sessions started at `wall`, each cut to its first `minutes` (no discharge inside)."""
    feeds = bl.open_clinic(store, config, chairs, wall, elapsed_min=lambda i, end: 0.0)
    for feed in feeds:
        feed.items = [item for item in feed.items if (item.offset_s or 0.0) <= minutes * 60
                      and getattr(item, "kind", "") != "discharge"]
    if speed != 1.0:
        import sqlalchemy as sa
        from dashboard.store.schema import sessions
        with store.engine.begin() as conn:
            conn.execute(sa.update(sessions).values(speed=speed))
    return feeds


def arrival_order(feeds: list[Any]) -> list[tuple[float, Any, Any]]:
    """Every item of every chair, (offset, feed, item) in the order they would arrive live."""
    rows = [(item.offset_s or 0.0, n, i, feed, item) for n, feed in enumerate(feeds) for i, item in enumerate(feed.items)]
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return [(r[0], r[3], r[4]) for r in rows]


def stored_counts(store: Any) -> tuple[int, int]:
    import sqlalchemy as sa

    with store.engine.connect() as conn:
        readings = conn.scalar(sa.text("SELECT count(*) FROM readings"))
        events = conn.scalar(sa.text("SELECT count(*) FROM events"))
    return int(readings or 0), int(events or 0)


def fresh(dbs: bl.Databases, name: str, config: Any, chairs: int, minutes: float, speed: float = 1.0, clock=None):
    from dashboard.service.ingest import Ingest

    store = dbs.fresh(name)
    wall = float(int(time.time()))
    feeds = feeds_from_start(store, config, chairs, wall, minutes, speed)
    cell = [wall]
    ingest = Ingest(store, config, clock=clock or (lambda: cell[0]))
    ingest.refresh()
    return store, ingest, feeds, cell, wall


def batched(dbs: bl.Databases, config: Any, chairs: int, minutes: float, batch: int, limit: int | None = None) -> dict:
    """Submit in arrival order, one step (one commit) per `batch` items; the clock follows the data."""
    from devices.readings import Reading

    store, ingest, feeds, cell, wall = fresh(dbs, f"batch{batch}", config, chairs, minutes)
    order = arrival_order(feeds)[:limit]
    submitted = sum(1 for _, _, item in order if isinstance(item, Reading))
    steps: list[float] = []
    start = time.perf_counter()
    for begin in range(0, len(order), batch):
        chunk = order[begin:begin + batch]
        for _, feed, item in chunk:
            ingest.submit(feed.chair, [item])
        cell[0] = wall + chunk[-1][0]
        t0 = time.perf_counter()
        ingest.step()
        steps.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    readings, events = stored_counts(store)
    store.close()
    return {"batch": batch, "items": len(order), "readings_submitted": submitted, "readings_stored": readings,
            "events_stored": events, "dropped": submitted - readings, "seconds": round(elapsed, 3),
            "readings_per_s": round(submitted / elapsed), "commits": len(steps), "step": bl.stats_ms(steps),
            "unplaced": ingest.unplaced}


def sustained(dbs: bl.Databases, config: Any, chairs: int, rate: float, seconds: float, name: str) -> dict:
    """Ingest.run on the real clock; a producer offers `rate` readings/s for `seconds`."""
    from devices.readings import Reading
    from dashboard.service import ingest as ingest_module

    speed = rate / chairs  # one reading per chair per session second
    minutes = seconds * speed / 60 + 1
    store, ingest, feeds, _, _ = fresh(dbs, name, config, chairs, minutes, speed=speed, clock=time.time)
    order = arrival_order(feeds)
    step_times: list[float] = []
    backlog: list[int] = []
    real_step = ingest.step

    def timed_step() -> None:
        backlog.append(ingest._queue.qsize())  # noqa: SLF001 - the bench looks at the queue it fills
        t0 = time.perf_counter()
        real_step()
        step_times.append(time.perf_counter() - t0)

    ingest.step = timed_step  # type: ignore[method-assign]
    stop = threading.Event()
    runner = threading.Thread(target=ingest.run, args=(stop,), name="ingest", daemon=True)
    started = time.time()
    import sqlalchemy as sa
    from dashboard.store.schema import sessions
    with store.engine.begin() as conn:  # the sessions' clocks start now, at `speed`
        conn.execute(sa.update(sessions).values(started_at=started))
    ingest.refresh()
    runner.start()
    submitted = 0
    position = 0
    deadline = started + seconds
    while position < len(order) and time.time() < deadline:
        now = time.time()
        due_offset = (now - started) * speed
        while position < len(order) and order[position][0] <= due_offset:
            _, feed, item = order[position]
            ingest.submit(feed.chair, [item])
            submitted += isinstance(item, Reading)
            position += 1
        time.sleep(0.01)
    offered_s = time.time() - started
    data_s = order[position - 1][0] / speed if position else offered_s  # the wall time the offered data spans
    stop.set()
    runner.join(timeout=60)
    drained_s = time.time() - started
    readings, events = stored_counts(store)
    store.close()
    return {"offered_rate": rate, "session_speed": round(speed, 1), "offered_seconds": round(offered_s, 2),
            "readings_submitted": submitted, "readings_stored": readings, "dropped": submitted - readings,
            "offered_per_s": round(submitted / data_s), "stored_per_s": round(readings / data_s),
            "producer_behind_s": round(offered_s - data_s, 3), "all_committed_after_s": round(drained_s, 2),
            "tail_after_producer_stopped_s": round(drained_s - offered_s, 2),
            "steps": len(step_times), "step": bl.stats_ms(step_times), "max_backlog_items": max(backlog or [0]),
            "tick_s": ingest_module.TICK_S, "unplaced": ingest.unplaced}


def catch_up_exact(dbs: bl.Databases, config: Any, chairs: int) -> dict:
    """The start-up catch-up as Clinic.catch_up does it: every chair's history (5..100 min each) submitted in
    chunks of 500, then one `flush()` on the real clock. Every reading must keep its own session time."""
    import sqlalchemy as sa
    from devices.readings import Reading
    from dashboard.service.ingest import Ingest

    store = dbs.fresh("catchup")
    wall = float(int(time.time()))
    feeds = bl.open_clinic(store, config, chairs, wall)
    ingest = Ingest(store, config, clock=lambda: wall)
    ingest.refresh()
    expected: dict[int, list[float]] = {}
    for feed in feeds:
        due = feed.due(wall - feed.started_at)
        for start in range(0, len(due), 500):
            ingest.submit(feed.chair, due[start:start + 500])
        expected[feed.session_id] = sorted(float(i.offset_s or 0.0) for i in due if isinstance(i, Reading))
    elapsed, _ = bl.timed(ingest.flush)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT session_id, offset_s FROM readings")).all()
    store.close()
    stored: dict[int, list[float]] = {}
    for sid, offset in rows:
        stored.setdefault(sid, []).append(float(offset))
    wrong, sessions_hit = 0, 0
    for sid, offsets in expected.items():
        got = sorted(stored.get(sid, []))
        bad = sum(1 for a, b in zip(offsets, got) if abs(a - b) > 1e-6) + abs(len(offsets) - len(got))
        wrong += bad
        sessions_hit += bad > 0
    submitted = sum(len(v) for v in expected.values())
    return {"chairs": chairs, "readings_submitted": submitted, "readings_stored": len(rows),
            "dropped": submitted - len(rows), "seconds": round(elapsed, 2), "readings_per_s": round(submitted / elapsed),
            "readings_with_wrong_session_time": wrong, "sessions_affected": sessions_hit}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chairs", type=int, default=24)
    parser.add_argument("--minutes", type=float, default=40, help="session minutes per chair in the batched runs")
    parser.add_argument("--rate", type=float, default=5000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--per-reading", type=int, default=3000, help="readings in the one-commit-per-reading run")
    parser.add_argument("--database-url", help="a PostgreSQL server to run on instead of SQLite files")
    args = parser.parse_args()
    info = bl.machine()
    bl.print_machine(info)
    dbs = bl.Databases(bl.scratch_dir("bench-ingest-"), args.database_url)
    result = bl.Result("ingest_rate" if not args.database_url else "ingest_rate_postgresql", bl.command_line(), info)
    print(f"store: {dbs.kind}")

    from dashboard.engine import load_config

    config = load_config()
    f = result.figures
    f["store"] = dbs.kind
    print(f"{'variant':44} {'readings':>9} {'stored':>9} {'s':>7} {'readings/s':>11} {'step p95 ms':>12}")

    def show(label: str, r: dict) -> None:
        print(f"{label:44} {r['readings_submitted']:9,} {r['readings_stored']:9,} {r['seconds']:7.2f} "
              f"{r['readings_per_s']:11,} {r['step']['p95_ms']:12.1f}")

    f["per_reading_commit"] = batched(dbs, config, args.chairs, args.minutes, 1, limit=args.per_reading)
    show("one commit per reading (obvious)", f["per_reading_commit"])
    for batch in (24, 1000, 5000):  # 24 per commit is slow: its first 10 clinic minutes are enough
        f[f"batch_{batch}"] = batched(dbs, config, args.chairs, args.minutes if batch > 24 else 10, batch)
        show(f"one step per {batch} readings ({args.chairs} chairs)", f[f"batch_{batch}"])
    for key, rate, seconds in (("sustained", args.rate, args.seconds),
                               ("sustained_headroom", args.rate * 2, args.seconds / 2)):
        s = f[key] = sustained(dbs, config, args.chairs, rate, seconds, key)
        s["kept_up"] = s["dropped"] == 0 and s["tail_after_producer_stopped_s"] < 1.0
        print(f"sustained {rate:,.0f}/s offered for {s['offered_seconds']} s through Ingest.run "
          f"(TICK_S {s['tick_s']}): stored {s['readings_stored']:,} of {s['readings_submitted']:,} "
          f"({s['stored_per_s']:,}/s of data; the producer ended {s['producer_behind_s']} s behind it), all committed {s['tail_after_producer_stopped_s']} s after the producer "
          f"stopped; step p50 {s['step']['p50_ms']:.1f} ms p95 {s['step']['p95_ms']:.1f} ms max {s['step']['max_ms']:.1f} ms; "
          f"largest backlog {s['max_backlog_items']:,} items; kept up: {s['kept_up']}")
    s = f["sustained"]
    c = f["catch_up"] = catch_up_exact(dbs, config, args.chairs)
    print(f"start-up catch-up, {args.chairs} chairs in one flush: {c['readings_submitted']:,} readings in "
          f"{c['seconds']} s ({c['readings_per_s']:,}/s); stored with a wrong session time: "
          f"{c['readings_with_wrong_session_time']:,} in {c['sessions_affected']} sessions")
    f["ratio_batched1000_vs_per_reading"] = round(f["batch_1000"]["readings_per_s"]
                                                  / f["per_reading_commit"]["readings_per_s"], 1)
    print(f"batched (1,000 per step) vs one commit per reading: {f['ratio_batched1000_vs_per_reading']}x")
    dropped = sum(abs(f[k]["dropped"]) for k in ("per_reading_commit", "batch_24", "batch_1000", "batch_5000", "sustained",
                                                 "sustained_headroom", "catch_up"))
    result.target("ingest rate, 1,000 readings per step", f["batch_1000"]["readings_per_s"], 5000, "readings/s",
                  higher_is_better=True)
    result.target(f"ingest sustained through Ingest.run: readings stored per second of the data offered at "
                  f"{args.rate:,.0f}/s (kept up: {s['kept_up']})", s["stored_per_s"] if s["kept_up"] else 0, args.rate,
                  "readings/s", higher_is_better=True)
    result.target("readings dropped (all variants)", dropped, 0, "readings")
    result.target("catch-up readings stored with a wrong session time", c["readings_with_wrong_session_time"], 0,
                  "readings")
    result.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
