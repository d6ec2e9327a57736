"""Write a stored session out, to --out FILE or to standard output (a PDF is never written to a terminal).

    python app.py export 12 --format pdf --out session-12.pdf
    python app.py export 12 --format feed > session-12.csv      (then `check` or `replay` it again)
    python app.py export 12 --format actions > actions-12.csv   (with the feed: `check --actions` reproduces it)

SESSION is the session's number (the review page and the session page show it). Messages and file names name the
session by its number only, never the patient's label. Exits 2, saying why, for a session or database that is
not there.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..reports.exports import FORMATS, HL7_VERSIONS
from ..reports.exports.selection import DEFAULT_EVERY_S
from .options import add_config_option, add_database_options

if TYPE_CHECKING:
    from ..store import Store

HELP = "write a stored session out: feed, csv, actions, pdf, fhir or hl7"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", type=int, metavar="SESSION", help="the session's number")
    parser.add_argument("--format", choices=tuple(FORMATS), default="feed",
                        help="; ".join(f"{f.name}: {f.what}" for f in FORMATS.values()) + " (default feed)")
    parser.add_argument("--out", type=Path, metavar="FILE", help="file to write (default: standard output)")
    parser.add_argument("--every", type=float, default=DEFAULT_EVERY_S, metavar="SECONDS",
                        help=f"fhir/hl7: one continuous HR/SpO2 sample per SECONDS (default {DEFAULT_EVERY_S:g}; "
                             "0 = every sample); every BP reading and the sample behind every alarm are always "
                             "exported")
    parser.add_argument("--hl7-version", choices=HL7_VERSIONS, default=HL7_VERSIONS[-1],
                        help="hl7: the version written in MSH-12 and followed (default %(default)s)")
    add_config_option(parser, "pdf, fhir: the settings the report names")
    add_database_options(parser)


def run(args: argparse.Namespace) -> int:
    import sys

    from .location import missing_database

    if problem := missing_database(args):
        print(f"export: {problem}", file=sys.stderr)
        return 2
    if args.format == "feed":
        return _feed(args)
    if FORMATS[args.format].media_type == "application/pdf" and args.out is None and sys.stdout.isatty():
        print("export: a PDF is not written to a terminal; give --out FILE", file=sys.stderr)
        return 2
    from ..engine import ConfigError, load_config
    from ..reports.exports import SessionNotFound, export_session
    from .location import open_store

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 2
    store = open_store(args)
    try:
        done = export_session(store, config, args.session, args.format, every_s=args.every,
                              hl7_version=args.hl7_version)
        _audit(store, args)
    except SessionNotFound as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    if args.out is None:
        sys.stdout.buffer.write(done.content)
        sys.stdout.flush()
        return 0
    args.out.write_bytes(done.content)
    print(f"Wrote session {args.session} as {args.format} to {args.out} ({len(done.content):,} bytes)", file=sys.stderr)
    return 0


def _feed(args: argparse.Namespace) -> int:
    """The feed is streamed (dashboard/reports/exports/feed_file.py) and says which alarm actions it leaves out."""
    import sys

    from ..reports.exports.feed_file import ExportError, export_feed
    from .location import open_store

    store = open_store(args)
    try:
        result = export_feed(store, args.session, args.out or sys.stdout)
        _audit(store, args)
    except ExportError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    if args.out:
        print(f"Wrote {result.rows} row(s) to {args.out}" + (f"; {result.left_out} alarm action(s) left out"
                                                            if result.left_out else ""), file=sys.stderr)
    return 0


def _audit(store: Store, args: argparse.Namespace) -> None:
    """A read of patient data from the command line is audited as the web's export is (the same action name)."""
    from ..auth import record

    where = args.out.name if args.out else "standard output"
    record(store, "command line", "export", f"{args.format}: {where}", session_id=args.session)
