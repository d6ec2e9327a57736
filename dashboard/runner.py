"""The main job: ingest, the simulated clinic (unless --no-simulator) and the dashboard in one process.

Threads start here, from run_clinic(), never on import.
"""
from __future__ import annotations

import argparse
import logging
import threading
from pathlib import Path

from .engine import Config, load_config
from .ingest import Ingest
from .store import Store


def run_clinic(args: argparse.Namespace) -> int:
    """`python app.py` / `serve`: ingest, optional simulated clinic and the dashboard, until Ctrl-C."""
    from .ui import create_app

    config: Config = load_config(args.config)
    database = Path(args.database)
    store = Store.open(database)
    print(f"Database: {database.resolve()} (SQLite, WAL)", flush=True)
    ingest = Ingest(store, config)
    stop = threading.Event()
    threads: list[threading.Thread] = []
    if not getattr(args, "no_simulator", False):
        from .clinic import Clinic

        clinic = Clinic(store, ingest, speed=args.speed, seed=args.seed)
        rows = clinic.open()
        print(f"Simulated clinic: {len(rows)} chairs at {args.speed:g}x", flush=True)
        ingest.refresh()
        clinic.start(stop)
        threads.append(threading.Thread(target=clinic.supervise, args=(stop,), name="clinic", daemon=True))
    threads.append(threading.Thread(target=ingest.run, args=(stop,), name="ingest", daemon=True))
    for thread in threads:
        thread.start()
    app = create_app(store, config, poll_ms=args.poll_ms)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per poll
    print(f"Dashboard: http://{args.host}:{args.port}/  (Ctrl-C stops)", flush=True)
    try:
        app.run(host=args.host, port=args.port, debug=False)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
        store.close()
    return 0
