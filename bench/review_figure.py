"""Target 5: the review of a 4-hour session: figure built and sent <= 300 ms and <= 500 KB.

A finished 4-hour session (the simulator's `esketamine-84-severe` course, observation held on to 4 h: 1 Hz
oximeter, NIBP every 5 min, the severe peak's alarms) is folded into a store through a real `Ingest`.
Then, `--repeats` times each, interleaved:

- review chart: what the review page builds for its chart (`review_chart.figure` over the store reads
  `review_session.layout` makes: BP readings, HR/SpO2 arrays, transitions, events, episodes), encoded
  with Dash's JSON encoder; bytes are the figure's JSON;
- review page: `review_session.layout(store, config, sid)` whole (chart, alarm table, REMS, log), encoded;
- review page over HTTP: the router callback for /review/<sid> through Flask's test client as a signed-in
  clinician (login guard, Dash dispatch and encoding included); bytes are the response body;
- the obvious figure, in the same run: every 1 Hz point sent (`figures.session_figure` over every reading,
  as the live page's `SessionView.figure()` draws it).

If the review modules are missing (they are being changed), the review page is the router's answer and the
chart is `SessionView.figure()`; the script says which it measured.

    python bench/review_figure.py [--repeats 10]
"""
from __future__ import annotations

import argparse
import importlib

import benchlib as bl


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    info = bl.machine()
    bl.print_machine(info)
    result = bl.Result("review_figure", bl.command_line(), info)

    from dashboard.auth import AuthSettings
    from dashboard.engine import load_config
    from dashboard.ui import create_app
    from dashboard.ui.session_page import SessionView

    config = load_config()
    tmp = bl.scratch_dir("bench-review-")
    elapsed, (store, sid, count) = bl.timed(lambda: bl.four_hour_session(tmp / "review.db", config, simulated=True))
    bl.add_users(store)  # the page is fetched signed in
    row = store.session(sid)
    print(f"4-hour session {sid}: {count:,} items folded in {elapsed:.1f} s; ended: {row.ended_at is not None}; "
          f"{len(store.alarms_of(sid))} alarm transitions")

    try:
        review_session = importlib.import_module("dashboard.ui.review_session")
        review_chart = importlib.import_module("dashboard.reports.charts.review")
        from dashboard.reports.alarm_table import alarm_episodes
        from dashboard.store.review_queries import continuous_between
        have_review = True
    except ImportError as exc:
        print(f"review modules not importable ({exc}); measuring the router's review page instead")
        have_review = False

    def review_chart_json() -> bytes:
        row = store.session(sid)
        transitions, events = store.alarms_of(sid), store.events_of(sid)
        bp = store.readings_after(sid, bp_only=True)
        end_s = float((row.status or {}).get("discharged_at") or (row.status or {}).get("now") or row.session_now())
        fig = review_chart.figure(row, bp, continuous_between(store, sid), transitions, events,
                                  alarm_episodes(transitions), end_s)
        return bl.dash_json(fig)

    def review_page_json() -> bytes:
        return bl.dash_json(review_session.layout(store, config, sid))

    def obvious_json() -> bytes:
        return bl.dash_json(SessionView(store, store.session(sid), config).figure())

    app = create_app(store, config, secret_path=tmp / "secret", auth=AuthSettings(idle_minutes=24 * 60))
    client = bl.signed_in_client(app, "clinician")

    def http_page() -> bytes:
        body = bl.callback_body([("page", "children")], [("url", "pathname", f"/review/{sid}"), ("url", "search", "")])
        response = client.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost"})
        if response.status_code != 200:
            raise RuntimeError(f"review page answered {response.status_code}: {response.get_data()[:300]!r}")
        return response.data

    ways = {"review_chart": review_chart_json, "review_page": review_page_json} if have_review else {}
    ways |= {"review_page_http": http_page, "obvious_full_figure": obvious_json}
    times: dict[str, list[float]] = {k: [] for k in ways}
    cpu: dict[str, list[float]] = {k: [] for k in ways}
    sizes: dict[str, int] = {}
    for name, fn in ways.items():  # warm-up: imports, plotly validators, SQLAlchemy statement caches
        sizes[name] = len(fn())
    for i in range(args.repeats):
        names = list(ways) if i % 2 == 0 else list(reversed(ways))
        for name in names:
            elapsed, cpu_s, payload = bl.timed_cpu(ways[name])
            times[name].append(elapsed)
            cpu[name].append(cpu_s)
            sizes[name] = len(payload)
    if not have_review:
        times["review_chart"], sizes["review_chart"] = times["review_page_http"], sizes["review_page_http"]
        cpu["review_chart"] = cpu["review_page_http"]

    f = result.figures
    f["session"] = {"items": count, "hours": 4, "scenario": "esketamine-84-severe (4 h)"}
    f["measured_review_modules"] = have_review
    print(f"\n{'built and encoded':34} {'p50 ms':>8} {'p95 ms':>8} {'CPU p50':>8} {'bytes':>11}")
    for name in ways:
        f[name] = {**bl.stats_ms(times[name]), "cpu_p50_ms": bl.stats_ms(cpu[name])["p50_ms"], "bytes": sizes[name]}
        print(f"{name:34} {f[name]['p50_ms']:8.1f} {f[name]['p95_ms']:8.1f} {f[name]['cpu_p50_ms']:8.1f} "
              f"{sizes[name]:11,}")
    if have_review:
        f["ratio_bytes_obvious_vs_review_chart"] = round(sizes["obvious_full_figure"] / sizes["review_chart"], 1)
        f["ratio_time_obvious_vs_review_chart"] = round(f["obvious_full_figure"]["p50_ms"] / f["review_chart"]["p50_ms"], 1)
        print(f"obvious full figure vs review chart: {f['ratio_bytes_obvious_vs_review_chart']}x the bytes, "
              f"{f['ratio_time_obvious_vs_review_chart']}x the time")
    chart = f["review_chart"] if have_review else f["review_page_http"]
    result.target("review chart of a 4-h session, built and encoded (p95)", chart["p95_ms"], 300, "ms")
    result.target("review chart of a 4-h session, bytes", chart["bytes"] / 1000, 500, "KB")
    result.target("whole review page over HTTP (p95)", f["review_page_http"]["p95_ms"], 300, "ms")
    result.target("whole review page over HTTP, bytes", f["review_page_http"]["bytes"] / 1000, 500, "KB")
    result.save()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
