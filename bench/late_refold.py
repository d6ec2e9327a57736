"""Issue 24: a monitor's batch reading folded in at the time it was taken (dashboard/engine/late.py). A refold
re-folds the whole session, so its cost grows with the session: measured at the end of the 4-hour 1 Hz session of
bench 3 (~14.5k reports), a late cuff cycle 5 min before the engine's clock (the engine part only: ingest also reads
the session's items and alarm history from the store). No target in the issue; the figure says what one late reading
costs ingest's step (a monitor catching up sends a few).

    python bench/late_refold.py [--repeats 15]
"""
from __future__ import annotations

import argparse

import benchlib as bl


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    info = bl.machine()
    bl.print_machine(info)
    result = bl.Result("late_refold", bl.command_line(), info)

    from dashboard.engine import SessionEngine, load_config, refold
    from devices.readings import Reading
    from devices.simulator import session_items

    config = load_config()
    scn = bl.four_hour_scenario()
    items = list(session_items(scn, 1, config))
    engine = SessionEngine(config, scn.protocol)
    for item in items:
        engine.apply(item)
    late = Reading("monitor nibp", sbp=176, dbp=104, map=128, offset_s=engine.now - 300)
    times = []
    for _ in range(args.repeats):
        elapsed, (twin, history) = bl.timed(lambda: refold(engine, [*items, late]))
        times.append(elapsed)
    print(f"refold of {len(items):,} items + 1 late reading: median {bl.median(times) * 1000:.1f} ms, "
          f"max {max(times) * 1000:.1f} ms ({len(history)} transitions in the refolded history)")
    result.figures["refold_4h"] = {"items": len(items), **bl.stats_ms(times), "history": len(history)}
    print(f"written {result.save()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
