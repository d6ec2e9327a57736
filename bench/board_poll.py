"""Target 1: the live board with 24 chairs. One poll's server time p95 <= 25 ms; the payload per poll
>= 20x smaller than re-sending the figures.

A store holds 24 open simulated sessions (mixed scenarios, 5..100 min in). Each step, one second of the
clinic passes: every chair's devices submit that second's readings one by one into a real `Ingest`,
which folds and commits them (the clock is virtual, so a step takes no wall time), then the board is
polled three ways on the same state:

- `poll_board(store, seen, wall)` called directly (server time of the function alone, plus Dash's JSON
  encoding of its answer);
- the real Dash callback over HTTP: POST /_dash-update-component through Flask's test client as a signed-in
  tester (simulated chairs are on the test board; the login guard, Dash's dispatch and encoding included);
  the bytes are the response body;
- the obvious board: one plotly figure per chair carrying its whole 1 Hz series (HR, SpO2, BP), built from
  the store and re-sent every poll (measured on every 10th step: it is slow).

The browser's copy of the board and of `board-seen` is kept by applying each answer's Patch operations; at
the end it is compared with a full render of the board at that moment, which proves the deltas lost nothing.

    python bench/board_poll.py [--chairs 24] [--steps 180]
"""
from __future__ import annotations

import argparse
import copy
import json
import time
import types
from typing import Any

import benchlib as bl


def apply_patch(target: Any, patch: dict[str, Any]) -> Any:
    """Apply a Dash Patch (as sent over the wire) to the browser's copy of a prop, as the renderer does."""
    for op in patch["operations"]:
        location, params = op["location"], op["params"]
        if not location:
            raise ValueError(f"whole-value {op['operation']} not expected")
        parent = target
        for key in location[:-1]:
            if isinstance(parent, dict) and key not in parent:
                parent[key] = {}
            parent = parent[key]
        last = location[-1]
        if op["operation"] == "Assign":
            parent[last] = params["value"]
        elif op["operation"] == "Delete":
            del parent[last]
        elif op["operation"] == "Merge":
            parent[last].update(params["value"])
        else:
            raise ValueError(f"patch operation {op['operation']} not handled by the bench")
    return target


def take(value: Any, current: Any) -> Any:
    """The browser's new copy of a prop given the wire value: a Patch applied, or the value itself."""
    if isinstance(value, dict) and "__dash_patch_update" in value:
        return apply_patch(current, value)
    return value


