"""Run every benchmark in turn and print their targets side by side.

    python bench/run_all.py                    # all seven (ingest on SQLite and PostgreSQL), ~11 minutes on 2 cores
    python bench/run_all.py board_poll engine_fold   # some of them
    python bench/run_all.py bench_review             # issue 5's review benchmarks (not in the default six)
    python bench/run_all.py first_chart              # issue 12's first chart (not in the default six)
    python bench/run_all.py alarm_audible            # issue 22's reading -> audible alarm on a ward display

Each script writes bench/out/NAME.json; this prints one line per target from those files and writes the
same table as Markdown to bench/out/summary.md (what bench/RESULTS.md is made from).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

import benchlib as bl

BENCHES = ("board_poll", "reading_latency", "engine_fold", "ingest_rate", "ingest_rate_postgresql", "review_figure",
           "memory_day", "cli_help", "board_load")
EXTRAS = ("bench_review", "login_timing",  # issue 5: review (sessions list, zoom); issue 13: sign-in timing
          "first_chart",  # issue 12: the first session chart in Chromium, cold and warm (a few minutes)
          "alarm_forward",  # issue 22: a reading -> its alarm at the alarm manager (IHE PCD-04), about 70 s
          "alarm_audible",  # issue 22: a reading -> the alarm audible on a kiosk ward display (about 5 minutes)
          "pdf_export")  # issue 23: the PDF report against a CSV export of a 4-h session, and the old Kaleido PDF
POSTGRES_URL_FILE = bl.ROOT / "var" / "test-postgres.url"  # the server `make postgres` starts


def command(name: str) -> list[str] | None:
    """The command that runs one benchmark; None for the PostgreSQL ingest run when no server is up."""
    if name == "ingest_rate_postgresql":
        if not POSTGRES_URL_FILE.exists():
            return None
        return [sys.executable, str(bl.ROOT / "bench" / "ingest_rate.py"), "--database-url",
                POSTGRES_URL_FILE.read_text().strip()]
    return [sys.executable, str(bl.ROOT / "bench" / f"{name}.py")]


def main(argv: list[str]) -> int:
    chosen = [name for name in argv if not name.startswith("-")] or list(BENCHES)
    unknown = [name for name in chosen if name not in BENCHES + EXTRAS]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHES + EXTRAS)}", file=sys.stderr)
        return 2
    info = bl.machine()
    bl.print_machine(info)
    failed = []
    for name in chosen:
        print(f"\n==== {name} " + "=" * (70 - len(name)), flush=True)
        args = command(name)
        if args is None:
            print(f"---- {name}: skipped, no PostgreSQL server (make postgres)", flush=True)
            continue
        started = time.perf_counter()
        code = subprocess.call(args, cwd=bl.ROOT)
        print(f"---- {name}: exit {code} in {time.perf_counter() - started:.0f} s", flush=True)
        if code:
            failed.append(name)
    tag = "" if bl.CODE_ROOT == bl.ROOT else f"@{bl.CODE_ROOT.name}"
    lines = ["| benchmark | target | measured | limit | verdict |", "|---|---|---|---|---|"]
    print(f"\n{'benchmark':16} {'target':70} {'measured':>14} {'limit':>12}  verdict")
    for name in chosen:
        path = bl.OUT / f"{name}{tag}.json"
        if not path.exists():
            continue
        result = json.loads(path.read_text())
        for t in result["targets"]:
            print(f"{name:16} {t['what'][:70]:70} {t['value']:14,.2f} {t['op']}{t['limit']:>11,} {t['unit']}  "
                  f"{bl.verdict(t['met'])}")
            lines.append(f"| {name} | {t['what']} | {t['value']:,.2f} {t['unit']} | {t['op']} {t['limit']:,} "
                         f"{t['unit']} | {bl.verdict(t['met'])} |")
    bl.OUT.mkdir(parents=True, exist_ok=True)
    (bl.OUT / f"summary{tag}.md").write_text("\n".join(lines) + "\n")
    if failed:
        print(f"\nbenchmarks that did not finish: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
