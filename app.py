"""Command line of the session vital-signs monitor.

    python app.py                 the dashboard with a simulated clinic (SQLite)
    python app.py serve ...       the dashboard on an existing database
    python app.py check FEED.csv  run the engine over a feed; --json for one object a line

Each subcommand has --help. Nothing starts on import: threads and servers
start from main().
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

DEFAULT_DB = Path("var/clinic.db")
DEFAULT_PORT = 8050


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.func(args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="app.py", description="Vital-signs monitor for ketamine and "
                                     "esketamine sessions. Without a subcommand: the simulated clinic.")
    _add_clinic_options(parser)
    parser.set_defaults(func=_run_clinic)
    sub = parser.add_subparsers(title="subcommands")

    serve = sub.add_parser("serve", help="the dashboard on a database, with or without the simulated clinic")
    _add_clinic_options(serve)
    serve.add_argument("--no-simulator", action="store_true", help="serve the database only; simulate no chairs")
    serve.set_defaults(func=_run_clinic)

    check = sub.add_parser("check", help="run the engine over a feed CSV and print the alarm transitions")
    check.add_argument("feed", type=Path, help="feed CSV (see DESIGN.md)")
    check.add_argument("--config", type=Path, help="clinic settings TOML overriding the defaults")
    check.add_argument("--json", action="store_true", help="one JSON object a line")
    check.add_argument("--actions", type=Path, help="CSV of people's actions (offset_s,action,who,detail): "
                       "acknowledge, audio_pause, override")
    check.set_defaults(func=_run_check)
    return parser


def _add_clinic_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", type=Path, default=DEFAULT_DB, help=f"SQLite file (default {DEFAULT_DB})")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--config", type=Path, help="clinic settings TOML overriding the defaults")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="simulated clinic time per wall second (default 1 = real time)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated clinic (default 7)")
    parser.add_argument("--poll-ms", type=int, default=1000, help="board refresh interval (default 1000)")


def _run_check(args: argparse.Namespace) -> int:
    from dashboard.check import run_check
    from dashboard.engine import ConfigError, load_config
    from devices.feed import FeedError

    try:
        result = run_check(args.feed, load_config(args.config), args.actions)
    except (FeedError, ConfigError) as exc:
        print(f"{args.feed}: {exc}", file=sys.stderr)
        return 2
    for problem in result.problems:
        print(f"{args.feed}: {problem} (row skipped)", file=sys.stderr)
    for t in result.transitions:
        if args.json:
            print(json.dumps(t.to_dict()))
        else:
            where = f" [{t.source}]" if t.source else ""
            print(f"{_clock(t.offset_s):>8}  {t.state:<7} {t.priority:<6} {t.code}{where}  {t.value}  {t.message}")
    return 0


def _run_clinic(args: argparse.Namespace) -> int:
    from dashboard.runner import run_clinic

    return run_clinic(args)


def _clock(offset_s: float) -> str:
    minutes, seconds = divmod(int(offset_s), 60)
    return f"{minutes}:{seconds:02d}"


if __name__ == "__main__":
    sys.exit(main())
