"""What every benchmark shares: the machine it ran on, percentiles, a simulated clinic in a store,
a signed-in Flask test client, and the JSON each script leaves in bench/out/ for run_all.py.

Benchmarks are plain scripts run from the repository root (`python bench/NAME.py`); this module puts the
repository on sys.path so they import the project as the app does. Nothing here is imported by the app.
"""
from __future__ import annotations

import dataclasses
import json
import os
import platform
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

ROOT = Path(__file__).resolve().parents[1]
# BENCH_CODE_ROOT=/path/to/a/patched/copy measures that copy's dashboard/ and devices/ with these scripts
# (how the fixes proposed in RESULTS.md were measured); unset, the repository itself.
CODE_ROOT = Path(os.environ.get("BENCH_CODE_ROOT") or ROOT).resolve()
if str(CODE_ROOT) not in sys.path:
    sys.path.insert(0, str(CODE_ROOT))
OUT = ROOT / "bench" / "out"

PASSWORD = "bench-password-not-secret"

# A mixed clinic: quiet sessions, the severe peak, desaturations, artifacts, a pre-dose wait, IV infusions.
CLINIC_SCENARIOS = (
    "esketamine-84-quiet", "esketamine-56-quiet", "iv-quiet", "esketamine-84-severe", "esketamine-84-typical",
    "esketamine-84-desaturation", "esketamine-84-artifacts", "esketamine-56-predose-wait",
    "esketamine-84-outlier", "iv-typical", "esketamine-56-typical", "predose-high",
)


# ---- the machine -------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    """nproc, CPU model, RAM, Python and the versions that matter, plus the load when the run began."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "?"
    ram_gb = None
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
        ram_gb = round(kb / 1024 / 1024, 1)
    except (OSError, AttributeError):
        pass
    versions = {}
    for name in ("dash", "plotly", "pandas", "numpy", "sqlalchemy", "flask"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - a missing package is reported, not fatal
            versions[name] = "?"
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu,
        "ram_gb": ram_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
        "git": _git(),
        "code_root": str(CODE_ROOT),
    }


def _git() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True,
                               timeout=10).stdout.splitlines()
        return f"{head} (+{len(dirty)} uncommitted paths)" if dirty else head
    except (OSError, subprocess.SubprocessError):
        return "?"


def print_machine(info: dict[str, Any]) -> None:
    print(f"machine: nproc={info['nproc']}  cpu={info['cpu']}  ram={info['ram_gb']} GB  python={info['python']}  "
          f"sqlite={info['sqlite']}  load={info['loadavg_at_start']}")
    print(f"         {' '.join(f'{k}={v}' for k, v in info['versions'].items())}  git={info['git']}")
    if CODE_ROOT != ROOT:
        print(f"         measuring the code at {CODE_ROOT} (BENCH_CODE_ROOT)")


# ---- figures -----------------------------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), q in 0..100."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def stats_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/max/mean in milliseconds of durations given in seconds."""
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 3), "p95_ms": round(percentile(ms, 95), 3),
            "max_ms": round(max(ms), 3) if ms else float("nan"), "mean_ms": round(sum(ms) / len(ms), 3) if ms else 0}


def median(values: Iterable[float]) -> float:
    return percentile(list(values), 50)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def timed_cpu(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, this process's CPU seconds, result): CPU time is less disturbed by other jobs."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


@dataclass
class Result:
    """What one benchmark found; written to bench/out/NAME.json and printed."""

    name: str
    command: str
    machine: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict)
    targets: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def target(self, what: str, value: float, limit: float, unit: str, higher_is_better: bool = False) -> bool:
        ok = value >= limit if higher_is_better else value <= limit
        self.targets.append({"what": what, "value": value, "limit": limit, "unit": unit,
                             "op": ">=" if higher_is_better else "<=", "met": ok})
        print(f"TARGET {what}: {value:,.3f} {unit} (target {'>=' if higher_is_better else '<='} {limit:,} {unit}) "
              f"-> {verdict(ok)}")
        return ok

    def save(self) -> Path:
        OUT.mkdir(parents=True, exist_ok=True)
        tag = "" if CODE_ROOT == ROOT else f"@{CODE_ROOT.name}"  # a patched copy's figures never replace the real ones
        path = OUT / f"{self.name}{tag}.json"
        path.write_text(json.dumps(dataclasses.asdict(self), indent=2, default=str))
        print(f"wrote {path.relative_to(ROOT)}")
        return path


def command_line() -> str:
    script = Path(sys.argv[0]).resolve()
    try:
        script_text = str(script.relative_to(ROOT))
    except ValueError:
        script_text = str(script)
    return " ".join(["python", script_text, *sys.argv[1:]])


def scratch_dir(prefix: str) -> Path:
    """A temporary directory for a run's databases and logs, removed at exit (kept with BENCH_KEEP=1)."""
    import atexit
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix=prefix))
    if not os.environ.get("BENCH_KEEP"):
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


