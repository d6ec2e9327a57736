"""Devices, the simulated clinic (unless --no-simulator), replays and the engine, without the web: the web runs
apart against the same database (production: gunicorn dashboard.wsgi:server; see README). Runs until Ctrl-C or
SIGTERM, then commits what it holds. Run one ingest per site: it writes its site's timers and alarms, and a
heartbeat the screens (and `replay`) watch.
"""
from __future__ import annotations

import argparse

from .options import add_back_end_options

HELP = "devices, simulator and engine without the web (production: the web runs under gunicorn; see README)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_back_end_options(parser)


def run(args: argparse.Namespace) -> int:
    from .runner import run_ingest

    return run_ingest(args)
