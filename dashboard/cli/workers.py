"""`python app.py serve --workers N`: the web alone, in N gunicorn worker processes, against the store that
`python app.py ingest` fills (the production layout: README, Production).

gunicorn runs from the same Python as this program (the checkout's .venv: app.py switches to it), with the
checkout on its path and deploy/gunicorn.conf.py as its settings, so it starts from any directory. The options
become the environment dashboard/wsgi.py reads; this process becomes gunicorn (exec), so a service manager's
signals reach gunicorn itself.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"


def command_line(args: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    """gunicorn's argv and environment for these options."""
    import sqlalchemy as sa

    from .location import database_url, site_of
    from .options import DATABASE_URL_ENV

    url = sa.engine.make_url(database_url(args))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database).resolve()  # as given, from here: gunicorn's workers may look from elsewhere
        path.parent.mkdir(parents=True, exist_ok=True)
        url = url.set(database=str(path))
    env = {**os.environ, DATABASE_URL_ENV: url.render_as_string(hide_password=False), "MONITOR_SITE": site_of(args),
           "MONITOR_POLL_MS": str(args.poll_ms)}
    if args.config:
        env["MONITOR_CONFIG"] = str(Path(args.config).resolve())
    host = f"[{args.host}]" if ":" in args.host else args.host
    argv = [sys.executable, "-m", "gunicorn", "--config", str(CONFIG), "--pythonpath", str(ROOT),
            "--workers", str(args.workers), "--bind", f"{host}:{args.port}"]
    if args.certfile:
        argv += ["--certfile", str(Path(args.certfile).resolve()), "--keyfile", str(Path(args.keyfile).resolve())]
        env.setdefault("MONITOR_HTTPS", "1")  # the cookie only over TLS
    return argv, env


def run(args: argparse.Namespace) -> int:
    """Check what can be checked here (one line, exit 2), then become gunicorn."""
    from .ports import PortError, try_port

    if args.hl7_port is not None or args.devices is not None:
        print("serve --workers: the web alone; devices and the HL7 listener belong to `python app.py ingest`",
              file=sys.stderr)
        return 2
    if args.workers < 1 or bool(args.certfile) != bool(args.keyfile):
        print("serve --workers: N of at least 1, and --certfile with --keyfile (both or neither)", file=sys.stderr)
        return 2
    try:
        try_port(args.host, args.port, "the dashboard", "--port")
    except PortError as exc:
        print(f"app.py: {exc}", file=sys.stderr)
        return 2
    argv, env = command_line(args)
    sys.stdout.flush()
    os.execve(argv[0], argv, env)
    return 0  # not reached: exec replaced this process
