"""Sites: clinics sharing one database, each with its own chairs, sessions and ingest node, told apart by name.

Kept free of heavy imports: the command line's --help reads the default from here.
"""
from __future__ import annotations

import re

DEFAULT_SITE = "main"  # the site of every session stored before sites existed (migration 0003)
SITE_ENV = "MONITOR_SITE"
_SITE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")  # fits sessions.site; safe in logs and node names


def site_name(text: str) -> str:
    """A site name as given, or ValueError saying what one looks like."""
    if not _SITE_NAME.fullmatch(text):
        raise ValueError(f"site {text!r}: 1-40 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return text