class Databases:
    """Fresh, empty stores for a run's variants: SQLite files in `tmp`, or with `server_url` (a PostgreSQL server)
    a schema each on that server, dropped at exit (kept with BENCH_KEEP=1)."""

    def __init__(self, tmp: Path, server_url: str | None = None) -> None:
        self.tmp, self.server_url = tmp, server_url
        self.kind = "PostgreSQL" if server_url else "SQLite"

    def fresh(self, name: str) -> Any:
        from dashboard.store import Store

        if not self.server_url:
            return Store.open(self.tmp / f"{name}.db")
        import atexit
        import uuid

        import sqlalchemy as sa

        schema = f"bench_{name}_{uuid.uuid4().hex[:8]}".lower()
        admin = sa.create_engine(self.server_url, poolclass=sa.pool.NullPool)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        if not os.environ.get("BENCH_KEEP"):
            atexit.register(_drop_schema, admin, schema)
        url = sa.engine.make_url(self.server_url).update_query_dict({"options": f"-csearch_path={schema}"})
        return Store(url.render_as_string(hide_password=False))


def _drop_schema(admin: Any, schema: str) -> None:
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    admin.dispose()


# ---- a simulated clinic in a store -------------------------------------------------------------------

@dataclass
class ChairFeed:
    """One chair's simulated session, fed into an Ingest up to a session time."""

    chair: str
    session_id: int
    scenario: str
    items: list[Any]
    started_at: float
    position: int = 0
    simulated: bool = True  # a simulated clinic's session; False: a real one, as monitors over HL7 feed

    @property
    def end_s(self) -> float:
        return float(self.items[-1].offset_s or 0.0)

    def due(self, session_t: float) -> list[Any]:
        """The items with offset_s <= session_t not yet handed out."""
        start = self.position
        while self.position < len(self.items) and (self.items[self.position].offset_s or 0.0) <= session_t:
            self.position += 1
        return self.items[start:self.position]


def four_hour_scenario(base: str = "esketamine-84-typical"):
    """A 4-hour session: the scenario's course, observation held on so the 1 Hz oximeter runs to 4 h."""
    from devices.simulator import scenario

    return dataclasses.replace(scenario(base), name=f"{base}-4h", min_session_s=4 * 3600)


def four_hour_session(db: Path, config: Any, simulated: bool) -> tuple[Any, int, int]:
    """(store, session id, items folded): a finished 4-hour esketamine session with a severe peak (1 Hz oximetry),
    ended a minute ago, folded through a real Ingest into a new store at `db`; a simulated clinic's, or a real one."""
    from dashboard.service.ingest import Ingest
    from dashboard.store import Store
    from devices.simulator import session_items

    store = Store.open(db)
    scn = four_hour_scenario("esketamine-84-severe")
    items = list(session_items(scn, 3, config))
    wall = float(int(time.time()))
    clock = [wall]
    ingest = Ingest(store, config, clock=lambda: clock[0])
    start = wall - (items[-1].offset_s or 0.0) - 60
    sid = store.create_session(chair="Chair 01", patient_label="Bench 4h", protocol=scn.protocol, started_at=start,
                               speed=1.0, scenario=scn.name if simulated else None, seed=3, dose=scn.dose_detail)
    catch_up(ingest, [ChairFeed("Chair 01", sid, scn.name, items, start, simulated=simulated)], wall, clock)
    return store, sid, len(items)


def open_clinic(store: Any, config: Any, chairs: int, wall: float, seed: int = 11,
                elapsed_min: Callable[[int, float], float] | None = None, simulated: bool = True) -> list[ChairFeed]:
    """`chairs` open sessions, chair i running scenario CLINIC_SCENARIOS[i % n], each started so that at
    `wall` it stands `elapsed_min(i, end_min)` minutes in (default: spread over 5..100 min, never past its end
    less 15 min, so no discharge happens during a bench). Not `simulated`: real sessions (no scenario), whose
    history counts as a real device's, for benches whose monitors then send over HL7 (a real device's reading
    never goes into a simulated session)."""
    from devices.simulator import scenario, session_items

    feeds = []
    for i in range(chairs):
        scn = scenario(CLINIC_SCENARIOS[i % len(CLINIC_SCENARIOS)])
        items = list(session_items(scn, seed + i, config))
        end_min = (items[-1].offset_s or 0.0) / 60
        # chairs start at different seconds, as real ones do: their minute-by-minute texts do not all turn at once
        elapsed = elapsed_min(i, end_min) if elapsed_min else min(5 + (i * 37) % 96 + (i * 17 % 60) / 60, end_min - 15)
        started_at = wall - elapsed * 60
        sid = store.create_session(chair=f"Chair {i + 1:02d}", patient_label=f"Bench {i + 1:02d}",
                                   protocol=scn.protocol, started_at=started_at, speed=1.0,
                                   scenario=scn.name if simulated else None, seed=seed + i, dose=scn.dose_detail)
        feeds.append(ChairFeed(f"Chair {i + 1:02d}", sid, scn.name, items, started_at, simulated=simulated))
    return feeds


