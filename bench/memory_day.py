"""Target 6: the server's RSS stays flat over an 8-hour, 24-chair simulated day.

The real server runs as a subprocess (bench/day_server.py: `python app.py serve` with a 24-chair simulated
clinic, ingest, replays and the web in one process) at `--speed` x, so 8 clinic hours pass in
8 h / speed of wall time, with chairs discharging and taking new patients throughout. A nurse's browser is
played by this script over HTTP: signed in through the login form, it polls the board (applying each Patch
to its copy, as the browser does) and the shell (escalation banner and alarm sound) every second; every 30 s
it opens another chair's live page (the router callback) and polls it every second with the state the page
gave it, as the browser does. The server's RSS is sampled every `--sample` seconds (psutil).

Reported: RSS at start (after start-up and catch-up), at the end and its maximum, the least-squares slope
over the second half (MB per clinic hour), sessions opened and ended, readings stored, and how far ingest
was behind at the end (so that a backlog is not mistaken for a leak).

    python bench/memory_day.py [--hours 8] [--speed 240] [--chairs 24]
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from typing import Any

import benchlib as bl
from board_poll import take


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """A signed-in nurse over plain HTTP: cookies, the login form's token, Dash callback POSTs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def sign_in(self) -> None:
        page = self.opener.open(self.url + "/login", timeout=10).read().decode()
        token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        data = urllib.parse.urlencode({"csrf": token, "username": "bench-nurse", "password": bl.PASSWORD}).encode()
        request = urllib.request.Request(self.url + "/login?next=/", data=data, headers={"Origin": self.url})
        self.opener.open(request, timeout=10).read()

    def callback(self, body: dict[str, Any]) -> tuple[int, Any]:
        request = urllib.request.Request(self.url + "/_dash-update-component", data=json.dumps(body).encode(),
                                         headers={"Origin": self.url, "Content-Type": "application/json"})
        with self.opener.open(request, timeout=30) as response:
            raw = response.read()
            return len(raw), (json.loads(raw) if raw else None)


