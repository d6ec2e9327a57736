"""The web alone, for a WSGI server with several workers, against the store `python app.py ingest` fills:

    MONITOR_DATABASE=var/clinic.db gunicorn --workers 4 --bind 127.0.0.1:8050 dashboard.wsgi:server

Settings come from the environment (MONITOR_DATABASE_URL, e.g. postgresql://..., or MONITOR_DATABASE, a SQLite
file; MONITOR_SITE, the clinic whose chairs this web shows; MONITOR_CONFIG, MONITOR_POLL_MS, MONITOR_SECRET_KEY or
MONITOR_SECRET_FILE, MONITOR_SESSION_IDLE_MIN, ...).
Workers share nothing but the database, so any number can run; no thread is started here. Give every worker the
same secret (env or file) so a sign-in holds whichever worker answers.
"""
from __future__ import annotations

import gc
import os
from pathlib import Path

from .cli.location import site_from_env
from .engine import load_config
from .store import Store, StoreError
from .ui import create_app

_site = site_from_env()
_url = os.environ.get("MONITOR_DATABASE_URL")
if _url is not None and not _url.strip():  # never the default file in its place
    raise StoreError("MONITOR_DATABASE_URL is set but empty: give the database's URL, or unset it for the SQLite file")
_store = Store(_url, _site) if _url else Store.open(Path(os.environ.get("MONITOR_DATABASE", "var/clinic.db")), _site)
app = create_app(_store, load_config(os.environ.get("MONITOR_CONFIG") or None),  # key: MONITOR_SECRET_KEY or _FILE
                 poll_ms=int(os.environ.get("MONITOR_POLL_MS", "1000")))
server = app.server
# Dash, plotly and the app are ~150k objects that live as long as the worker: keep them out of the collector's
# full passes, which otherwise stalled a board poll for 60-300 ms every ~8 s under load.
gc.freeze()
