"""Issue 23: the PDF report within 3x a CSV export of the same session, in one run.

A finished 4-hour esketamine session (the simulator's `esketamine-84-severe` course, observation held on to 4 h:
1 Hz oximeter, NIBP every 5 min, the severe peak's alarms), folded into a store through a real `Ingest` as a
real patient's session (no scenario: no test-data mark). Then, `--repeats` times each, interleaved, through
`export_session` as the review page's export buttons and `app.py export` call it (the record read included):

- csv: the readings CSV;
- pdf: the report as it is now, its chart drawn by fpdf2 (reports/exports/pdf_chart.py);
- pdf_kaleido: the report as it was before issue 23, its chart a PNG from `plotly.io.to_image` (Kaleido starting
  the system Chromium for each export) placed where the drawing goes now. The old path lives only here; it is
  skipped, and the script says so, when Kaleido or a Chromium cannot be found.

Then `--cold` times each of `python app.py export SESSION --format csv|pdf` as a fresh process (imports included),
what a person running the command waits for.

    python bench/pdf_export.py [--repeats 7] [--cold 3]
"""
from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import benchlib as bl

KALEIDO_SIZE = (1600, 820)  # px: the old chart_image.py's


def kaleido_export(store: Any, config: Any, sid: int) -> Callable[[], bytes] | str:
    """The pre-issue-23 PDF: the report with its chart as Kaleido's PNG. A reason string when it cannot run."""
    try:
        import plotly.io as pio
        import kaleido  # noqa: F401
    except ImportError as exc:
        return f"Kaleido not installed ({exc})"
    from dashboard.reports.charts import review as review_chart
    from dashboard.reports.charts.review_data import continuous_from
    from dashboard.reports.exports import export_session, pdf_report

    def old_chart(pdf: Any, record: Any, config: Any) -> None:  # chart_image.py and _chart before issue 23
        pdf.heading("Chart")
        fig = review_chart.figure(record.row, record.bp_readings, continuous_from(record.readings),
                                  record.transitions, record.events, record.episodes, record.end_s, for_print=True)
        png = pio.to_image(fig, format="png", width=KALEIDO_SIZE[0], height=KALEIDO_SIZE[1])
        pdf.image(io.BytesIO(png), w=pdf.epw, alt_text=f"Chart of session {record.id}: BP, HR, SpO2")

    def export() -> bytes:
        drawn = pdf_report._chart
        pdf_report._chart = old_chart
        try:
            return export_session(store, config, sid, "pdf").content
        finally:
            pdf_report._chart = drawn

    try:
        export()
    except Exception as exc:  # noqa: BLE001 - no Chromium, or Kaleido's own error: reported, the rest measured
        return f"Kaleido could not render ({exc.__class__.__name__}: {str(exc)[:120]})"
    return export


def cold_runs(db: Path, sid: int, fmt: str, n: int, out: Path) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(bl.CODE_ROOT / "app.py"), "export", str(sid), "--format", fmt,
                               "--database", str(db), "--out", str(out)], cwd=bl.CODE_ROOT, capture_output=True,
                              text=True, timeout=300)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"export --format {fmt} failed: {done.stderr[-400:]}")
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cold", type=int, default=3, help="fresh `app.py export` processes per format (0: none)")
    args = parser.parse_args()
    info = bl.machine()
    bl.print_machine(info)
    result = bl.Result("pdf_export", bl.command_line(), info)

    from dashboard.engine import load_config
    from dashboard.reports.exports import export_session

    config = load_config()
    tmp = bl.scratch_dir("bench-pdf-")
    elapsed, (store, sid, count) = bl.timed(lambda: bl.four_hour_session(tmp / "pdf.db", config, simulated=False))
    print(f"4-hour session {sid}: {count:,} items folded in {elapsed:.1f} s; "
          f"{len(store.alarms_of(sid))} alarm transitions")

    ways: dict[str, Callable[[], bytes]] = {
        "csv": lambda: export_session(store, config, sid, "csv").content,
        "pdf": lambda: export_session(store, config, sid, "pdf").content,
    }
    old = kaleido_export(store, config, sid)
    if isinstance(old, str):
        print(f"old Kaleido PDF not measured: {old}")
        result.notes.append(f"old Kaleido PDF not measured: {old}")
    else:
        ways["pdf_kaleido"] = old
    times: dict[str, list[float]] = {k: [] for k in ways}
    cpu: dict[str, list[float]] = {k: [] for k in ways}
    sizes = {name: len(fn()) for name, fn in ways.items()}  # warm-up: imports, fonts, statement caches
    for i in range(args.repeats):
        for name in (list(ways) if i % 2 == 0 else list(reversed(ways))):
            wall_s, cpu_s, payload = bl.timed_cpu(ways[name])
            times[name].append(wall_s)
            cpu[name].append(cpu_s)
            sizes[name] = len(payload)
    f = result.figures
    f["session"] = {"items": count, "hours": 4, "scenario": "esketamine-84-severe (4 h), stored as a real session"}
    f["loadavg_at_end"] = [round(x, 2) for x in __import__("os").getloadavg()]
    print(f"\n{'export (record read included)':34} {'p50 ms':>8} {'p95 ms':>8} {'CPU p50':>8} {'bytes':>11} "
          f"{'x CSV':>6}")
    for name in ways:
        f[name] = {**bl.stats_ms(times[name]), "cpu_p50_ms": bl.stats_ms(cpu[name])["p50_ms"], "bytes": sizes[name]}
        f[name]["x_csv_p50"] = round(f[name]["p50_ms"] / bl.stats_ms(times["csv"])["p50_ms"], 2)
        print(f"{name:34} {f[name]['p50_ms']:8.1f} {f[name]['p95_ms']:8.1f} {f[name]['cpu_p50_ms']:8.1f} "
              f"{sizes[name]:11,} {f[name]['x_csv_p50']:6.2f}")
    # CPU time: Kaleido's work is in Chromium's processes, not this one: its ratio is wall time only
    if "pdf_kaleido" in f:
        f["ratio_kaleido_vs_pdf_p50"] = round(f["pdf_kaleido"]["p50_ms"] / f["pdf"]["p50_ms"], 1)
        print(f"old Kaleido PDF vs the drawn PDF: {f['ratio_kaleido_vs_pdf_p50']}x the time")

    if args.cold:
        db = Path(store.engine.url.database)
        for fmt in ("csv", "pdf"):
            f[f"cold_{fmt}"] = bl.stats_ms(cold_runs(db, sid, fmt, args.cold, tmp / f"cold.{fmt}"))
        f["cold_pdf"]["x_csv_p50"] = round(f["cold_pdf"]["p50_ms"] / f["cold_csv"]["p50_ms"], 2)
        print(f"cold `app.py export` p50: csv {f['cold_csv']['p50_ms']:.0f} ms, pdf {f['cold_pdf']['p50_ms']:.0f} ms "
              f"({f['cold_pdf']['x_csv_p50']}x)")

    result.target("PDF export / CSV export of the same 4-h session (p50, one run)", f["pdf"]["x_csv_p50"], 3, "x")
    result.save()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
