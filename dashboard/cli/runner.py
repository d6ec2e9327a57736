"""The main job: ingest, devices, the simulated clinic (unless --no-simulator) and the dashboard in one
process (`run_clinic`), or the same back end alone (`run_ingest`) with the web served apart.

Threads start here, from these functions, never on import.
"""
from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..engine import Config, load_config
from ..service.ingest import Ingest
from ..service.replay import ReplayDriver
from ..store import Store

if TYPE_CHECKING:
    from devices.service import Devices

    from ..service.forward import Forwarder


def run_clinic(args: argparse.Namespace) -> int:
    """`python app.py` / `serve`: ingest, devices, optional simulated clinic and the dashboard, until Ctrl-C or
    SIGTERM. The port is taken first: one in use stops the run (exit 2) before anything is written."""
    from .ports import PortError, listen, serve, url

    try:
        sock = listen(args.host, args.port)
    except PortError as exc:
        print(f"app.py: {exc}", file=sys.stderr)
        return 2

    def web(store: Store, config: Config, stop: threading.Event) -> None:
        from ..ui import create_app

        app = create_app(store, config, poll_ms=args.poll_ms)
        gc.freeze()  # as dashboard/wsgi.py: the app's long-lived objects out of the collector's full passes
        signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop: as Ctrl-C, a clean stop
        print(f"Dashboard: {url(args.host, sock)}  (Ctrl-C stops)", flush=True)
        serve(app.server, sock, args.host)

    try:
        return _with_back_end(args, web)
    finally:
        sock.close()  # when the back end did not start (the server closes its own)


def run_ingest(args: argparse.Namespace) -> int:
    """`python app.py ingest`: devices, simulator, replays and the engine without the web, which runs apart
    (e.g. under gunicorn: see dashboard/wsgi.py) against the same store."""
    def wait(_store: Store, _config: Config, stop: threading.Event) -> None:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())  # a service manager's stop: finish the last commit
        print("Ingest running (Ctrl-C stops)", flush=True)
        while not stop.wait(0.5):
            pass

    return _with_back_end(args, wait)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _with_back_end(args: argparse.Namespace, front: Callable[[Store, Config, threading.Event], None]) -> int:
    """Open the store, start the back end, run `front` until it returns or Ctrl-C, then stop it all cleanly.
    Nothing is written before the settings are read and the HL7 port is known to be free."""
    from .ports import PortError, try_port

    config: Config = load_config(args.config)
    if args.hl7_port is not None:
        try:
            try_port(args.hl7_host or "127.0.0.1", args.hl7_port, "the HL7 listener", "--hl7-port")
        except PortError as exc:
            print(f"app.py: {exc}", file=sys.stderr)
            return 2
    limit_malloc_arenas()
    store = _open_store(args)
    stop = threading.Event()
    threads = start_back_end(args, store, config, stop)
    if threads is None:
        store.close()
        return 2
    try:
        front(store, config, stop)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
        store.close()
    return 0


def _open_store(args: argparse.Namespace) -> Store:
    from .location import database_url, describe, open_store

    store = open_store(args)  # --database-url, --database or MONITOR_DATABASE_URL
    print(f"Database: {describe(database_url(args))}", flush=True)  # a password never shows
    print(f"Site: {store.site}", flush=True)
    _audit_config(store, args.config)
    return store


