"""Options several commands share: where the store is, the site, the simulated clinic, devices, the web, logging.

Light on purpose (argparse and the standard library only): every `--help` builds these.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..sites import DEFAULT_SITE, SITE_ENV, site_name

DEFAULT_DB = Path("var/clinic.db")
DATABASE_URL_ENV = "MONITOR_DATABASE_URL"
DEFAULT_PORT = 8050
LOG_LEVEL_ENV = "MONITOR_LOG_LEVEL"


class _PathGiven(argparse.Action):
    """--database PATH, remembering that it was given (so it beats MONITOR_DATABASE_URL)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # type: ignore[no-untyped-def]
        setattr(namespace, self.dest, Path(values))
        namespace.database_given = True


def add_database_options(parser: argparse.ArgumentParser, default: Path = DEFAULT_DB) -> None:
    """--database PATH, --database-url URL (resolved by dashboard/cli/location.py)."""
    group = parser.add_argument_group("database")
    group.add_argument("--database", type=Path, default=default, action=_PathGiven, metavar="PATH",
                       help=f"SQLite file (default {default})")
    group.add_argument("--database-url", metavar="URL",
                       help="SQLAlchemy URL of the database instead, e.g. postgresql://monitor@dbhost/monitor "
                            f"(wins over --database; default ${DATABASE_URL_ENV} when --database is not given). "
                            "Keep passwords in ~/.pgpass, not in the URL")


def add_site_option(parser: argparse.ArgumentParser) -> None:
    def parse(text: str) -> str:
        try:
            return site_name(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parser.add_argument("--site", type=parse, default=None, metavar="NAME",
                        help=f"the clinic this process serves when several share a database: its chairs, "
                             f"sessions and ingest (default ${SITE_ENV}, else {DEFAULT_SITE})")


def add_config_option(parser: argparse.ArgumentParser, what: str = "") -> None:
    parser.add_argument("--config", type=Path, metavar="TOML",
                        help="clinic settings overriding dashboard/engine/defaults.toml (README, Settings)"
                             + (f"; {what}" if what else ""))


def add_back_end_options(parser: argparse.ArgumentParser) -> None:
    """What the clinic and ingest share: the store, the site, settings, the simulated clinic and devices."""
    add_database_options(parser)
    add_site_option(parser)
    add_config_option(parser)
    parser.add_argument("--no-simulator", action="store_true", help="simulate no chairs (real devices only)")
    clinic = parser.add_argument_group("simulated clinic (4 demo chairs, with demo logins)")
    clinic.add_argument("--speed", type=float, default=1.0,
                        help="simulated clinic time per wall second (default 1 = real time)")
    clinic.add_argument("--seed", type=int, default=7, help="seed of the simulated clinic (default 7)")
    devices = parser.add_argument_group("devices")
    devices.add_argument("--devices", type=Path, metavar="FILE",
                         help="device configuration TOML: serial devices per chair, HL7 listener (docs/devices.md)")
    devices.add_argument("--hl7-port", type=int, metavar="PORT", help="listen for HL7 ORU^R01 over MLLP on PORT")
    devices.add_argument("--hl7-host", metavar="ADDRESS",
                         help="address the HL7 listener binds (default 127.0.0.1; 0.0.0.0 for monitors on the network)")
    devices.add_argument("--via-devices", action="store_true",
                         help="run the simulated clinic through device emulators and the real adapters "
                              "(serial ptys and HL7/MLLP)")


def add_web_options(parser: argparse.ArgumentParser) -> None:
    web = parser.add_argument_group("web")
    web.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; see README, Production)")
    web.add_argument("--port", type=int, default=DEFAULT_PORT,
                     help=f"port (default {DEFAULT_PORT}; 0 = any free port, printed at start). A port in use "
                          "stops the program before it writes anything (exit 2)")
    web.add_argument("--poll-ms", type=int, default=1000, help="board refresh interval in ms (default 1000)")


def add_logging_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """-v on the top-level parser and on each command (`app.py -v export ...` and `app.py export ... -v` both
    work: a command's copy leaves the top-level count alone unless given)."""
    parser.add_argument("-v", "--verbose", action="count", default=0 if top else argparse.SUPPRESS,
                        help=f"more log lines: -v shows the libraries' INFO lines too, -vv everything at DEBUG "
                             f"(default: this program's INFO, the libraries' warnings; or ${LOG_LEVEL_ENV}=LEVEL)")