def obvious_board(store: Any) -> list[Any]:
    """The board without deltas: per chair one plotly figure with the whole 1 Hz series, every poll."""
    import plotly.graph_objects as go
    from dash import dcc, html

    tiles = []
    for row in store.open_sessions():
        readings = store.readings_after(row.id)
        hr = [(r["offset_s"] / 60, r["hr"]) for r in readings if r["hr"] is not None and r["sbp"] is None]
        spo2 = [(r["offset_s"] / 60, r["spo2"]) for r in readings if r["spo2"] is not None]
        bp_x: list[Any] = []
        bp_y: list[Any] = []
        for r in readings:
            if r["sbp"] is not None:
                bp_x += [r["offset_s"] / 60, r["offset_s"] / 60, None]
                bp_y += [r["dbp"], r["sbp"], None]
        status = row.status or {}
        fig = go.Figure([
            go.Scatter(name="HR", x=[p[0] for p in hr], y=[p[1] for p in hr], mode="lines"),
            go.Scatter(name="SpO2", x=[p[0] for p in spo2], y=[p[1] for p in spo2], mode="lines", yaxis="y2"),
            go.Scatter(name="BP", x=bp_x, y=bp_y, mode="lines", line={"width": 5}),
        ])
        fig.update_layout(title=f"{row.chair} · {status.get('phase', row.phase)}", height=220,
                          margin={"l": 30, "r": 30, "t": 30, "b": 20}, showlegend=False,
                          yaxis2={"overlaying": "y", "side": "right", "range": [80, 101]})
        bp = status.get("bp") or {}
        tiles.append(html.Div([html.Div(row.chair), html.Div(f"{bp.get('sbp', '–')}/{bp.get('dbp', '–')}"),
                               dcc.Graph(figure=fig, id=f"chair-{row.id}")], className="tile"))
    return tiles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chairs", type=int, default=24)
    parser.add_argument("--steps", type=int, default=180, help="seconds of clinic time polled (one poll each)")
    parser.add_argument("--obvious-every", type=int, default=10, help="measure the obvious board every N steps")
    parser.add_argument("--screens", type=int, default=200, help="other screens' rows in the store (issue 22)")
    args = parser.parse_args()

    info = bl.machine()
    bl.print_machine(info)
    result = bl.Result("board_poll", bl.command_line(), info)

    from dashboard.auth import AuthSettings
    from dashboard.engine import load_config
    from dashboard.service.ingest import Ingest
    from dashboard.store import Store
    from dashboard.ui import board, create_app

    tmp = bl.scratch_dir("bench-board-")
    store = Store.open(tmp / "board.db")
    bl.add_users(store)
    config = load_config()
    clock = [float(int(time.time()))]
    wall = clock[0]
    ingest = Ingest(store, config, clock=lambda: clock[0])
    feeds = bl.open_clinic(store, config, args.chairs, wall)
    elapsed, count = bl.timed(lambda: bl.catch_up(ingest, feeds, wall, clock))
    print(f"setup: {args.chairs} chairs, {count:,} readings and events folded in {elapsed:.1f} s")

    app = create_app(store, config, secret_path=tmp / "secret", auth=AuthSettings(idle_minutes=24 * 60))
    client = bl.signed_in_client(app, "tester")  # simulated chairs: the test board (issue 12), the same poll
    board.time = types.SimpleNamespace(time=lambda: clock[0])  # the board reads the (virtual) clock in the callback
    headers = {"Origin": "http://localhost"}

    def http_poll(n: int, seen: Any) -> tuple[float, int, Any]:
        body = bl.callback_body([("board", "children"), ("board-seen", "data")],
                                [("board-poll", "n_intervals", n)], [("board-seen", "data", seen)])
        start = time.perf_counter()
        response = client.post("/_dash-update-component", json=body, headers=headers)
        elapsed = time.perf_counter() - start
        if response.status_code == 204:
            return elapsed, 0, None
        if response.status_code != 200:
            raise RuntimeError(f"board callback answered {response.status_code}: {response.get_data()[:300]!r}")
        answer = response.get_json()["response"]
        return elapsed, len(response.data), answer or None  # Dash 4.4 may answer a no-op poll 200 with nothing

    # The shell's poll as the page sends it, built from the app's own callback (its outputs and states change from
    # version to version): this page's screen report, and what the last answer left in the browser's stores.
    shell_key = next(key for key in app.callback_map if "escalation-banner.children" in key)
    shell_spec = app.callback_map[shell_key]
    browser_stores: dict[tuple[str, str], Any] = {
        ("screen-report", "data"): {"screen": "bench0000screen00", "audio": "running", "page": "/"}}

    def shell_poll(n: int) -> tuple[float, int]:
        body = {"output": shell_key, "changedPropIds": ["shell-poll.n_intervals"],
                "outputs": [{"id": o.component_id, "property": o.component_property} for o in shell_spec["output"]],
                "inputs": [{"id": "shell-poll", "property": "n_intervals", "value": n}],
                "state": [{"id": d["id"], "property": d["property"],
                           "value": browser_stores.get((d["id"], d["property"]))} for d in shell_spec["state"]]}
        start = time.perf_counter()
        response = client.post("/_dash-update-component", json=body, headers=headers)
        elapsed = time.perf_counter() - start
        if response.status_code not in (200, 204):
            raise RuntimeError(f"shell callback answered {response.status_code}: {response.get_data()[:300]!r}")
        for component, props in (response.get_json()["response"] if response.status_code == 200 else {}).items():
            for prop, value in props.items():
                browser_stores[(component, prop)] = value
        return elapsed, len(response.data)

    try:  # a day of other screens' reports (page loads, reloads): what the coverage rule reads every poll
        from dashboard.store import screens
        for n in range(args.screens):
            screens.report(store, f"benchscreen{n:08d}", "nurse1", ("nurse", "clinician", "tester")[n % 3], "/",
                           ("running", "suspended", "none")[n % 3], clock[0] - n * 60)
    except ImportError:  # a version before the screens table (issue 22)
        pass

    # First sight: the whole board (the browser's starting copy).
    _, first_bytes, first = http_poll(1, {})
    board_copy = first["board"]["children"]
    seen_http = first["board-seen"]["data"]
    seen_direct = copy.deepcopy(seen_http)
    result.figures["first_poll_bytes"] = first_bytes
    print(f"first poll (whole board): {first_bytes:,} bytes")

    direct_s, direct_enc_s, direct_bytes = [], [], []
    http_s, http_bytes, shell_s = [], [], []
    obvious_s, obvious_build_s, obvious_bytes = [], [], []
    changed_polls = 0
    for step in range(1, args.steps + 1):
        clock[0] += 1.0
        for feed in feeds:  # each device report is its own submit, as the adapters do
            for item in feed.due(clock[0] - feed.started_at):
                ingest.submit(feed.chair, [item])
        ingest.step()

        order = ("direct", "http") if step % 2 else ("http", "direct")  # neither always runs on a warm cache
        for way in order:
            if way == "direct":
                start = time.perf_counter()
                children, memo = board.poll_board(store, seen_direct, clock[0])
                mid = time.perf_counter()
                wire = {}
                if children is not board.no_update:
                    wire = {"board": {"children": children}, "board-seen": {"data": memo}}
                payload = bl.dash_json({"multi": True, "response": wire}) if wire else b""
                end = time.perf_counter()
                direct_s.append(mid - start)
                direct_enc_s.append(end - start)
                direct_bytes.append(len(payload))
                if wire:
                    seen_direct = take(json.loads(payload)["response"]["board-seen"]["data"], seen_direct)
            else:
                elapsed, size, answer = http_poll(step + 1, seen_http)
                http_s.append(elapsed)
                http_bytes.append(size)
                if answer is not None:
                    changed_polls += 1
                    board_copy = take(answer["board"]["children"], board_copy)
                    seen_http = take(answer["board-seen"]["data"], seen_http)
        shell_s.append(shell_poll(step + 1)[0])

        if step % args.obvious_every == 0:
            start = time.perf_counter()
            tiles = obvious_board(store)
            mid = time.perf_counter()
            payload = bl.dash_json({"multi": True, "response": {"board": {"children": tiles}}})
            obvious_build_s.append(mid - start)
            obvious_s.append(time.perf_counter() - start)
            obvious_bytes.append(len(payload))

    # The browser's copy after every delta must equal a full render now.
    full_children, full_seen = board.poll_board(store, None, clock[0])
    full = json.loads(bl.dash_json(full_children))
    exact = full == board_copy and json.loads(bl.dash_json(full_seen)) == seen_http
    result.figures["deltas_reproduce_full_board"] = exact
    print(f"browser copy after {args.steps} deltas equals a full render: {exact}")

    f = result.figures
    f["chairs"], f["polls"], f["polls_with_changes"] = args.chairs, args.steps, changed_polls
    f["direct_poll_board"] = bl.stats_ms(direct_s)
    f["direct_poll_board_plus_json"] = bl.stats_ms(direct_enc_s)
    f["http_callback"] = bl.stats_ms(http_s)
    f["http_shell_poll"] = bl.stats_ms(shell_s)
    f["obvious_build"] = bl.stats_ms(obvious_build_s)
    f["obvious_build_plus_json"] = bl.stats_ms(obvious_s)
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    f["delta_bytes"] = {"p50": bl.percentile(http_bytes, 50), "p95": bl.percentile(http_bytes, 95),
                        "max": max(http_bytes), "mean": round(mean(http_bytes), 1)}
    f["direct_bytes_mean"] = round(mean(direct_bytes), 1)
    f["obvious_bytes"] = {"p50": bl.percentile(obvious_bytes, 50), "mean": round(mean(obvious_bytes), 1)}
    ratio_mean = mean(obvious_bytes) / max(mean(http_bytes), 1)
    ratio_p95 = bl.percentile(obvious_bytes, 50) / max(bl.percentile(http_bytes, 95), 1)
    f["payload_ratio_mean"] = round(ratio_mean, 1)
    f["payload_ratio_obvious_vs_delta_p95"] = round(ratio_p95, 1)
    f["server_time_ratio_obvious_vs_http_p50"] = round(f["obvious_build_plus_json"]["p50_ms"]
                                                       / f["http_callback"]["p50_ms"], 1)

    print()
    print(f"{'per poll, 24 chairs':38} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, key in (("poll_board() direct", "direct_poll_board"),
                       ("poll_board() + Dash JSON", "direct_poll_board_plus_json"),
                       ("HTTP callback (test client, tester)", "http_callback"),
                       ("HTTP shell poll (banners, sound, screen)", "http_shell_poll"),
                       ("obvious board: figures + JSON", "obvious_build_plus_json")):
        s = f[key]
        print(f"{label:38} {s['p50_ms']:8.2f} {s['p95_ms']:8.2f} {s['max_ms']:8.2f}")
    print(f"bytes per poll: delta p50 {f['delta_bytes']['p50']:,.0f}  p95 {f['delta_bytes']['p95']:,.0f}  "
          f"mean {f['delta_bytes']['mean']:,.0f};  obvious p50 {f['obvious_bytes']['p50']:,.0f}")
    print(f"payload ratio obvious/delta: {ratio_mean:,.0f}x on the mean, {ratio_p95:,.0f}x against the delta's p95")
    result.target("board poll p95, direct poll_board()", f["direct_poll_board"]["p95_ms"], 25, "ms")
    result.target("board poll p95, HTTP callback", f["http_callback"]["p95_ms"], 25, "ms")
    result.target("payload smaller than re-sending figures (mean)", ratio_mean, 20, "x", higher_is_better=True)
    result.target("payload smaller than re-sending figures (delta p95)", ratio_p95, 20, "x", higher_is_better=True)
    result.save()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
