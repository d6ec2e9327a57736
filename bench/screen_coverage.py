"""Issue 22: what knowing which screens are live and sounding adds to the shell's poll, every second on every screen.

A store holds 24 open sessions (the board's target size) and `--screens` rows of screens (a day of page loads and
reloads: nurses, clinicians and testers, sounding, suspended or never touched). Measured, as this process's CPU time
(less disturbed by other jobs than wall time) and wall time, over `--polls` repeats each:

- the poll's added reads: the screens per role (one aggregate query) and the coverage rule over the 24 sessions
  (`uncovered_among`, the shell's call);
- one screen's report written (the update of its row), which the shell does only when the report changed or a
  third of `screen.live_within` has passed;
- the obvious way beside it: the report written on every poll (one write a second per screen instead of one per
  `live_within / 3` seconds: the writes per screen per minute are printed for both).

    python bench/screen_coverage.py [--screens 200] [--polls 300]
"""
from __future__ import annotations

import argparse
import time

import benchlib as bl


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screens", type=int, default=200)
    parser.add_argument("--polls", type=int, default=300)
    parser.add_argument("--chairs", type=int, default=24)
    args = parser.parse_args()

    info = bl.machine()
    bl.print_machine(info)
    result = bl.Result("screen_coverage", bl.command_line(), info)

    from dashboard.engine import load_config
    from dashboard.service.coverage import CoverageSettings, uncovered_among
    from dashboard.store import Store, screens

    config = load_config()
    settings = CoverageSettings.from_config(config)
    store = Store.open(bl.scratch_dir("bench-screens-") / "screens.db")
    now = time.time()
    for n in range(args.chairs):
        store.create_session(chair=f"Chair {n + 1:02d}", patient_label=f"P-{n}", protocol="esketamine-84",
                             started_at=now - 3600)
    for n in range(args.screens):
        screens.report(store, f"benchscreen{n:08d}", "nurse1", ("nurse", "clinician", "tester")[n % 3], "/",
                       ("suspended", "none", "running")[n % 3], now - 60 - n * 300)  # none live: all uncovered
    rows = store.open_sessions()

    def reads() -> int:
        return len(uncovered_among(rows, screens.sounding_by_role(store), False, store.site, time.time(), settings))

    def write() -> None:
        screens.report(store, "benchscreen00000000", "nurse1", "nurse", "/", "suspended", time.time())  # none sounds

    measured: dict[str, tuple[list[float], list[float]]] = {"reads": ([], []), "write": ([], [])}
    listed = 0
    for _ in range(args.polls):
        for name, fn in (("reads", reads), ("write", write)):
            wall, cpu, value = bl.timed_cpu(fn)
            measured[name][0].append(wall)
            measured[name][1].append(cpu)
            listed = value if name == "reads" else listed
    f = result.figures
    f["chairs"], f["screens"], f["uncovered_listed"] = args.chairs, args.screens, listed
    for name, (walls, cpus) in measured.items():
        f[f"{name}_wall"], f[f"{name}_cpu"] = bl.stats_ms(walls), bl.stats_ms(cpus)
    refresh_s = settings.live_within_s / 3
    f["writes_per_screen_minute"] = {"shell": round(60 / refresh_s, 1), "obvious_every_poll_1s": 60.0}

    print(f"\n{args.chairs} chairs in session, {args.screens} screens' rows, {listed} chairs listed uncovered")
    print(f"{'per poll':44} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, label in (("reads", "added reads (screens per role + coverage)"), ("write", "one report written")):
        for clock in ("cpu", "wall"):
            s = f[f"{name}_{clock}"]
            print(f"{label + ' (' + clock + ')':44} {s['p50_ms']:8.2f} {s['p95_ms']:8.2f} {s['max_ms']:8.2f}")
    print(f"writes per screen per minute: {60 / refresh_s:.0f} (written when changed or every {refresh_s:g} s) "
          f"against 60 (the obvious: every 1 s poll)")
    result.target("shell poll's added reads, CPU p95 (a share of the 25 ms poll budget)",
                  f["reads_cpu"]["p95_ms"], 5.0, "ms")
    result.save()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
