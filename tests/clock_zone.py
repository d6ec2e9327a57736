"""A test's own local time zone: the clock times the pages and exports print are the server's local time, so a test
that reads them fixes the zone (TZ and time.tzset, as the server process would have it) and restores it after."""
from __future__ import annotations

import calendar
import datetime as dt
import os
import time
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def local_zone(name: str) -> Iterator[None]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def utc_epoch(text: str) -> float:
    """'2026-12-08T09:00:00' (UTC) as epoch seconds."""
    return float(calendar.timegm(dt.datetime.fromisoformat(text).timetuple()))