def catch_up(ingest: Any, feeds: Sequence[ChairFeed], wall: float, clock: list[float], chunk: int = 500) -> int:
    """Submit every item due at `wall` (in chunks, as SimulatedChair's catch-up does) and fold it all.

    `clock` is the cell the ingest's clock reads. It is held at 0 while the backlog is folded and set to `wall`
    after: Ingest.step advances every live session's timers to the wall clock after draining at most
    MAX_ITEMS_PER_STEP items, so a backlog larger than that would have the later chairs' readings clamped
    to one session time (see bench/RESULTS.md, "catch-up"). Held at 0 the timers fire only from the items."""
    clock[0] = 0.0
    ingest.refresh()
    count = 0
    for feed in feeds:
        due = feed.due(wall - feed.started_at)
        for start in range(0, len(due), chunk):
            # a simulated session takes only the simulator's items (a real device's never goes into a test session)
            ingest.submit(feed.chair, due[start:start + chunk], simulated=feed.simulated)
        count += len(due)
    ingest.flush()
    clock[0] = wall
    ingest.step()  # the timers due by now (less ingest's lag), as the live loop's next step would
    return count


# ---- the web -----------------------------------------------------------------------------------------

def add_users(store: Any) -> None:
    from dashboard.auth import AuthError, add_user

    for role in ("nurse", "clinician", "tester", "admin"):
        try:
            add_user(store, f"bench-{role}", role, PASSWORD)
        except AuthError:
            pass


def signed_in_client(app: Any, role: str = "nurse") -> Any:
    """A Flask test client signed in through the real login form (tests/auth/test_auth.py `signed_in`)."""
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post("/login?next=/", data={"csrf": token, "username": f"bench-{role}",
                                                  "password": PASSWORD}, headers={"Origin": "http://localhost"})
    if response.status_code != 302:
        raise RuntimeError(f"sign-in failed: {response.status_code} {response.get_data(as_text=True)[:200]}")
    return client


def callback_body(outputs: Sequence[tuple[str, str]], inputs: Sequence[tuple[str, str, Any]],
                  state: Sequence[tuple[str, str, Any]] = (), changed: Sequence[str] | None = None) -> dict[str, Any]:
    """The JSON the Dash renderer POSTs to /_dash-update-component for one callback."""
    key = outputs[0][0] + "." + outputs[0][1] if len(outputs) == 1 else \
        ".." + "...".join(f"{i}.{p}" for i, p in outputs) + ".."
    return {
        "output": key,
        "outputs": [{"id": i, "property": p} for i, p in outputs] if len(outputs) > 1
        else {"id": outputs[0][0], "property": outputs[0][1]},
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        "changedPropIds": list(changed) if changed is not None else [f"{i}.{p}" for i, p, _ in inputs],
    }


def dash_json(value: Any) -> bytes:
    """Serialise a callback's return value the way Dash does (plotly's encoder)."""
    from dash._utils import to_json

    return to_json(value).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    """The real server a bench started (`app.py serve --no-simulator`), once it answers."""

    process: subprocess.Popen
    url: str
    log: Path
    up_after_s: float  # from the start to the first answer


def serve(db: Path, log: Path, port: int | None = None, hl7_port: int | None = None, args: Sequence[str] = (),
          env: dict[str, str] | None = None, web: bool = True, timeout: float = 90) -> Served:
    """Start `app.py serve --no-simulator` on `db` (with `--hl7-port` when given, and `args`) and wait until its
    login page answers (unless not `web`) and its HL7 port accepts (when given); the log's tail if it exits or
    never answers."""
    port = port or free_port()
    argv = [sys.executable, "app.py", "serve", "--no-simulator", "--database", str(db), "--port", str(port), *args]
    if hl7_port is not None and "--devices" not in args:
        argv += ["--hl7-port", str(hl7_port)]
    url = f"http://127.0.0.1:{port}"
    started = time.time()
    process = subprocess.Popen(argv, cwd=CODE_ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
                               env=dict(os.environ) if env is None else env)
    while not _answers(url if web else None, hl7_port):
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
        if time.time() - started > timeout:
            stop_process(process)
            raise RuntimeError(f"server not up in {timeout:.0f} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return Served(process, url, log, time.time() - started)


def _answers(url: str | None, hl7_port: int | None) -> bool:
    try:
        if url is not None:
            with urllib.request.urlopen(url + "/login", timeout=2):
                pass
        if hl7_port is not None:
            with socket.create_connection(("127.0.0.1", hl7_port), timeout=2):
                pass
        return True
    except OSError:
        return False


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a server the bench started as a person would (Ctrl-C: it commits and closes), killing it only when it
    has not ended within `timeout` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()


def rss_mb(pid: int | None = None) -> float:
    import psutil

    return psutil.Process(pid or os.getpid()).memory_info().rss / 1024 / 1024
