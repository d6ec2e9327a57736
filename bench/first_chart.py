"""Issue 12: the first session chart is not held up by the cold 4.8 MB plotly bundle. Target: the first chart on an
idle machine <= 2 s.

A store holds one real session an hour in (1 Hz oximetry, NIBP every 5 min, from the simulator). The real server
runs as a subprocess (`python app.py serve --no-simulator`) and headless Chromium, each trial with a fresh
profile (a cold cache), measures on the page:

- board -> chart: sign in, the board (the nurse's home) is drawn, 3 s pass (a nurse looks at the board), the
  tile is clicked; time from the click to the chart drawn with its traces;
- direct, cold: sign in straight to /session/ID; time from that page's navigation start to the chart drawn;
- next visit: the same profile in a new browser (the HTTP cache kept, as the next shift), straight to the
  session; time to the chart, and the bytes plotly.js cost on the wire.

Issue 22: a link to a session page (the one an alarm message carries to a nurse's phone) opens in <= 2 s from a
cold browser. "Opens" here is what the nurse needs first, usable: the chair, its vitals and phase (the header),
the active alarms with their Acknowledge button drawn, and a click on Acknowledge answered (the page's own
"Acknowledged ..." message). An observer installed into every document (CDP) clicks Acknowledge the moment it is
drawn, as a nurse would, and records in the page's own clock (navigation start = 0):
- status: the header and the alarms with Acknowledge drawn (and painted: the next animation frame);
- acknowledged: that click's answer on screen;
- chart: the chart drawn with its traces (as before).
Each cold trial opens its own session (the severe-BP scenario an hour in: an active HIGH alarm to acknowledge).
Two ways in: signed in from the sign-in page straight to the session (as before), and the link itself while
signed out (`/session/ID` -> /login -> back to the session): the sign-in page's own load (navigation -> the form
ready) and submit -> status; the typing in between is the nurse's.

Each on the loopback and on a clinic Wi-Fi emulated by Chromium (30 Mbit/s, 20 ms each way). The bytes are the
page's own Resource Timing for plotly.min.js (transferSize: 0 or a few hundred bytes when the cache answered).

On a shared machine the wall time mostly measures the wait for a core, so each trial also records the CPU the
work took: Chromium's processes (psutil, every process under chromedriver) and the server's, from the click (or
the navigation) to the chart. On an idle machine with two cores the first chart takes at most about their sum.

    python bench/first_chart.py [--repeats 3] [--cold-only]   # --cold-only: issue 22's cold link alone
    BENCH_CODE_ROOT=/path/to/a/checkout/of/the/base python bench/first_chart.py   # the same, before the fixes
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib as bl

WIFI = {"offline": False, "latency": 40, "downloadThroughput": 30e6 / 8, "uploadThroughput": 10e6 / 8}
PHONE = {**WIFI, "cpu_slowdown": 4}  # a mid-range phone: Chromium's own CPU throttling (DevTools' "4x slowdown")
CHART = "!!document.querySelector('#session-chart .js-plotly-plot .main-svg .scatterlayer .trace')"
CHART_JS = f"return {CHART}"
# Installed into every new document: on a session page, records when what a nurse needs first is drawn and
# clicks Acknowledge at once; `window.__opened` holds performance.now() of each milestone.
MILESTONES_JS = """
(function () {
  if (!location.pathname.startsWith('/session/')) return;
  const opened = window.__opened = {};
  const now = () => performance.now();
  const status = () => {
    const head = document.getElementById('session-header'), ack = document.querySelector('#session-alarms .ack-button');
    return head && head.textContent.trim() && ack && ack.offsetParent ? ack : null;
  };
  const watch = new MutationObserver(() => {
    const ack = opened.status_dom === undefined && status();
    if (ack) {
      opened.status_dom = now();
      requestAnimationFrame(() => { opened.status = now(); });
      ack.click();
    }
    const message = document.getElementById('ack-message');
    if (opened.acknowledged === undefined && message && message.textContent.includes('Acknowledged'))
      opened.acknowledged = now();
    if (opened.chart === undefined && CHART) opened.chart = now();
    if (opened.chart !== undefined && opened.acknowledged !== undefined) watch.disconnect();
  });
  watch.observe(document, {childList: true, subtree: true, attributes: true});
})();
""".replace("CHART", CHART)
OPENED_JS = "const o = window.__opened || {}; return o.status && o.acknowledged && o.chart ? o : null"
PLOTLY_JS = """return performance.getEntriesByType('resource').filter(e => e.name.includes('plotly.min'))
  .map(e => ({transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize}));"""
SESSION_S = 3600.0
ALARMED = "esketamine-84-severe"  # an hour in: its HIGH BP alarm is active, with Acknowledge


def prepare(db: Path, chair: str = "Chair 01", name: str = "esketamine-84-typical", users: bool = True) -> int:
    """One real session an hour in, its items folded through a real Ingest."""
    from dashboard.engine import load_config
    from dashboard.service.ingest import Ingest
    from dashboard.store import Store
    from devices.simulator import scenario, session_items

    config = load_config()
    store = Store.open(db)
    if users:
        bl.add_users(store)
    scn = scenario(name)
    now = time.time()
    sid = store.create_session(chair=chair, patient_label=f"Bench {chair}", protocol=scn.protocol,
                               started_at=now - SESSION_S, dose=scn.dose_detail)
    ingest = Ingest(store, config)
    ingest.refresh()
    items = [i for i in session_items(scn, 11, config) if (i.offset_s or 0.0) <= SESSION_S - 5]
    for start in range(0, len(items), 500):
        ingest.submit(chair, items[start:start + 500])
    ingest.flush()
    store.close()
    return sid


def browser(profile: Path, network: dict[str, Any] | None) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--window-size=1920,1080"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options)
    driver.set_script_timeout(120)  # a busy machine
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": MILESTONES_JS})
    if network:
        conditions = {k: v for k, v in network.items() if k != "cpu_slowdown"}
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", conditions)
    if network and network.get("cpu_slowdown"):
        driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": network["cpu_slowdown"]})
    return driver


def until(driver: Any, script: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not driver.execute_script(script):
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited {timeout:.0f} s for: {script}")
        time.sleep(0.02)


def sign_in(driver: Any, url: str, then: str) -> None:
    driver.get(f"{url}/login?next={then}")
    driver.find_element("id", "login-user").send_keys("bench-nurse")
    driver.find_element("id", "login-password").send_keys(bl.PASSWORD)
    driver.find_element("id", "login-submit").click()


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (a process gone since counts as 0)."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def chromium_processes(driver: Any) -> dict[str, list[int]]:
    """Chromium's processes by kind (renderer, gpu-process, utility...; 'browser' for the main one)."""
    import psutil

    kinds: dict[str, list[int]] = {}
    for process in psutil.Process(driver.service.process.pid).children(recursive=True):
        try:
            kind = next((a.split("=", 1)[1] for a in process.cmdline() if a.startswith("--type=")), "browser")
        except psutil.Error:
            continue
        kinds.setdefault(kind, []).append(process.pid)
    return kinds


