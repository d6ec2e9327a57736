"""Log lines: this program's at INFO, one line per fact; the libraries' (alembic, werkzeug, dash,
fontTools...) only from WARNING unless asked: `-v` shows their INFO lines too, `-vv` everything
at DEBUG, and MONITOR_LOG_LEVEL=LEVEL (DEBUG, INFO, WARNING, ERROR) sets everything, this program included."""
from __future__ import annotations

import logging
import os
import sys

from .options import LOG_LEVEL_ENV

OURS = ("dashboard", "devices")
SELF_LEVELLING = ("werkzeug",)  # sets itself to INFO (a line per request) when its level is left unset
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def levels(verbose: int, env: str | None) -> tuple[int, int]:
    """(this program's level, the libraries' level) for -v count `verbose` and MONITOR_LOG_LEVEL `env`."""
    if verbose >= 2:
        return logging.DEBUG, logging.DEBUG
    if verbose == 1:
        return logging.INFO, logging.INFO
    if env:
        level = logging.getLevelName(env.strip().upper())
        if isinstance(level, int):
            return level, level
        print(f"app.py: {LOG_LEVEL_ENV}={env!r} is not a level (DEBUG, INFO, WARNING, ERROR); using the default",
              file=sys.stderr)
    return logging.INFO, logging.WARNING


def setup_logging(verbose: int = 0) -> None:
    ours, libraries = levels(verbose, os.environ.get(LOG_LEVEL_ENV))
    logging.basicConfig(level=libraries, format=FORMAT, stream=sys.stderr)
    logging.getLogger().setLevel(libraries)  # also when something configured logging before us
    for name in OURS:
        logging.getLogger(name).setLevel(ours)
    for name in SELF_LEVELLING:
        logging.getLogger(name).setLevel(libraries)
