#!/usr/bin/env python3
"""Session vital-signs monitor: `python app.py --help`, `python app.py COMMAND --help`.

The commands live in dashboard/cli/, one module each. This file only finds the project's Python: run by
another interpreter while `.venv` (made by `make setup` or `make run`) exists, it runs itself again with
.venv/bin/python, same arguments; with no `.venv` and the monitor's packages missing, it says to run
`make setup`. It stays readable by old Pythons so that they get one clear line, not a traceback.
"""
import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(ROOT, ".venv")
NEEDS = (3, 11)


def main(argv=None):
    """The command line (tests call this in-process); returns the exit status."""
    from dashboard.cli import main as cli_main

    return cli_main(argv)


def _in_venv():
    return os.path.realpath(sys.prefix) == os.path.realpath(VENV)


def _use_project_python():
    """Re-run with .venv/bin/python when it exists and this interpreter is not it. An interpreter that is itself
    a virtual environment (a developer's, the test suite's) is used as it is."""
    python = os.path.join(VENV, "bin", "python")
    if _in_venv() or sys.prefix != getattr(sys, "base_prefix", sys.prefix) or not os.path.exists(python):
        return
    flags = ["-W" + option for option in sys.warnoptions]
    flags += ["-X" + (key if value is True else key + "=" + str(value)) for key, value in sys._xoptions.items()]
    try:
        os.execv(python, [python] + flags + [os.path.abspath(sys.argv[0])] + sys.argv[1:])
    except OSError as exc:
        sys.stderr.write("app.py: cannot run %s (%s): run `make setup` to rebuild .venv\n" % (python, exc))
        sys.exit(2)


def _check_packages():
    """One line instead of a traceback when no .venv exists and this Python lacks what the monitor needs."""
    import importlib.util

    if not os.path.exists(VENV) and any(importlib.util.find_spec(name) is None for name in ("dash", "sqlalchemy")):
        sys.stderr.write("app.py: the monitor's packages are not installed here (no .venv): run `make setup` "
                         "(or `make run`) first; then `python app.py ...` uses .venv by itself.\n")
        sys.exit(2)


def _check_python():
    if sys.version_info < NEEDS:
        sys.stderr.write("app.py: the monitor needs Python %d.%d or newer; this is %s (%s). Install it and run "
                         "`make setup` (or `make setup PYTHON=python3.11`), then `python app.py` uses .venv.\n"
                         % (NEEDS + (sys.version.split()[0], sys.executable)))
        sys.exit(2)


if __name__ == "__main__":
    _use_project_python()
    _check_python()
    _check_packages()
    sys.exit(main())
