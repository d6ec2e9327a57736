"""Issue 23: the REMS form queue on the clinician's home (the review page). What it costs to build the queue of a
busy site: a few hundred realistic esketamine sessions in the 30-day window (each the severe-peak sample: 2 h 15 of
1 Hz oximetry, 26 NIBP readings, the nurse's events; ~8,100 stored readings), IV sessions beside them, and older
history outside the window. The forms of unsent sessions are built from their records; sent ones need their row
only; older ones are counted in SQL.

    python bench/form_queue.py [--sessions 300] [--older 1000] [--repeats 5]

Figures: the queue with nothing sent (the worst case: every form built), with 90 % sent (a clinic that keeps up),
and the same with `--older` sessions of history before the window (to show they cost a count, not a build).
"""
from __future__ import annotations

import argparse
import time

import benchlib as bl

DAY = 86400.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=300, help="esketamine sessions in the 30-day window")
    parser.add_argument("--older", type=int, default=1000, help="esketamine sessions before the window")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    info = bl.machine()
    bl.print_machine(info)
    result = bl.Result("form_queue", bl.command_line(), info)

    import sqlalchemy as sa

    from dashboard.engine import load_config
    from dashboard.reports.form_queue import FormQueue, Recorder, Submission, form_queue
    from dashboard.store import Store
    from dashboard.store.rems_submissions import record_submission
    from tests.reports.form_sessions import esketamine_session, iv_session

    config = load_config()
    store = Store.open(bl.scratch_dir("form_queue") / "clinic.db")
    now = time.time()
    template = esketamine_session(store, now - DAY)
    iv = iv_session(store, now - DAY)
    window = [template] + [_clone(store, sa, template, now - (i % 29 + 1) * DAY - i * 60)
                           for i in range(1, args.sessions)]
    for i in range(args.sessions // 3):
        _clone(store, sa, iv, now - (i % 29 + 1) * DAY)
    print(f"{len(window)} esketamine sessions in the window ({_readings(store, sa):,} readings stored)")

    def build() -> FormQueue:
        return form_queue(store, config, now)

    def measure(name: str, what: str) -> None:
        build()  # warm the database's pages
        times = []
        for _ in range(args.repeats):
            elapsed, queue = bl.timed(build)
            times.append(elapsed)
        stats = bl.stats_ms(times)
        built = len(queue.unsent())
        print(f"{what}: median {stats['p50_ms']:.0f} ms, max {max(times) * 1000:.0f} ms "
              f"({built} forms built, {len(queue.forms)} listed, {queue.older_unsent} older counted)")
        result.figures[name] = {**stats, "built": built, "listed": len(queue.forms), "older": queue.older_unsent}

    measure("none_sent", f"{len(window)} forms, none sent")
    for sid in window[: len(window) * 9 // 10]:
        record_submission(store, Submission(sid, "RN-AB", now, "portal", f"PMF-{sid}"), Recorder("bench"))
    measure("ninety_percent_sent", f"{len(window)} forms, 90 % sent")
    for i in range(args.older):
        _clone(store, sa, template, now - (40 + i % 700) * DAY)
    measure("with_older", f"the same with {args.older} older sessions before the window")
    store.close()
    print(f"written {result.save()}")
    return 0


def _clone(store, sa, source: int, dosed_at: float) -> int:
    """A copy of session `source` (row, readings, events, alarm history) dosed at `dosed_at`, in SQL."""
    from dashboard.store.schema import alarms, events, readings, sessions

    with store.engine.begin() as conn:
        row = dict(conn.execute(sessions.select().where(sessions.c.id == source)).mappings().one())
        shift = dosed_at - 600.0 - row["started_at"]
        row.pop("id")
        row.update(started_at=row["started_at"] + shift, ended_at=row["ended_at"] + shift)
        new = conn.execute(sessions.insert().values(**row)).inserted_primary_key[0]
        for table in (readings, events, alarms):
            columns = [c for c in table.c if c.name not in ("id", "session_id")]
            conn.execute(table.insert().from_select(
                ["session_id", *[c.name for c in columns]],
                sa.select(sa.literal(new), *columns).where(table.c.session_id == source)))
    return int(new)


def _readings(store, sa) -> int:
    from dashboard.store.schema import readings

    with store.engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(readings)))


if __name__ == "__main__":
    raise SystemExit(main())