def find_prop(tree: Any, component_id: str, prop: str) -> Any:
    """The `prop` of the component with id `component_id` anywhere in a Dash layout as JSON, or None."""
    if isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict) and props.get("id") == component_id:
            return props.get(prop)
        for value in tree.values():
            found = find_prop(value, component_id, prop)
            if found is not None:
                return found
    elif isinstance(tree, list):
        for value in tree:
            found = find_prop(value, component_id, prop)
            if found is not None:
                return found
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=8)
    parser.add_argument("--speed", type=float, default=240)
    parser.add_argument("--chairs", type=int, default=24)
    parser.add_argument("--sample", type=float, default=2.0, help="seconds between RSS samples")
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for the server (a diagnosis, e.g. MALLOC_ARENA_MAX=2)")
    args = parser.parse_args()
    info = bl.machine()
    bl.print_machine(info)
    result = bl.Result("memory_day", bl.command_line(), info)

    import psutil

    from dashboard.store import Store

    tmp = bl.scratch_dir("bench-day-")
    db = tmp / "day.db"
    store = Store.open(db)
    bl.add_users(store)
    store.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp / "server.log"
    server = subprocess.Popen([sys.executable, str(bl.ROOT / "bench" / "day_server.py"), "--database", str(db),
                               "--port", str(port), "--speed", str(args.speed), "--chairs", str(args.chairs)],
                              cwd=bl.ROOT, stdout=log_path.open("w"), stderr=subprocess.STDOUT,
                              env={**os.environ, **dict(kv.split("=", 1) for kv in args.server_env)})
    proc = psutil.Process(server.pid)
    samples: list[tuple[float, float, int]] = []  # (wall since live, RSS MB, threads)
    poll_s: list[float] = []
    poll_bytes: list[int] = []
    errors = 0
    try:
        started = time.time()
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"server exited:\n{log_path.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(url + "/login", timeout=2).read()
                break
            except OSError:
                if time.time() - started > 120:
                    raise RuntimeError(f"server not up:\n{log_path.read_text()[-3000:]}") from None
                time.sleep(0.2)
        live = time.time()
        print(f"server up in {live - started:.1f} s; running {args.hours:g} clinic hours at {args.speed:g}x "
              f"= {args.hours * 3600 / args.speed:.0f} s")
        browser = Browser(url)
        browser.sign_in()
        board_children: Any = []
        seen: Any = {}
        page_state: Any = None
        n = 0
        next_sample = live
        end = live + args.hours * 3600 / args.speed
        while time.time() < end:
            tick = time.time()
            n += 1
            try:
                t0 = time.perf_counter()
                size, answer = browser.callback(bl.callback_body(
                    [("board", "children"), ("board-seen", "data")], [("board-poll", "n_intervals", n)],
                    [("board-seen", "data", seen)]))
                poll_s.append(time.perf_counter() - t0)
                poll_bytes.append(size)
                if answer:
                    board_children = take(answer["response"]["board"]["children"], board_children)
                    seen = take(answer["response"]["board-seen"]["data"], seen)
                browser.callback(bl.callback_body([("escalation-banner", "children"), ("alarm-sound", "data")],
                                                  [("shell-poll", "n_intervals", n)]))
                sids = (seen or {}).get("order") or []
                if sids and (n % 30 == 1 or page_state is None):  # every 30 s the nurse opens another chair's page
                    sid = int(sids[n // 30 % len(sids)])
                    _, page = browser.callback(bl.callback_body([("page", "children")], [
                        ("url", "pathname", f"/session/{sid}"), ("url", "search", "")]))
                    page_state = find_prop(page, "session-state", "data")
                if page_state is not None:  # and its live page polls with the state the browser keeps
                    _, answer = browser.callback(bl.callback_body(
                        [("session-chart", "extendData"), ("session-chart", "figure"), ("session-header", "children"),
                         ("session-alarms", "children"), ("session-status", "children"), ("session-log", "children"),
                         ("session-state", "data")], [("session-poll", "n_intervals", n)],
                        [("session-state", "data", page_state)]))
                    page_state = ((answer or {}).get("response", {}).get("session-state", {}).get("data")
                                  or page_state)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors += 1
                if errors <= 3:
                    print(f"client error: {exc.__class__.__name__}: {exc}")
            if time.time() >= next_sample:
                samples.append((time.time() - live, proc.memory_info().rss / 1024 / 1024, proc.num_threads()))
                next_sample += args.sample
            time.sleep(max(0.0, 1.0 - (time.time() - tick)))
        wall = time.time() - live
    finally:
        bl.stop_process(server, timeout=30)

    with sqlite3.connect(db) as conn:
        readings = conn.execute("SELECT count(*) FROM readings").fetchone()[0]
        opened, ended = conn.execute("SELECT count(*), count(ended_at) FROM sessions").fetchone()
        newest = conn.execute("SELECT max(received_time) FROM readings").fetchone()[0]
    db_mb = sum(p.stat().st_size for p in tmp.glob("day.db*")) / 1024 / 1024

    def clinic_h(wall_s: float) -> float:
        return wall_s * args.speed / 3600

    def slope(points: list[tuple[float, float, int]]) -> float:
        xs, ys = [clinic_h(p[0]) for p in points], [p[1] for p in points]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / max(sum((x - mx) ** 2 for x in xs), 1e-9)

    warm = [p for p in samples if clinic_h(p[0]) >= 0.5] or samples  # after start-up, catch-up and the first polls
    second_half = [p for p in samples if p[0] >= wall / 2] or samples
    first_hour = [p[1] for p in warm if clinic_h(p[0]) < 1.5]
    f = result.figures
    f["clinic_hours"], f["speed"], f["chairs"], f["wall_s"] = args.hours, args.speed, args.chairs, round(wall, 1)
    f["server_env"] = args.server_env
    f["rss_mb"] = {"at_live": round(samples[0][1], 1), "start": round(bl.median(first_hour or [warm[0][1]]), 1),
                   "end": round(samples[-1][1], 1), "max": round(max(p[1] for p in samples), 1),
                   "slope_second_half_mb_per_clinic_h": round(slope(second_half), 2),
                   "slope_after_warmup_mb_per_clinic_h": round(slope(warm), 2)}
    f["threads"] = {"start": warm[0][2], "end": samples[-1][2], "max": max(p[2] for p in samples)}
    f["samples"] = [[round(clinic_h(t), 3), round(r, 1), th] for t, r, th in samples]
    f["sessions_opened"], f["sessions_ended"], f["readings_stored"] = opened, ended, readings
    f["db_mb"] = round(db_mb, 1)
    f["client"] = {"polls": len(poll_s), "errors": errors, "board_poll_http": bl.stats_ms(poll_s),
                   "board_bytes_mean": round(sum(poll_bytes) / max(len(poll_bytes), 1))}
    f["ingest_lag_s_at_end"] = round(time.time() - newest, 1) if newest else None
    r = f["rss_mb"]
    print(f"\n{args.hours:g} clinic hours in {wall:.0f} s: {opened} sessions opened, {ended} ended, "
          f"{readings:,} readings stored ({readings / wall:,.0f}/s), database {db_mb:.0f} MB")
    print(f"RSS MB: at live {r['at_live']}, start (clinic h 0.5-1.5) {r['start']}, end {r['end']}, max {r['max']}; "
          f"slope {r['slope_second_half_mb_per_clinic_h']} MB per clinic hour over the second half "
          f"({r['slope_after_warmup_mb_per_clinic_h']} after warm-up); threads {f['threads']}")
    print(f"board polls over HTTP while it ran: p50 {f['client']['board_poll_http']['p50_ms']:.1f} ms "
          f"p95 {f['client']['board_poll_http']['p95_ms']:.1f} ms; client errors {errors}")
    print("RSS by clinic hour: " + "  ".join(f"{h:.1f}h {rss:.0f}" for h, rss, _ in f["samples"][::max(len(samples) // 16, 1)]))
    growth = r["end"] - r["start"]
    result.target("RSS growth from the first clinic hour to the end", growth, max(10.0, 0.05 * r["start"]), "MB")
    result.target("RSS slope over the second half of the day", r["slope_second_half_mb_per_clinic_h"], 2.0,
                  "MB per clinic hour")
    result.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