class CPU:
    """CPU spent by Chromium (by kind of process) and the server between `start()` and `stop()`."""

    def __init__(self, driver: Any, server_pid: int) -> None:
        self.driver, self.server_pid = driver, server_pid

    def start(self) -> None:
        self.kinds = chromium_processes(self.driver)
        self.before = {kind: cpu_s(pids) for kind, pids in self.kinds.items()}
        self.server_before = cpu_s([self.server_pid])

    def stop(self) -> dict[str, Any]:
        by_kind = {kind: cpu_s(pids) - self.before[kind] for kind, pids in self.kinds.items()}
        return {"browser_cpu_s": sum(by_kind.values()), "server_cpu_s": cpu_s([self.server_pid]) - self.server_before,
                "browser_cpu_by_kind_s": by_kind}


def board_then_chart(url: str, profile: Path, network: dict[str, Any] | None, server_pid: int) -> dict[str, Any]:
    driver = browser(profile, network)
    try:
        sign_in(driver, url, "/")
        until(driver, "return !!document.querySelector('.board > .tile')")
        time.sleep(10)  # the nurse looks at the board first
        cpu = CPU(driver, server_pid)
        cpu.start()
        clicked = driver.execute_script("document.querySelector('.board > .tile').click(); return performance.now()")
        until(driver, CHART_JS)
        drawn = driver.execute_script("return performance.now()")
        return {"s": (drawn - clicked) / 1000, **cpu.stop(), "plotly": driver.execute_script(PLOTLY_JS)}
    finally:
        driver.quit()