def start_back_end(args: argparse.Namespace, store: Store, config: Config,
                   stop: threading.Event) -> list[threading.Thread] | None:
    """Ingest, devices, the simulated clinic (unless --no-simulator) and replays, started; None for a bad
    device configuration (after saying why)."""
    ingest = Ingest(store, config)
    threads: list[threading.Thread] = []
    devices = _start_devices(args, ingest, stop)
    if devices is None:
        return None
    if not getattr(args, "no_simulator", False):
        from ..service.clinic import Clinic, demo_logins

        for name, password in demo_logins(store).items():  # before the catch-up: hashing takes a second or so,
            print(f"Demo login: {name} / {password}", flush=True)  # which the chairs would then start behind
        clinic = Clinic(store, ingest, speed=args.speed, seed=args.seed, devices=devices.rig)
        ingest.demo = True  # the site's screens show a demo banner and its simulated chairs on the board
        rows = clinic.open()
        print(f"Simulated clinic: {len(rows)} chairs at {args.speed:g}x", flush=True)
        ingest.refresh()
        print(f"Caught up {clinic.catch_up()} simulated readings and events", flush=True)
        clinic.start(stop)
        threads.append(threading.Thread(target=clinic.supervise, args=(stop,), name="clinic", daemon=True))
    threads.append(threading.Thread(target=ingest.run, args=(stop,), name="ingest", daemon=True))
    threads.append(threading.Thread(target=ReplayDriver(store).run, args=(stop,), name="replays", daemon=True))
    forwarder = start_forwarder(args, store)
    if forwarder is not None:
        from ..service.coverage import CoverageSettings
        from ..service.forward import CoverageAlarms

        coverage = CoverageAlarms(store, forwarder, CoverageSettings.from_config(config))
        threads.append(threading.Thread(target=forwarder.run, args=(stop,), name="alarm-forward", daemon=True))
        threads.append(threading.Thread(target=coverage.run, args=(stop,), name="coverage-forward", daemon=True))
    for thread in threads:
        thread.start()
    return threads


def start_forwarder(args: argparse.Namespace, store: Store) -> Forwarder | None:
    """The alarm forwarder of the devices file's [alarm_forward] (its thread is started with the others), or None.
    Technical alarms that are not in the alarm history go out through its `report_technical`."""
    from devices.service import DeviceOptions

    from ..service.forward import Forwarder

    settings = DeviceOptions.from_args(args).config().alarm_forward  # read (and checked) once already by devices
    if settings is None:
        from ..store import forwarding

        forwarding.retire(store, time.time())  # a forwarder that died before must not warn on every screen
        return None
    print(f"Alarm forwarding (IHE PCD-04, MLLP) to {settings.link.host}:{settings.link.port}", flush=True)
    return Forwarder(store, settings)


def _start_devices(args: argparse.Namespace, ingest: Ingest, stop: threading.Event) -> Devices | None:
    """Configured devices (--devices), the HL7 listener (--hl7-port) and the demo rig (--via-devices);
    None, after saying why, for a bad device configuration."""
    from devices.errors import DeviceConfigError
    from devices.service import DeviceOptions, start_devices

    from ..service.clinic import DEMO_CLINIC

    options = DeviceOptions.from_args(args)
    simulated = not getattr(args, "no_simulator", False)
    chairs = [plan.chair for plan in DEMO_CLINIC] if options.via_devices and simulated else []
    try:  # the second half of the demo chairs stand at HL7 monitors, the first half at serial devices
        devices = start_devices(options, ingest, stop, demo_chairs=chairs, demo_hl7_chairs=chairs[len(chairs) // 2:],
                                speed=args.speed, demo_sink=ingest.simulator())
    except (DeviceConfigError, OSError) as exc:
        print(f"Devices: {exc}", file=sys.stderr, flush=True)
        return None
    ingest.on_measure_now = devices.registry.measure_now
    for line in devices.describe():
        print(f"Device: {line}", flush=True)
    return devices


def _audit_config(store: Store, path: Path | None) -> None:
    """Which clinical settings this run uses goes into the audit log: a changed file shows as a new digest."""
    import hashlib

    from ..auth import record

    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16] if path else "defaults"
    record(store, "system", "config_loaded", f"{path or 'built-in defaults'} sha256:{digest}")


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's per-thread malloc arenas before threads start. With one thread per request and per chair,
    glibc kept freed memory in many arenas and RSS stepped up ~50 MB over a simulated day while live memory
    stayed flat; capped, it stays flat (bench/RESULTS.md, memory_day)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # -8 = M_ARENA_MAX
    except (OSError, AttributeError):
        pass  # not glibc: nothing to cap
