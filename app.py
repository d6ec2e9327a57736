"""Command line of the session vital-signs monitor.

    python app.py                 the dashboard with a simulated clinic (SQLite)
    python app.py serve ...       the dashboard on an existing database
    python app.py check FEED.csv  run the engine over a feed; --json for one object a line
    python app.py emulate suntech|nonin|hl7 ...   an emulated device (pty path or MLLP sender)
    python app.py record ...      a configured device's readings to a feed CSV (--raw: byte capture)
    python app.py export SESSION --format feed    a stored session as a feed CSV

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
    from dashboard.store import StoreError

    try:
        return int(args.func(args) or 0)
    except StoreError as exc:  # e.g. a database upgraded by a newer version, or a server that does not answer
        print(f"app.py: {exc}", file=sys.stderr)
        return 2


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

    ingest = sub.add_parser("ingest", help="devices, simulator and engine without the web (production: the web "
                                           "runs under gunicorn against the same database; see README)")
    _add_clinic_options(ingest)
    ingest.add_argument("--no-simulator", action="store_true", help="simulate no chairs")
    ingest.set_defaults(func=_run_ingest)

    check = sub.add_parser("check", help="run the engine over a feed CSV and print the alarm transitions")
    check.add_argument("feed", type=Path, help="feed CSV (docs/feed-format.md; alarm codes: docs/alarms.md)")
    check.add_argument("--config", type=Path, help="clinic settings TOML overriding the defaults")
    check.add_argument("--json", action="store_true", help="one JSON object a line")
    check.add_argument("--actions", type=Path, help="CSV of people's actions (offset_s,action,who,detail): "
                       "acknowledge, audio_pause, override; `export --format actions` writes one")
    check.set_defaults(func=_run_check)

    from dashboard import regress, replay_cli, users_cli
    from dashboard.store import migrate

    replay_cli.add_parser(sub)
    regress.add_parser(sub)
    users_cli.add_parser(sub)
    migrate.add_parser(sub)
    _add_device_commands(sub)
    _add_simulate(sub)
    return parser


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    """`simulate`: feed CSVs from the physiological model (devices/simulate_cli.py)."""
    from devices import simulate_cli

    simulate_cli.add_parser(sub)


def _add_clinic_options(parser: argparse.ArgumentParser) -> None:
    from dashboard.store.location import add_database_options, add_site_option

    add_database_options(parser, DEFAULT_DB)  # --database PATH, --database-url URL
    add_site_option(parser)  # --site NAME: clinics sharing one database
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--config", type=Path, help="clinic settings TOML overriding the defaults")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="simulated clinic time per wall second (default 1 = real time)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated clinic (default 7)")
    parser.add_argument("--poll-ms", type=int, default=1000, help="board refresh interval (default 1000)")
    _add_device_options(parser)


def _add_device_options(parser: argparse.ArgumentParser) -> None:
    devices = parser.add_argument_group("devices")
    devices.add_argument("--devices", type=Path, metavar="FILE",
                         help="device configuration TOML: serial devices per chair, HL7 listener (docs/devices.md)")
    devices.add_argument("--hl7-port", type=int, metavar="PORT", help="listen for HL7 ORU^R01 over MLLP on PORT")
    devices.add_argument("--hl7-host", metavar="ADDRESS",
                         help="address the HL7 listener binds (default 127.0.0.1; 0.0.0.0 for monitors on the network)")
    devices.add_argument("--via-devices", action="store_true",
                         help="run the simulated clinic through device emulators and the real adapters "
                              "(serial ptys and HL7/MLLP)")


def _add_device_commands(sub: argparse._SubParsersAction) -> None:
    emulate = sub.add_parser("emulate", help="an emulated device: SunTech or Nonin on a pty, or an HL7 sender")
    emulate.add_argument("kind", choices=("suntech", "nonin", "hl7"))
    source = emulate.add_argument_group("source (default: the simulator)")
    source.add_argument("--scenario", default="esketamine-84-quiet", help="simulator scenario")
    source.add_argument("--seed", type=int, default=7, help="simulator seed (default 7)")
    source.add_argument("--feed", type=Path, help="a feed CSV instead of the simulator")
    source.add_argument("--replay", type=Path, help="a raw capture (app.py record --raw) replayed at its pace")
    source.add_argument("--speed", type=float, default=1.0, help="session seconds per wall second (default 1)")
    emulate.add_argument("--duration", type=float, help="stop after this many seconds (default: Ctrl-C)")
    serial = emulate.add_argument_group("suntech and nonin")
    serial.add_argument("--link", type=Path, help="also make this symlink to the pty (a stable path)")
    serial.add_argument("--tcp", type=int, metavar="PORT", help="serve on 127.0.0.1:PORT (socket://) instead of a pty")
    serial.add_argument("--measure-s", type=float, default=5.0, help="suntech: how long a measurement takes (default 5)")
    hl7 = emulate.add_argument_group("hl7")
    hl7.add_argument("--to", default="127.0.0.1:2575", help="listener HOST:PORT (default 127.0.0.1:2575)")
    hl7.add_argument("--location", default="CHAIR3", help="PV1-3 point of care (default CHAIR3)")
    hl7.add_argument("--mrn", default="MRN12345", help="PID-3 (default MRN12345)")
    hl7.add_argument("--style", choices=("mdc", "philips", "loinc", "tags", "kpa"), default="mdc",
                     help="observation ids: IEEE 11073 MDC, Philips MDIL, LOINC, local tags in OBX-4, MDC in kPa")
    hl7.add_argument("--segment-end", choices=("cr", "lf", "crlf"), default="cr")
    hl7.add_argument("--no-zone", action="store_true", help="timestamps in local time without a zone")
    emulate.set_defaults(func=_run_emulate)

    record = sub.add_parser("record", help="read a configured device and write a feed CSV")
    record.add_argument("--devices", type=Path, required=True, help="device configuration TOML (docs/devices.md)")
    record.add_argument("--device", required=True, help="device label in the file (nibp, oximeter...) or hl7")
    record.add_argument("--chair", help="the chair whose device to read (hl7: only this chair's messages)")
    record.add_argument("--out", type=Path, required=True, help="feed CSV to write")
    record.add_argument("--raw", type=Path, help="also write a raw byte capture with timestamps (for emulate --replay)")
    record.add_argument("--duration", type=float, help="stop after this many seconds (default: Ctrl-C)")
    record.set_defaults(func=_run_record)

    from dashboard.store.location import add_database_options

    export = sub.add_parser("export", help="write a stored session out")
    export.add_argument("session", type=int, help="session id")
    from dashboard.reports.exports import FORMATS, cli as export_cli

    export.add_argument("--format", choices=tuple(FORMATS), default="feed", help=export_cli.format_help())
    export_cli.add_options(export)
    add_database_options(export, DEFAULT_DB)
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    export.set_defaults(func=_run_export)


def _run_emulate(args: argparse.Namespace) -> int:
    from devices.commands import run_emulate

    return run_emulate(args)


def _run_record(args: argparse.Namespace) -> int:
    from devices.commands import run_record

    return run_record(args)


def _run_export(args: argparse.Namespace) -> int:
    from dashboard.export import ExportError, export_feed
    from dashboard.store.location import missing_database, open_store

    if args.format != "feed":  # the clinical formats: csv, actions, pdf, fhir, hl7
        from dashboard.reports.exports.cli import run_export

        return run_export(args)

    if problem := missing_database(args):
        print(f"export: {problem}", file=sys.stderr)
        return 2
    store = open_store(args)
    try:
        result = export_feed(store, args.session, args.out or sys.stdout)
    except ExportError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    if args.out:
        print(f"Wrote {result.rows} row(s) to {args.out}" + (f"; {result.left_out} alarm action(s) left out"
                                                            if result.left_out else ""), file=sys.stderr)
    return 0


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


def _run_ingest(args: argparse.Namespace) -> int:
    from dashboard.runner import run_ingest

    return run_ingest(args)


def _clock(offset_s: float) -> str:
    minutes, seconds = divmod(int(offset_s), 60)
    return f"{minutes}:{seconds:02d}"


if __name__ == "__main__":
    sys.exit(main())