def signed_in_to(driver: Any, url: str, sid: int, server_pid: int) -> CPU:
    """Signs in from the sign-in page straight to session `sid`; the CPU clock starts at the submit."""
    cpu = CPU(driver, server_pid)
    driver.get(f"{url}/login?next=/session/{sid}")
    driver.find_element("id", "login-user").send_keys("bench-nurse")
    driver.find_element("id", "login-password").send_keys(bl.PASSWORD)
    cpu.start()
    driver.find_element("id", "login-submit").click()
    until(driver, "return location.pathname.startsWith('/session/')")
    return cpu


def direct(url: str, sid: int, profile: Path, network: dict[str, Any] | None, server_pid: int) -> dict[str, Any]:
    driver = browser(profile, network)
    try:
        cpu = signed_in_to(driver, url, sid, server_pid)
        until(driver, CHART_JS)
        drawn = driver.execute_script("return performance.now()")  # from this page's navigation start
        return {"s": drawn / 1000, **cpu.stop(), "plotly": driver.execute_script(PLOTLY_JS)}
    finally:
        driver.quit()


def opened(driver: Any) -> dict[str, float]:
    """The session page's milestones in seconds from its navigation start (waits for all three)."""
    deadline = time.monotonic() + 120
    while not (found := driver.execute_script(OPENED_JS)):
        if time.monotonic() > deadline:
            seen = driver.execute_script("return window.__opened")
            raise RuntimeError(f"waited 120 s for the session page's milestones (seen: {seen})")
        time.sleep(0.05)
    return {f"{key}_s": found[key] / 1000 for key in ("status", "acknowledged", "chart")}


def direct_cold(url: str, sid: int, profile: Path, network: dict[str, Any] | None,
                server_pid: int) -> dict[str, Any]:
    """Signed in from the sign-in page straight to a session with an alarm: its milestones."""
    driver = browser(profile, network)
    try:
        cpu = signed_in_to(driver, url, sid, server_pid)
        found = opened(driver)
        return {"s": found["chart_s"], **found, **cpu.stop(), "plotly": driver.execute_script(PLOTLY_JS)}
    finally:
        driver.quit()


EPOCH_MS_JS = "return performance.timeOrigin + performance.now()"
LOGIN_READY_JS = "return performance.now()"


def signed_out_link(url: str, sid: int, profile: Path, network: dict[str, Any] | None,
                    server_pid: int) -> dict[str, Any]:
    """The link itself, signed out: /session/ID -> /login (its load timed) -> submit -> the session's status."""
    driver = browser(profile, network)
    try:
        cpu = CPU(driver, server_pid)
        cpu.start()
        driver.get(f"{url}/session/{sid}")
        until(driver, "return !!document.getElementById('login-submit')")
        form_ready = driver.execute_script(
            "const n = performance.getEntriesByType('navigation')[0]; return n.domContentLoadedEventEnd")
        driver.find_element("id", "login-user").send_keys("bench-nurse")
        driver.find_element("id", "login-password").send_keys(bl.PASSWORD)
        submitted = driver.execute_script(EPOCH_MS_JS)
        driver.find_element("id", "login-submit").click()
        until(driver, "return location.pathname.startsWith('/session/')")
        found = opened(driver)
        origin = driver.execute_script("return performance.timeOrigin")
        status_after_submit = (origin + found["status_s"] * 1000 - submitted) / 1000
        return {"s": form_ready / 1000 + status_after_submit, "login_form_s": form_ready / 1000,
                "submit_to_status_s": status_after_submit,
                "submit_to_acknowledged_s": (origin + found["acknowledged_s"] * 1000 - submitted) / 1000,
                **cpu.stop(), "plotly": driver.execute_script(PLOTLY_JS)}
    finally:
        driver.quit()


