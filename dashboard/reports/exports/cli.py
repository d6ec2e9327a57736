"""`app.py export SESSION --format csv|actions|pdf|fhir|hl7 [--hl7-version 2.5|2.6] [--out FILE]` (the feed format is dashboard/export.py's).

Writes to --out, or to standard output; a PDF is never written to a terminal.
Messages name the session by id only.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...engine import ConfigError, load_config
from ...store.location import missing_database, open_store
from . import FORMATS, SessionNotFound, export_session
from .hl7_message import HL7_VERSIONS
from .selection import DEFAULT_EVERY_S


def add_options(parser: argparse.ArgumentParser) -> None:
    """The options the clinical formats add to `export`."""
    parser.add_argument("--every", type=float, default=DEFAULT_EVERY_S, metavar="SECONDS",
                        help=f"fhir/hl7: one continuous HR/SpO2 sample per SECONDS (default {DEFAULT_EVERY_S:g}; "
                             "0 = every sample); every BP reading is always exported")
    parser.add_argument("--config", type=Path, help="pdf, fhir: clinic settings TOML overriding the defaults")
    parser.add_argument("--hl7-version", choices=HL7_VERSIONS, default=HL7_VERSIONS[-1],
                        help="hl7: the version written in MSH-12 and followed (default %(default)s)")


def format_help() -> str:
    return "; ".join(f"{f.name}: {f.what}" for f in FORMATS.values())


def run_export(args: argparse.Namespace) -> int:
    if problem := missing_database(args):
        print(f"export: {problem}", file=sys.stderr)
        return 2
    if args.format == "pdf" and args.out is None and sys.stdout.isatty():
        print("export: a PDF is not written to a terminal; give --out FILE", file=sys.stderr)
        return 2
    try:
        config = load_config(getattr(args, "config", None))
    except ConfigError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 2
    store = open_store(args)
    try:
        done = export_session(store, config, args.session, args.format, every_s=args.every,
                              hl7_version=getattr(args, "hl7_version", HL7_VERSIONS[-1]))
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
