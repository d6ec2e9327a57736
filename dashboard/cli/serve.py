"""The dashboard and ingest in one process: devices, the engine, the simulated clinic (unless --no-simulator) and
the web server, until Ctrl-C (or SIGTERM). `python app.py` alone is this with the simulated clinic on
var/clinic.db; it prints the address, the database and one-off demo logins.

With --workers N, the web alone under gunicorn (N worker processes), for production beside `ingest`.

The port is taken first: a port in use stops the program with one line (exit 2) before it opens the database
or starts anything. Restarting on the same database resumes the same sessions.
"""
from __future__ import annotations

import argparse

from .options import add_back_end_options, add_web_options

HELP = "the dashboard on a database, with or without the simulated clinic (the default command)"


def add_clinic_arguments(parser: argparse.ArgumentParser) -> None:
    add_back_end_options(parser)
    add_web_options(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_clinic_arguments(parser)
    production = parser.add_argument_group("production: the web alone under gunicorn (README, Production)")
    production.add_argument("--workers", type=int, metavar="N",
                            help="serve the web alone in N gunicorn worker processes (from the checkout's .venv, "
                                 "from any directory), against the database `ingest` fills; no ingest, devices or "
                                 "simulated clinic in this process")
    production.add_argument("--certfile", metavar="PEM", help="with --workers: serve HTTPS with this certificate")
    production.add_argument("--keyfile", metavar="PEM", help="with --workers: the certificate's private key")


def run(args: argparse.Namespace) -> int:
    if getattr(args, "workers", None) is not None:
        from .workers import run as run_workers

        return run_workers(args)
    from .runner import run_clinic

    return run_clinic(args)