def start_server(db: Path, tmp: Path) -> tuple[subprocess.Popen, str]:
    port = bl.free_port()
    server = bl.serve(db, tmp / f"server-{port}.log", port=port)
    return server.process, server.url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cold-only", action="store_true", help="only the cold direct link (issue 22)")
    args = parser.parse_args()
    info = bl.machine()
    bl.print_machine(info)
    result = bl.Result("first_chart", bl.command_line(), info)
    tmp = bl.scratch_dir("bench-first-chart-")
    sid = prepare(tmp / "clinic.db")
    networks = (("loopback", None), ("wifi", WIFI), ("phone", PHONE))
    # each cold trial acknowledges an alarm: a session of its own
    alarmed = iter([prepare(tmp / "clinic.db", f"Cold {n}", ALARMED, users=False)
                    for n in range(len(networks) * args.repeats * 2)])
    server, url = start_server(tmp / "clinic.db", tmp)
    runs: dict[str, list[dict[str, Any]]] = {}
    try:
        for net_name, network in networks:
            for _ in range(args.repeats):
                if not args.cold_only and net_name != "phone":
                    profile = Path(tempfile.mkdtemp(dir=tmp, prefix="profile-"))
                    runs.setdefault(f"{net_name}: board -> chart", []).append(
                        board_then_chart(url, profile, network, server.pid))
                    runs.setdefault(f"{net_name}: next visit", []).append(
                        direct(url, sid, profile, network, server.pid))
                cold = Path(tempfile.mkdtemp(dir=tmp, prefix="profile-"))
                runs.setdefault(f"{net_name}: direct, cold", []).append(
                    direct_cold(url, next(alarmed), cold, network, server.pid))
                cold = Path(tempfile.mkdtemp(dir=tmp, prefix="profile-"))
                runs.setdefault(f"{net_name}: signed-out link, cold", []).append(
                    signed_out_link(url, next(alarmed), cold, network, server.pid))
    finally:
        bl.stop_process(server)
    print(f"\n{'first chart':34} {'wall s':>7} {'browser CPU s':>14} {'server CPU s':>13} {'CPU sum':>8}  "
          "plotly.js on the wire (bytes)")
    for name, trials in runs.items():
        figures = {key: statistics.median(t[key] for t in trials) for key in ("s", "browser_cpu_s", "server_cpu_s")}
        wire = [t["plotly"][0]["transfer"] if t["plotly"] else None for t in trials]
        milestones = {f"median_{key}": statistics.median(t[key] for t in trials) for key in trials[0]
                      if key.endswith("_s") and key not in ("s", "browser_cpu_s", "server_cpu_s", "browser_cpu_by_kind_s")}
        result.figures[name] = {"median_wall_s": figures["s"], "median_browser_cpu_s": figures["browser_cpu_s"],
                                "median_server_cpu_s": figures["server_cpu_s"],
                                "cpu_sum_s": figures["browser_cpu_s"] + figures["server_cpu_s"], **milestones,
                                "trials": [{k: v for k, v in t.items() if k != "plotly"} for t in trials],
                                "plotly_transfer_bytes": wire}
        print(f"{name:34} {figures['s']:7.2f} {figures['browser_cpu_s']:14.2f} {figures['server_cpu_s']:13.2f} "
              f"{figures['browser_cpu_s'] + figures['server_cpu_s']:8.2f}  {wire}")
        for key, value in milestones.items():
            print(f"    {key[len('median_'):-2]:30} {value:7.2f} s (median)")
    if not args.cold_only:
        result.target("first chart, loopback: board -> chart: CPU it took (browser + server, median)",
                      result.figures["loopback: board -> chart"]["cpu_sum_s"], 2.0, "s")
    for name in ("loopback: direct, cold", "wifi: direct, cold", "phone: direct, cold"):
        result.target(f"cold direct link, {name}: status and Acknowledge answered (median)",
                      result.figures[name]["median_acknowledged_s"], 2.0, "s")
    result.figures["load_average"] = os.getloadavg()
    result.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
