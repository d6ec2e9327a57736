"""The command line: `python app.py [COMMAND] [OPTIONS]`, one module per command in this package.

Adding a command is one module and one line: write `dashboard/cli/NAME.py` with

    HELP = "one line for `app.py --help`"                      (its docstring is the command's --help text)
    def add_arguments(parser: argparse.ArgumentParser) -> None  (standard library and light modules only)
    def run(args: argparse.Namespace) -> int                    (imports what it needs when it runs)

and add NAME to COMMANDS below. Every `--help` imports all these modules, so a module imports dash, pandas,
SQLAlchemy, plotly, numpy or pyserial only inside `run` (tests/cli/test_cli.py checks that `--help` loads none).
Without a command, app.py runs the simulated clinic (`serve`'s run with the top-level options).
"""
from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from .logs import setup_logging
from .options import add_logging_options

COMMANDS = ("serve", "ingest", "check", "replay", "regress", "users", "db", "audit", "emulate", "record", "export",
            "simulate", "rems")
# Errors a command may leave to this level: one line on stderr and exit 2, never a traceback. Imported on use.
_EXPECTED_ERRORS = (("dashboard.store", "StoreError"), ("dashboard.engine", "ConfigError"))


def command(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")


def parser() -> argparse.ArgumentParser:
    serve = command("serve")
    top = argparse.ArgumentParser(
        prog="app.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Vital-signs monitor for ketamine and esketamine sessions.\n\nWithout a command: the "
                    "dashboard with a simulated clinic of 4 chairs on var/clinic.db (the options below).",
        epilog="Each command has --help (python app.py COMMAND --help). Outside .venv, app.py runs itself "
               "with .venv/bin/python; `make setup` makes .venv.")
    sub = top.add_subparsers(title="commands", metavar="COMMAND")  # listed first in --help
    serve.add_clinic_arguments(top)
    add_logging_options(top, top=True)
    top.set_defaults(func=serve.run)
    for name in COMMANDS:
        module = command(name)
        parser_ = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(parser_)
        add_logging_options(parser_, top=False)
        parser_.set_defaults(func=module.run)
    return top


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
        setup_logging(args.verbose)
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] in ("dashboard", "devices"):
            raise  # ours: a bug, with its traceback
        print(f"app.py: this Python ({sys.executable}) lacks {exc.name}, which the monitor needs: run `make setup` "
              "(then `python app.py` uses .venv by itself)", file=sys.stderr)
        return 2
    except Exception as exc:  # a database upgraded by a newer version, a server that does not answer...
        expected = tuple(getattr(sys.modules[module], name) for module, name in _EXPECTED_ERRORS
                         if module in sys.modules)
        if not isinstance(exc, expected):
            raise
        print(f"app.py: {exc}", file=sys.stderr)
        return 2
